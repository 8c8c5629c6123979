#include "http/ownership_guard.hpp"

#include <nlohmann/json.hpp>
#include <optional>

#include "model/listing.hpp"

namespace patrol::http {

using model::ErrorKind;
using model::HttpResponse;
using model::make_error;
using model::Result;

OwnershipGuard::OwnershipGuard(Transport& inner, std::string label_prefix, std::size_t max_tokens)
    : inner_(inner), prefix_(std::move(label_prefix)), max_tokens_(max_tokens) {}

namespace {

// The body's `token_label` when it is a string. Invalid UTF-8 (a label the server must refuse,
// contract 3.2) does not hide the label: bytes from 0x80 up are read as DEL, which no run prefix
// holds, so a label read this way starts with the prefix exactly when the raw one does.
std::optional<std::string> label_of(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded()) {
    std::string ascii = body;
    for (char& c : ascii) {
      if (static_cast<unsigned char>(c) >= 0x80) c = '\x7f';
    }
    json = nlohmann::json::parse(ascii, nullptr, false);
  }
  if (!json.is_object()) return std::nullopt;
  auto it = json.find("token_label");
  if (it == json.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

Result<HttpResponse> OwnershipGuard::send(const model::HttpRequest& request) {
  auto path = model::parse_token_path(request.path);
  const bool create = path.route == model::TokenRoute::kCollection && request.method == "POST";
  const bool modify =
      path.route == model::TokenRoute::kItem &&
      (request.method == "PATCH" || request.method == "DELETE" || request.method == "PUT");
  {
    std::lock_guard lock(mu_);
    if (create) {
      auto label = label_of(request.body);
      if (!label || label->rfind(prefix_, 0) != 0) {
        return make_error(ErrorKind::kInvalid,
                          "live guard: refusing to create a token whose "
                          "label does not start with the run prefix '" +
                              prefix_ + "'");
      }
      if (live_.size() >= max_tokens_) {
        return make_error(ErrorKind::kInvalid, "live guard: " + std::to_string(live_.size()) +
                                                   " tokens of this run exist (--max-tokens " +
                                                   std::to_string(max_tokens_) +
                                                   "); refusing to create another");
      }
    }
    if (modify && !owned_.count(path.uuid)) {
      return make_error(ErrorKind::kInvalid, "live guard: refusing " + request.method +
                                                 " on token '" + path.uuid +
                                                 "', which this run did not create");
    }
    // A renamed token keeps the prefix, so a later sweep still knows it as patrol's.
    if (modify && request.method != "DELETE") {
      auto label = label_of(request.body);
      if (label && label->rfind(prefix_, 0) != 0) {
        return make_error(ErrorKind::kInvalid,
                          "live guard: refusing to rename token '" + path.uuid +
                              "' to a label that does not start with the run prefix '" + prefix_ +
                              "'");
      }
    }
  }
  auto res = inner_.send(request);
  if (!res.ok()) return res;
  std::lock_guard lock(mu_);
  if (create && res->status == 201) {
    auto body = nlohmann::json::parse(res->body, nullptr, false);
    if (body.is_object() && body.contains("uuid") && body["uuid"].is_string()) {
      auto uuid = body["uuid"].get<std::string>();
      owned_.insert(uuid);
      live_.insert(uuid);
    }
  }
  if (modify && request.method == "DELETE" && (res->status == 204 || res->status == 404)) {
    live_.erase(path.uuid);
  }
  return res;
}

void OwnershipGuard::adopt(const std::string& uuid) {
  std::lock_guard lock(mu_);
  owned_.insert(uuid);
  live_.insert(uuid);
}

std::vector<std::string> OwnershipGuard::live_tokens() const {
  std::lock_guard lock(mu_);
  return {live_.begin(), live_.end()};
}

}  // namespace patrol::http
