// Rate-limit and budget policy around any transport: honours 429 with Retry-After (seconds) or
// X-Retry-After (unix time, contract A21) by waiting a bounded time and retrying, counts what it
// did, and refuses to send past a request budget (live accounts are somebody's account).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "http/transport.hpp"

namespace patrol::http {

struct PolitePolicy {
  int max_retries = 5;                           // per request, after a 429
  std::chrono::milliseconds max_wait{60'000};    // cap on one wait
  std::chrono::milliseconds default_wait{1000};  // when a 429 names no wait
  std::optional<std::int64_t> max_requests;      // budget over the transport's lifetime
  // Injectable for tests; default: std::this_thread::sleep_for and the system clock.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::int64_t()> unix_now;
};

struct PoliteStats {
  std::int64_t requests = 0;      // sent to the inner transport, retries included
  std::int64_t rate_limited = 0;  // 429 responses seen
  std::chrono::milliseconds waited{0};
};

// How long a 429 response asks the caller to wait, from Retry-After (delta seconds) or
// X-Retry-After (unix time); nullopt when neither is usable.
std::optional<std::chrono::milliseconds> retry_delay(const model::HttpResponse& response,
                                                     std::int64_t unix_now);

class PoliteTransport final : public Transport {
 public:
  PoliteTransport(Transport& inner, PolitePolicy policy);
  // Returns the final response; a 429 that persists after max_retries is returned as is.
  model::Result<model::HttpResponse> send(const model::HttpRequest& request) override;
  const PoliteStats& stats() const { return stats_; }

 private:
  Transport& inner_;
  PolitePolicy policy_;
  PoliteStats stats_;
};

}  // namespace patrol::http
