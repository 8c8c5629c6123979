#include "app/recorder_common.hpp"

#include <pthread.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "model/codec.hpp"

namespace patrol::app {

model::Result<model::Fixture> load_fixture(const std::optional<std::string>& path) {
  if (!path) return model::default_fixture();
  std::ifstream in(*path, std::ios::binary);
  if (!in) return model::make_error(model::ErrorKind::kIo, *path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  auto json = model::parse_json(text.str());
  if (!json.ok()) return model::make_error(json.error().kind, *path + ": " + json.error().message);
  auto fixture = model::decode_fixture(*json);
  if (!fixture.ok()) {
    return model::make_error(fixture.error().kind, *path + ": " + fixture.error().message);
  }
  return fixture;
}

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void block_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

const char* wait_for_stop_signal() {
  sigset_t set = stop_signals();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

}  // namespace patrol::app
