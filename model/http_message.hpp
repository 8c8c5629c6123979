// HTTP request and response as plain values. Every transport, the reference server core, the
// recorder and the oracle exchange these; nothing here does I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace patrol::model {

// Ordered header list; names compare case-insensitively, repeated names are kept.
struct Headers {
  std::vector<std::pair<std::string, std::string>> entries;

  // Returns the first value of a header by case-insensitive name.
  std::optional<std::string> get(std::string_view name) const;
  // Replaces every value of a header with one value.
  void set(std::string name, std::string value);
  // Appends a value, keeping any earlier ones.
  void add(std::string name, std::string value);
  // Removes every value of a header.
  void remove(std::string_view name);
  bool has(std::string_view name) const { return get(name).has_value(); }

  bool operator==(const Headers&) const = default;
};

// Case-insensitive ASCII comparison of header names.
bool header_name_equal(std::string_view a, std::string_view b);

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query, e.g. "/v2/access-tokens/abc"
  std::string query;   // raw query without the leading '?', e.g. "page=2&page_size=10"
  Headers headers;
  std::string body;
  std::string peer;    // client address as the server saw it ("127.0.0.1"), empty when unknown

  // Returns "METHOD path?query".
  std::string target_line() const;

  bool operator==(const HttpRequest&) const = default;
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  bool operator==(const HttpResponse&) const = default;
};

// Splits a request target "path?query" into its two parts.
std::pair<std::string, std::string> split_target(std::string_view target);

// Decodes %XX escapes and '+' (as space, when plus_is_space) in a URL component.
// Returns nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

// Parses "a=1&b=2" into ordered (name, value) pairs, percent-decoded. A malformed escape in a
// pair keeps its raw text.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

}  // namespace patrol::model
