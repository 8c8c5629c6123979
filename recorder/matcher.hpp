// Matching live requests to recorded interactions for replay. Identical requests get their
// responses in recorded order (create, read, modify, re-read), a MatchSpec chooses what
// identifies a request, and a request nothing matches gets a diagnostic naming the nearest
// recorded one. Secret values (credentials, placeholders) never take part in a match.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "model/http_message.hpp"
#include "model/result.hpp"
#include "recorder/cassette.hpp"

namespace patrol::recorder {

// What identifies a request. Default: method, path, query and body.
struct MatchSpec {
  bool method = true;
  bool path = true;
  bool query = true;
  bool body = true;
  std::vector<std::string> headers;  // header names compared too

  // Parses "method,path,query,body,header:X-Name" (any subset, at least one).
  static model::Result<MatchSpec> parse(std::string_view text);
  // Returns the spec in the syntax parse() reads.
  std::string describe() const;
};

// A request's target line for messages, with secret query values and secret shapes masked.
std::string safe_target(const model::HttpRequest& request);

class ReplayIndex {
 public:
  ReplayIndex(const std::vector<Interaction>& entries, MatchSpec spec);

  struct Hit {
    std::size_t entry = 0;  // index into the cassette's entries
  };
  struct Miss {
    std::string message;                 // names the request and the nearest recorded one
    std::optional<std::size_t> nearest;  // entry index
  };

  // Takes the next unserved interaction recorded for this request. Thread-safe.
  std::variant<Hit, Miss> take(const model::HttpRequest& request);

  // Entries never served, in order.
  std::vector<std::size_t> unused() const;
  // Number of requests that matched nothing.
  std::size_t misses() const;

 private:
  struct Parts {
    std::string method, path, query, body, headers;
  };
  Parts parts_of(const model::HttpRequest& request) const;
  static std::string key_of(const Parts& parts);

  MatchSpec spec_;
  std::vector<Parts> parts_;
  std::vector<std::string> targets_;  // safe_target of each entry
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::deque<std::size_t>> queues_;
  std::unordered_map<std::string, std::vector<std::size_t>> all_by_key_;
  std::vector<bool> used_;
  std::size_t misses_ = 0;
};

}  // namespace patrol::recorder
