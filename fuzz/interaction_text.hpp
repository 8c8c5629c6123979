// A readable text form of one recorded interaction, shared by the recorder fuzz targets so that
// seeds are hand-writable:
//
//   POST /v2/access-tokens?page=1          request line: method, path, optional query
//   Authorization: Bearer $JWT             request headers, one per line, up to a blank line
//
//   {"token_label":"x"}                    request body: one line
//   201                                    response status
//   Content-Type: application/json         response headers, up to a blank line
//
//   {"token":"$PAT"}                       response body: the rest of the input
//
// Missing parts are empty. `$PAT`, `$JWT` and `$PW` are replaced by secrets made at run time (a
// Docker PAT, a signed JWT, the fixture password) so that a seed never holds a real secret shape.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/byte_reader.hpp"
#include "model/http_message.hpp"
#include "model/jwt.hpp"

namespace patrol::fuzz {

// The secrets an interaction text may plant, made at run time.
struct PlantedSecrets {
  std::string pat;
  std::string jwt;
  std::string jwt_signature;
  std::string password;

  // Makes the secrets: a PAT of the reference server's format, an HS256-shaped JWT, a password.
  static PlantedSecrets make() {
    PlantedSecrets s;
    s.pat = std::string("dckr_pat_") + "Zq3Xk7Pw2Lm9Rt4Vb8Nc1Hd6Fy0Gs5";
    s.jwt_signature = "Ks8dP2qLm4Xv7Rt1Zw9Nb3Hc6Fy0Gj5Ue2Ai8Oq4Tl7";
    s.jwt =
        model::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
        model::base64url_encode(R"({"sub":"alice","iss":"patrol-reference","exp":4102444800})") +
        "." + s.jwt_signature;
    s.password = "correct-horse-battery";
    return s;
  }

  // Every planted secret, or the part of it that must never survive redaction.
  std::vector<std::string_view> all() const { return {pat, jwt_signature, password}; }
};

// A marker of the text form and what it stands for.
using Marker = std::pair<std::string_view, std::string_view>;

// Replaces every marker ("$PAT"...) by its value, the first marker listed winning at a position.
inline std::string replace_markers(std::string_view text, const std::vector<Marker>& markers) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [marker, value] : markers) {
      if (text.compare(i, marker.size(), marker) == 0) {
        out += value;
        i += marker.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

// Replaces the $PAT / $JWT / $PW markers.
inline std::string plant(std::string_view text, const PlantedSecrets& secrets) {
  return replace_markers(text,
                         {{"$PAT", secrets.pat}, {"$JWT", secrets.jwt}, {"$PW", secrets.password}});
}

// Reads "Name: value" lines up to a blank line; a line without ':' is a name with no value.
inline void read_headers(ByteReader& in, model::Headers& headers) {
  while (!in.empty()) {
    std::string_view line = in.line();
    if (line.empty()) return;
    auto [name, value] = split_once(line, ':');
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.add(std::string(name), std::string(value));
  }
}

// Parses the text form above (secrets already planted).
inline void read_interaction(std::string_view text, model::HttpRequest& request,
                             model::HttpResponse& response) {
  ByteReader in(text);
  auto [method, target] = split_once(in.line(), ' ');
  request.method = std::string(method);
  auto [path, query] = split_once(target, '?');
  request.path = std::string(path);
  request.query = std::string(query);
  read_headers(in, request.headers);
  request.body = std::string(in.line());
  std::string_view status = in.line();
  int code = 0;
  std::from_chars(status.data(), status.data() + status.size(), code);
  response.status = code;
  read_headers(in, response.headers);
  response.body = std::string(in.rest());
}

}  // namespace patrol::fuzz
