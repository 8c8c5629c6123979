// `patrol sweep`: deletes the tokens that crashed or killed patrol runs left on live accounts
// (labels patrol-XXXXXX-..., see app/sweep.hpp), and never any other token.
#include <chrono>
#include <iostream>

#include "app/args.hpp"
#include "app/commands.hpp"
#include "app/sweep.hpp"
#include "app/targets.hpp"

namespace patrol::app {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"target", true, false, "base URL of the account's API (e.g. https://hub.docker.com)", "URL"},
    {"older-than", true, false, "only tokens created at least this long ago", "SECONDS"},
    {"dry-run", false, false, "list what would be deleted, delete nothing"},
    {"max-requests", true, false, "request budget", "N"},
    {"ca-file", true, false, "PEM CA bundle for TLS verification", "FILE"},
    {"timeout", true, false, "per-request timeout in seconds (default 15)", "SECONDS"},
};

void usage(std::ostream& out) {
  out << "usage: patrol sweep --target URL [--older-than SECONDS] [--dry-run]\n\n"
         "Signs in to each account (PATROL_USERNAME / PATROL_PASSWORD, and PATROL_USERNAME_2 /\n"
         "PATROL_PASSWORD_2 for a second one), lists every page of its tokens and deletes those\n"
         "whose label carries a patrol run prefix (patrol- + six hex digits + -): the leftovers\n"
         "of runs killed before their cleanup. No other token is modified or deleted. Honours\n"
         "429 Retry-After like patrol check. `patrol check` sweeps this way when it starts.\n\n"
         "exit status: 0 swept (or nothing to sweep), 1 some token could not be deleted or an\n"
         "account could not be listed, 2 usage or configuration error, 3 unreachable\n\n"
      << format_options(kOptions);
}

int fail(const std::string& message) {
  std::cerr << "patrol sweep: " << message << "\n";
  return kExitUsage;
}

}  // namespace

int run_sweep(int argc, char** argv) {
  auto invocation = parse_command_line("sweep", kOptions, usage, argc, argv);
  if (!invocation.args) return invocation.exit_status;
  const auto args = &*invocation.args;
  if (!args->positionals().empty()) {
    return fail("unexpected argument '" + args->positionals().front() + "'");
  }
  auto url = args->value("target");
  if (!url) return fail("--target URL is required");
  auto timeout = args->integer("timeout", 15);
  if (!timeout.ok()) return fail(timeout.error().message);
  if (*timeout < 1) return fail("--timeout must be at least 1");
  SweepOptions so;
  so.dry_run = args->has("dry-run");
  if (args->has("older-than")) {
    auto older = args->integer("older-than", 0);
    if (!older.ok()) return fail(older.error().message);
    if (*older < 0) return fail("--older-than must not be negative");
    so.older_than_s = *older;
  }

  RemoteOptions ro;
  ro.http.base_url = *url;
  ro.http.read_timeout = std::chrono::seconds(*timeout);
  ro.http.write_timeout = std::chrono::seconds(*timeout);
  ro.http.ca_file = args->value("ca-file");
  if (args->has("max-requests")) {
    auto mr = args->integer("max-requests", 0);
    if (!mr.ok() || *mr < 1) return fail("--max-requests must be a positive integer");
    ro.polite.max_requests = *mr;
  }
  auto env = fixture_from_environment();
  if (!env.ok()) return fail(env.error().message + " (credentials come from the environment)");
  ro.fixture = *env;
  ro.label_prefix = "patrol-sweep-";  // sweeping creates nothing
  ro.max_tokens = 1;
  const model::Fixture accounts = ro.fixture;
  auto target = make_remote_target(std::move(ro));
  if (!target.ok()) return fail(target.error().message);
  auto parts = remote_parts(**target);

  const auto now = model::Timestamp{std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()};
  auto report = sweep(parts->polite, parts->guard, accounts, so, now);
  if (!report.ok()) {
    std::cerr << "patrol sweep: " << *url << ": " << report.error().message << "\n";
    return kExitUnreachable;
  }
  int rc = kExitOk;
  std::size_t deleted = 0;
  for (const auto& t : report->tokens) {
    if (so.dry_run) {
      std::cout << "would delete " << t.account << " " << t.uuid << " '" << t.label << "' created "
                << t.created_at << "\n";
    } else if (t.deleted) {
      ++deleted;
      std::cout << "deleted " << t.account << " " << t.uuid << " '" << t.label << "'\n";
    } else {
      std::cerr << "patrol sweep: could not delete " << t.account << " " << t.uuid << " '"
                << t.label << "': " << t.error << "\n";
      rc = kExitViolations;
    }
  }
  for (const auto& e : report->errors) {
    std::cerr << "patrol sweep: " << e << "\n";
    rc = kExitViolations;
  }
  std::cout << "patrol sweep: " << (so.dry_run ? report->tokens.size() : deleted) << " token(s) "
            << (so.dry_run ? "would be deleted" : "deleted") << ", " << report->others
            << " other token(s) left alone\n";
  return rc;
}

}  // namespace patrol::app
