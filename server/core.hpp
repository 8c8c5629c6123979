// The reference server's core: every route of CONTRACT.md section 1 as a plain, thread-safe
// function HttpRequest -> HttpResponse over an in-memory store. No sockets: tests and fuzzers call
// it in-process, and server/listener.hpp puts it on the network.
//
// Where the contract leaves a choice, the server makes one (CONTRACT.md "server" column):
// reads redact `token` to "" ("***" in the spec profile); `expires_at` is null when unset and is
// echoed as the same instant in UTC; scopes are normalised to the highest; E4 ignores `scopes` and
// `expires_at`; a malformed uuid is 404 (A8); out-of-range page/page_size is 400 and a page past
// the end 404 (A10); next/previous are relative URLs (A11); E5 answers 204. A token is expired
// from the instant `expires_at` is reached, so E1 refuses an `expires_at` at or before now. An
// account with a second factor cannot trade its password on /v2/auth/token or the registry: it
// signs in through /v2/users/login and /v2/users/2fa-login, or uses a PAT (A23). Repeated page
// parameters take their last value. The registry grants nothing on repositories outside the
// fixture. Only the `Bearer` keyword is accepted on E1..E5 (A22).
//
// Manual clock (ServerOptions::manual_clock only): GET /_patrol/clock answers 200
// {"now": "<RFC 3339>"}; POST /_patrol/clock {"advance_seconds": N} (N >= 0) moves time forward
// and answers the same. Without the option the route is 404.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/fixture.hpp"
#include "model/http_message.hpp"
#include "model/result.hpp"
#include "model/rfc3339.hpp"
#include "model/scope.hpp"
#include "server/faults.hpp"

namespace patrol::server {

// Route of the caller-controlled clock (enabled only with ServerOptions::manual_clock).
inline constexpr std::string_view kClockRoute = "/_patrol/clock";
// `iss` of every JWT the server signs.
inline constexpr std::string_view kIssuer = "patrol-reference";
// `service` the registry token service answers for.
inline constexpr std::string_view kRegistryService = model::kRegistryService;
// Request bodies above this size are refused with 413.
inline constexpr std::size_t kMaxRequestBodyBytes = 1u << 20;
// X-RateLimit-Limit advertised when no limit is enforced (nothing is ever consumed from it).
inline constexpr long long kNominalRateLimit = 1'000'000;

struct ServerOptions {
  model::Fixture fixture = model::default_fixture();
  std::string profile = "hub";      // "hub" (CONTRACT.md "server" column) or "spec"
  std::vector<std::string> faults;  // names from fault_catalogue()
  int rate_limit_per_minute = 0;    // requests per minute per account; 0 = not enforced
  bool manual_clock = false;        // time moves only through advance() / POST /_patrol/clock
  std::size_t max_tokens_per_account = 10'000;  // E1 beyond this is refused with 400
  // Called with the race window's name ("patch", "create", "count") inside the deliberately
  // unlocked window of a concurrency fault, so a test can interleave a request there
  // deterministically. Unset, the window lasts a couple of milliseconds so that real concurrent
  // clients can fall into it.
  std::function<void(std::string_view window)> race_window_hook;
};

class ServerCore {
 public:
  // Validates the options (profile, fault names, rate limit, fixture) and builds a core with an
  // empty token store and a fresh JWT key.
  static model::Result<std::unique_ptr<ServerCore>> create(ServerOptions options);

  ~ServerCore();
  ServerCore(const ServerCore&) = delete;
  ServerCore& operator=(const ServerCore&) = delete;

  // Answers one request. Safe to call from many threads at once; never throws.
  model::HttpResponse handle(const model::HttpRequest& request);

  // Returns the server's current time (frozen under the manual clock until advanced).
  model::Timestamp now() const;

  // Moves the server's time forward (works under either clock; the manual clock moves only so).
  void advance(std::chrono::seconds by);

  // Returns the options the core was created with.
  const ServerOptions& options() const;

  // Returns the active faults.
  const FaultSet& faults() const;

 private:
  struct Impl;
  explicit ServerCore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace patrol::server
