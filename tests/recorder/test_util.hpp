// Helpers for the recorder tests: secrets built at run time (no secret-shaped literal ever sits
// in a source file), interactions, and scratch directories.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "model/jwt.hpp"
#include "recorder/cassette.hpp"

namespace patrol::recorder::testing {

// A Docker PAT: "dckr_pat_" and 27 url-safe characters derived from `seed`.
inline std::string make_pat(unsigned seed) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = std::string("dckr") + "_pat_";
  unsigned x = seed * 2654435761u + 12345u;
  for (int i = 0; i < 27; ++i) {
    x = x * 1103515245u + 12345u;
    out.push_back(kAlphabet[(x >> 16) % 64]);
  }
  return out;
}

// An HS256-looking JWT with the given claims and a signature derived from `seed`.
inline std::string make_jwt(const nlohmann::json& claims, unsigned seed) {
  std::string sig(32, '\0');
  unsigned x = seed * 2246822519u + 7u;
  for (auto& c : sig) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return model::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
         model::base64url_encode(claims.dump()) + "." + model::base64url_encode(sig);
}

inline Interaction make_interaction(std::string method, std::string path, std::string query,
                                    model::Headers request_headers, std::string request_body,
                                    int status, model::Headers response_headers,
                                    std::string response_body) {
  Interaction it;
  it.origin = "http://127.0.0.1:8080";
  it.started = model::Timestamp::from_seconds(1'700'000'000);
  it.duration_ms = 1.5;
  it.request.method = std::move(method);
  it.request.path = std::move(path);
  it.request.query = std::move(query);
  it.request.headers = std::move(request_headers);
  it.request.body = std::move(request_body);
  it.response.status = status;
  it.response.headers = std::move(response_headers);
  it.response.body = std::move(response_body);
  return it;
}

inline model::Headers json_headers() {
  model::Headers h;
  h.add("Content-Type", "application/json");
  return h;
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base != nullptr ? base : "/tmp") + "/patrol-rec-XXXXXX";
    path_ = ::mkdtemp(templ.data()) != nullptr ? templ : std::string();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

inline void write_all(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace patrol::recorder::testing
