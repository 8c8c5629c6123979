// `patrol record`: a recording reverse proxy. Every interaction is redacted and journalled as it
// completes; Ctrl-C (or SIGTERM) turns the journal into the HAR cassette.
#include <sys/resource.h>

#include <iostream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/recorder_common.hpp"
#include "app/version.hpp"
#include "recorder/proxy.hpp"
#include "recorder/writer.hpp"

namespace patrol::app {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"upstream", true, false, "where to forward (http:// or https:// URL)", "URL"},
    {"listen", true, false, "address to serve on (default 127.0.0.1:0, a free port)", "ADDR"},
    {"out", true, false, "cassette to write (HAR 1.2); its journal is OUT.journal", "FILE"},
    {"recover", false, false, "only turn a leftover OUT.journal into OUT, then exit"},
    {"overwrite", false, false, "replace OUT if it exists"},
    {"fixture", true, false,
     "accounts whose passwords/codes get named placeholders (default: built-in)", "FILE"},
    {"durable", false, false, "fsync each interaction before answering the client"},
    {"threads", true, false,
     "worker threads: exchanges with an https upstream at once, and --durable appends "
     "(default 64; connections are not limited by it)",
     "N"},
    {"ca-file", true, false, "PEM bundle to verify an https upstream", "FILE"},
};

// Each client costs the proxy two descriptors (its connection and one upstream), and a soft
// limit of 1024 would refuse clients long before anything else runs out: raise it to the hard one.
void raise_descriptor_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

void usage(std::ostream& out) {
  out << "usage: patrol record --upstream URL --out FILE.har [--listen ADDR] [options]\n"
         "       patrol record --recover --out FILE.har\n\n"
         "Forwards every request to URL byte-exact and records it, secrets redacted. Prints the\n"
         "address it listens on; Ctrl-C or SIGTERM finishes the cassette.\n\n"
      << format_options(kOptions);
}

}  // namespace

int run_record(int argc, char** argv) {
  auto invocation = parse_command_line("record", kOptions, usage, argc, argv);
  if (!invocation.args) return invocation.exit_status;
  const auto args = &*invocation.args;
  auto out = args->value("out");
  if (!out || !args->positionals().empty()) {
    std::cerr << "patrol record: "
              << (out ? "unexpected argument '" + args->positionals()[0] + "'"
                      : std::string("--out FILE is required"))
              << "\n";
    usage(std::cerr);
    return kExitUsage;
  }
  if (args->has("recover")) {
    auto report = recorder::recover_journal(*out);
    if (!report.ok()) {
      std::cerr << "patrol record: " << *out << ": " << report.error().message << "\n";
      return kExitUsage;
    }
    if (!report->had_journal) {
      std::cout << "patrol record: no journal beside " << *out << "; nothing to recover\n";
    } else {
      std::cout << "patrol record: recovered " << report->entries << " interactions into " << *out;
      if (report->torn_bytes > 0) {
        std::cout << " (dropped an incomplete last line of " << report->torn_bytes << " bytes)";
      }
      std::cout << "\n";
    }
    return kExitOk;
  }
  auto upstream = args->value("upstream");
  if (!upstream) {
    std::cerr << "patrol record: --upstream URL is required\n";
    return kExitUsage;
  }
  auto listen = recorder::parse_listen_address(args->value("listen").value_or("127.0.0.1:0"));
  auto threads = args->integer("threads", 64);
  auto fixture = load_fixture(args->value("fixture"));
  for (const model::Error* e :
       {listen.ok() ? nullptr : &listen.error(), threads.ok() ? nullptr : &threads.error(),
        fixture.ok() ? nullptr : &fixture.error()}) {
    if (e != nullptr) {
      std::cerr << "patrol record: " << e->message << "\n";
      return kExitUsage;
    }
  }
  if (*threads < 1 || *threads > 4096) {
    std::cerr << "patrol record: --threads must be 1..4096\n";
    return kExitUsage;
  }

  block_stop_signals();
  raise_descriptor_limit();
  recorder::WriterOptions wo;
  wo.info.creator_name = "patrol";
  wo.info.creator_version = kVersion;
  wo.info.annotations = {{"command", "record"}, {"upstream", *upstream}};
  wo.declared = recorder::declared_from_fixture(*fixture);
  wo.durability =
      args->has("durable") ? recorder::Durability::kSyncEach : recorder::Durability::kFlushBehind;
  wo.overwrite = args->has("overwrite");
  auto writer = recorder::CassetteWriter::open(*out, std::move(wo));
  if (!writer.ok()) {
    std::cerr << "patrol record: " << writer.error().message << "\n";
    return kExitUsage;
  }
  recorder::ProxyOptions po;
  po.upstream.base_url = *upstream;
  po.upstream.ca_file = args->value("ca-file");
  po.listen = *listen;
  po.threads = static_cast<std::size_t>(*threads);
  po.on_error = [](const std::string& message) {
    std::cerr << "patrol record: " + message + "\n" << std::flush;
  };
  auto proxy = recorder::RecordingProxy::start(std::move(po), **writer);
  if (!proxy.ok()) {
    std::cerr << "patrol record: " << proxy.error().message << "\n";
    (void)(*writer)->finish();
    return proxy.error().kind == model::ErrorKind::kUnavailable ? kExitUnreachable : kExitUsage;
  }
  std::cout << "patrol record: listening on " << (*proxy)->url() << ", forwarding to " << *upstream
            << ", recording to " << *out << std::endl;
  const char* sig = wait_for_stop_signal();
  (*proxy)->stop();
  auto finished = (*writer)->finish();
  std::cout << "patrol record: " << sig << ": recorded " << (*writer)->size() << " interactions to "
            << *out;
  if ((*proxy)->failures() > 0) std::cout << " (" << (*proxy)->failures() << " failed)";
  std::cout << "\n";
  if (!finished.ok()) {
    std::cerr << "patrol record: " << finished.error().message
              << " (the journal is kept; run patrol record --recover --out " << *out << ")\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace patrol::app
