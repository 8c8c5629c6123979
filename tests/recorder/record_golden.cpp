// Regenerates the golden cassettes in corpora/cassettes/: each scripted session of sessions.hpp
// runs against a fresh reference server (manual clock) through the recording proxy. Run it with
// scripts/record-golden; review and commit the (redacted) result.
#include <iostream>

#include "http/http_transport.hpp"
#include "recorder/proxy.hpp"
#include "recorder/writer.hpp"
#include "server/core.hpp"
#include "server/listener.hpp"
#include "tests/recorder/sessions.hpp"

using namespace patrol;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: patrol_record_golden OUT_DIR\n";
    return 2;
  }
  std::string out_dir = argv[1];
  for (const auto& session : recorder::testing::golden_sessions()) {
    server::ServerOptions so;
    so.manual_clock = true;
    auto core = server::ServerCore::create(so);
    if (!core.ok()) {
      std::cerr << "server: " << core.error().message << "\n";
      return 1;
    }
    auto listener = server::Listener::start(**core);
    if (!listener.ok()) {
      std::cerr << "listener: " << listener.error().message << "\n";
      return 1;
    }
    std::string path = out_dir + "/" + session.name + ".har";
    recorder::WriterOptions wo;
    wo.info.creator_version = "golden";
    wo.info.annotations = {{"session", session.name},
                           {"target", "patrol reference server, hub profile, manual clock"},
                           {"regenerate", "scripts/record-golden"}};
    wo.declared = recorder::declared_from_fixture(model::default_fixture());
    wo.overwrite = true;
    auto writer = recorder::CassetteWriter::open(path, wo);
    if (!writer.ok()) {
      std::cerr << writer.error().message << "\n";
      return 1;
    }
    recorder::ProxyOptions po;
    po.upstream.base_url = (*listener)->base_url();
    auto proxy = recorder::RecordingProxy::start(po, **writer);
    if (!proxy.ok()) {
      std::cerr << "proxy: " << proxy.error().message << "\n";
      return 1;
    }
    std::vector<std::string> errors;
    {
      http::HttpTransportOptions to;
      to.base_url = (*proxy)->url();
      auto transport = http::HttpTransport::create(to);
      if (!transport.ok()) {
        std::cerr << "transport: " << transport.error().message << "\n";
        return 1;
      }
      recorder::testing::SessionDriver driver(**transport, model::default_fixture());
      session.run(driver);
      errors = driver.errors();
    }  // the connection closes before the proxy stops
    (*proxy)->stop();
    if (auto s = (*writer)->finish(); !s.ok()) {
      std::cerr << s.error().message << "\n";
      return 1;
    }
    for (const auto& e : errors) std::cerr << session.name << ": " << e << "\n";
    if (!errors.empty()) return 1;
    std::cout << "wrote " << (*writer)->size() << " interactions to " << path << "\n";
  }
  return 0;
}
