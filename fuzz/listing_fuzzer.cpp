// Fuzz target: the E2 listing query, next/previous links (contract 6, A10, A11) and the {uuid} path
// of E3..E5 (contract 3.7, A8, A9). Input: text; every line goes through every parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/byte_reader.hpp"
#include "fuzz/codec_checks.hpp"
#include "fuzz/fuzz_check.hpp"
#include "model/listing.hpp"

namespace patrol::fuzz {
namespace {

constexpr std::string_view kCollection = "/v2/access-tokens";

std::string show(const model::ListQuery& q) {
  return "{page " + std::to_string(q.page) + ", page_size " + std::to_string(q.page_size) + "}";
}

// The uuid shape, written out independently of listing.cpp: 8-4-4-4-12 lower-case hex.
bool reference_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// A parsed query survives being written back as a query and as both kinds of link.
void check_query_roundtrip(const model::ListQuery& q, std::string_view source) {
  const std::string text = q.to_query();
  PATROL_FUZZ_CHECK(
      text == "page=" + std::to_string(q.page) + "&page_size=" + std::to_string(q.page_size),
      "to_query() wrote '" + text + "'");
  auto expect_same = [&](std::string_view how, const std::string& again,
                         const model::Result<model::ListQuery>& reparsed) {
    PATROL_FUZZ_CHECK(reparsed.ok() && *reparsed == q,
                      "'" + std::string(source) + "' gave " + show(q) + " but " + std::string(how) +
                          "('" + again + "') gave " +
                          (reparsed.ok() ? show(*reparsed) : reparsed.error().message));
  };
  expect_same("parse_list_query", text, model::parse_list_query(text));
  for (const std::string& link :
       {"?" + text, std::string(kCollection) + "?" + text,
        "https://hub.docker.com" + std::string(kCollection) + "?" + text}) {
    expect_same("parse_page_link", link, model::parse_page_link(link));
  }
  const bool in_range = q.page >= 1 && q.page_size >= 1 && q.page_size <= model::kMaxPageSize;
  PATROL_FUZZ_CHECK(q.in_range() == in_range, "in_range() wrong for " + show(q));
}

void check_line(std::string_view line) {
  auto query = model::parse_list_query(line);
  if (query.ok()) {
    check_query_roundtrip(*query, line);
  } else {
    PATROL_FUZZ_CHECK(is_decode_error_kind(query.error().kind) && !query.error().message.empty(),
                      "parse_list_query error: " + query.error().message);
  }

  auto link = model::parse_page_link(line);
  if (link.ok()) {
    check_query_roundtrip(*link, line);
  } else {
    PATROL_FUZZ_CHECK(is_decode_error_kind(link.error().kind) && !link.error().message.empty(),
                      "parse_page_link error: " + link.error().message);
  }

  const bool canonical = model::is_canonical_uuid(line);
  PATROL_FUZZ_CHECK(canonical == reference_uuid(line),
                    "is_canonical_uuid('" + std::string(line) + "') is wrong");
  if (canonical) {
    const std::string item = std::string(kCollection) + "/" + std::string(line);
    model::TokenPath path = model::parse_token_path(item);
    PATROL_FUZZ_CHECK(path.route == model::TokenRoute::kItem && path.uuid == line,
                      "parse_token_path('" + item + "') did not name the item");
  }

  // contract A9: the collection with or without one trailing slash; items below it.
  model::TokenPath path = model::parse_token_path(line);
  if (path.route == model::TokenRoute::kCollection) {
    PATROL_FUZZ_CHECK(line == kCollection || line == std::string(kCollection) + "/",
                      "parse_token_path('" + std::string(line) + "') called it the collection");
  } else if (path.route == model::TokenRoute::kItem) {
    PATROL_FUZZ_CHECK(line.substr(0, kCollection.size() + 1) == std::string(kCollection) + "/",
                      "parse_token_path('" + std::string(line) + "') called it an item");
  }
}

}  // namespace
}  // namespace patrol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  patrol::fuzz::ByteReader in(data, size);
  while (!in.empty()) patrol::fuzz::check_line(in.line());
  return 0;
}
