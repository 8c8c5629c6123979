#include "http/polite_transport.hpp"

#include <charconv>
#include <thread>

namespace patrol::http {

using model::ErrorKind;
using model::HttpResponse;
using model::make_error;
using model::Result;

namespace {

std::optional<std::int64_t> parse_int(const std::string& text) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::chrono::milliseconds> retry_delay(const HttpResponse& response,
                                                     std::int64_t unix_now) {
  if (auto ra = response.headers.get("Retry-After")) {
    if (auto s = parse_int(*ra); s && *s >= 0) return std::chrono::seconds(*s);
  }
  if (auto xra = response.headers.get("X-Retry-After")) {
    if (auto t = parse_int(*xra); t) {
      return std::chrono::seconds(*t > unix_now ? *t - unix_now : 0);
    }
  }
  return std::nullopt;
}

PoliteTransport::PoliteTransport(Transport& inner, PolitePolicy policy)
    : inner_(inner), policy_(std::move(policy)) {
  if (!policy_.sleep) {
    policy_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
  if (!policy_.unix_now) {
    policy_.unix_now = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

Result<HttpResponse> PoliteTransport::send(const model::HttpRequest& request) {
  for (int attempt = 0;; ++attempt) {
    if (policy_.max_requests && stats_.requests >= *policy_.max_requests) {
      return make_error(ErrorKind::kInvalid,
                        "request budget of " + std::to_string(*policy_.max_requests) +
                            " exhausted (--max-requests); not sending " + request.target_line());
    }
    ++stats_.requests;
    auto res = inner_.send(request);
    if (!res.ok() || res->status != 429) return res;
    ++stats_.rate_limited;
    if (attempt >= policy_.max_retries) return res;
    auto wait = retry_delay(*res, policy_.unix_now()).value_or(policy_.default_wait);
    if (wait > policy_.max_wait) wait = policy_.max_wait;
    stats_.waited += wait;
    policy_.sleep(wait);
  }
}

}  // namespace patrol::http
