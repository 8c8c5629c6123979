// Cassettes: recorded HTTP sessions stored as HAR 1.2 (so browser devtools and HTTP tools open
// them). patrol's own data (run id, seed, commands, verdicts) lives in `_patrol` members, which
// HAR allows. This header reads cassettes; writing goes through writer.hpp, which always redacts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "model/http_message.hpp"
#include "model/result.hpp"
#include "model/rfc3339.hpp"
#include "model/types.hpp"

namespace patrol::recorder {

// One request and the response it got.
struct Interaction {
  model::HttpRequest request;  // path percent-decoded, query raw (as model::HttpRequest)
  model::HttpResponse response;
  std::string origin;        // "scheme://host[:port]" the request went to
  model::Timestamp started;  // when the request was sent
  double duration_ms = 0;    // until the response was complete
  model::Json annotations;   // the entry's `_patrol` member; null when absent

  bool operator==(const Interaction&) const = default;
};

// Cassette-wide data: HAR `log.creator` and patrol's `log._patrol` (run id, seed, commands...).
struct CassetteInfo {
  std::string creator_name = "patrol";
  std::string creator_version = "0";
  model::Json annotations;  // null when absent

  bool operator==(const CassetteInfo&) const = default;
};

struct Cassette {
  CassetteInfo info;
  std::vector<Interaction> entries;

  bool operator==(const Cassette&) const = default;
};

// Parses HAR text. Errors name the entry and field ("log.entries[3].response.status: expected
// number, got string") and say when the text ends early (a truncated file).
model::Result<Cassette> decode_har(std::string_view text);

// Reads a cassette file. When a journal of an interrupted recording is left beside it
// (journal_path_for(path)), it is first turned into the cassette (see writer.hpp).
model::Result<Cassette> read_cassette(const std::string& path);

// Returns the standard reason phrase of a status ("Created"), or "" for an unknown one.
std::string_view status_text(int status);

// Formats "http://host:port" + encoded path + "?" + query, the HAR `request.url`.
std::string entry_url(const Interaction& interaction);

// The parts of an absolute URL a cassette keeps.
struct UrlParts {
  std::string origin;  // "http://host:port"
  std::string path;    // percent-decoded, "/" when the URL has none
  std::string query;   // raw, without '?'
};

// Splits an absolute URL ("http://h:p/a%20b?x=1"); errors name what is missing.
model::Result<UrlParts> split_url(std::string_view url);

}  // namespace patrol::recorder
