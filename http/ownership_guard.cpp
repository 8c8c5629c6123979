#include "http/ownership_guard.hpp"

#include <nlohmann/json.hpp>

#include "model/listing.hpp"

namespace patrol::http {

using model::ErrorKind;
using model::HttpResponse;
using model::make_error;
using model::Result;

OwnershipGuard::OwnershipGuard(Transport& inner, std::string label_prefix, std::size_t max_tokens)
    : inner_(inner), prefix_(std::move(label_prefix)), max_tokens_(max_tokens) {}

Result<HttpResponse> OwnershipGuard::send(const model::HttpRequest& request) {
  auto path = model::parse_token_path(request.path);
  const bool create = path.route == model::TokenRoute::kCollection && request.method == "POST";
  const bool modify =
      path.route == model::TokenRoute::kItem &&
      (request.method == "PATCH" || request.method == "DELETE" || request.method == "PUT");
  {
    std::lock_guard lock(mu_);
    if (create) {
      auto body = nlohmann::json::parse(request.body, nullptr, false);
      const auto* label =
          body.is_object() && body.contains("token_label") && body["token_label"].is_string()
              ? body["token_label"].get_ptr<const std::string*>()
              : nullptr;
      if (label == nullptr || label->rfind(prefix_, 0) != 0) {
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
