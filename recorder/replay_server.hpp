// The replay server behind `patrol replay-server`: answers from a cassette. Identical requests
// get their responses in recorded order; a request nothing matches gets a 501 whose JSON body
// names the nearest recorded request (header X-Patrol-Replay: unmatched). Placeholders in the
// recorded responses are served as stable synthetic values (fixture passwords for declared ones).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "model/fixture.hpp"
#include "model/result.hpp"
#include "recorder/cassette.hpp"
#include "recorder/matcher.hpp"
#include "recorder/net.hpp"

namespace httplib {
class Server;
}

namespace patrol::recorder {

// Status of the diagnostic response to an unmatched request.
inline constexpr int kUnmatchedStatus = 501;

struct ReplayServerOptions {
  ListenAddress listen;
  MatchSpec match;
  model::Fixture fixture;
  std::size_t threads = 64;
  // Called with the diagnostic of each unmatched request; may be called from many threads.
  std::function<void(const std::string&)> on_miss;
};

class ReplayServer {
 public:
  static model::Result<std::unique_ptr<ReplayServer>> start(const Cassette& cassette,
                                                            ReplayServerOptions options);
  ~ReplayServer();

  int port() const { return port_; }
  std::string url() const;
  // Stops serving. Idempotent.
  void stop();

  std::vector<std::size_t> unused() const { return index_->unused(); }
  std::size_t misses() const { return index_->misses(); }

 private:
  ReplayServer() = default;

  ReplayServerOptions options_;
  std::vector<model::HttpResponse> responses_;  // recorded responses, substituted once
  std::unique_ptr<ReplayIndex> index_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace patrol::recorder
