// Codecs of the token bodies: E1/E4 requests, the token object (contract 2) and the E2 page.
#include "model/codec.hpp"
#include "model/json_read.hpp"

namespace patrol::model {

using detail::ObjectReader;

Result<CreateTokenRequest> Codec<CreateTokenRequest>::decode(const Json& j,
                                                             const std::string& path) {
  return detail::guarded<CreateTokenRequest>(path, [&]() -> Result<CreateTokenRequest> {
    ObjectReader r(j, path);
    CreateTokenRequest v;
    r.read("token_label", v.token_label);
    r.read("scopes", v.scopes);
    r.read("expires_at", v.expires_at);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<CreateTokenRequest>::encode(const CreateTokenRequest& v) {
  Json j = Json::object();
  j["token_label"] = v.token_label;
  j["scopes"] = v.scopes;
  detail::put(j, "expires_at", v.expires_at);
  detail::put_extra(j, v.extra);
  return j;
}

Result<PatchTokenRequest> Codec<PatchTokenRequest>::decode(const Json& j, const std::string& path) {
  return detail::guarded<PatchTokenRequest>(path, [&]() -> Result<PatchTokenRequest> {
    ObjectReader r(j, path);
    PatchTokenRequest v;
    r.read("token_label", v.token_label);
    r.read("is_active", v.is_active);
    if (r.failed()) return r.error();
    v.extra = r.rest();  // scopes / expires_at in a PATCH land here (contract 3.5, A15)
    return v;
  });
}

Json Codec<PatchTokenRequest>::encode(const PatchTokenRequest& v) {
  Json j = Json::object();
  detail::put(j, "token_label", v.token_label);
  detail::put(j, "is_active", v.is_active);
  detail::put_extra(j, v.extra);
  return j;
}

Result<AccessToken> Codec<AccessToken>::decode(const Json& j, const std::string& path) {
  return detail::guarded<AccessToken>(path, [&]() -> Result<AccessToken> {
    ObjectReader r(j, path);
    AccessToken v;
    // Read in the Hub's observed member order so the first problem reported is the first one a
    // reader of the body would meet.
    r.read("uuid", v.uuid);
    r.read("client_id", v.client_id);
    r.read("creator_ip", v.creator_ip);
    r.read("creator_ua", v.creator_ua);
    r.read("created_at", v.created_at);
    r.read("last_used", v.last_used);
    r.read("generated_by", v.generated_by);
    r.read("is_active", v.is_active);
    r.read("token", v.token);
    r.read("token_label", v.token_label);
    r.read("scopes", v.scopes);
    r.read("expires_at", v.expires_at);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    if (!v.token) {
      v.tolerated.push_back({r.path_of("token"), "A1", "token absent (redacted by omission)"});
    }
    if (!v.scopes) {
      v.tolerated.push_back({r.path_of("scopes"), "A14", "scopes absent (legacy token)"});
    }
    return v;
  });
}

Json Codec<AccessToken>::encode(const AccessToken& v) {
  Json j = Json::object();
  j["uuid"] = v.uuid;
  detail::put(j, "client_id", v.client_id);
  detail::put(j, "creator_ip", v.creator_ip);
  detail::put(j, "creator_ua", v.creator_ua);
  j["created_at"] = v.created_at;
  detail::put(j, "last_used", v.last_used);
  detail::put(j, "generated_by", v.generated_by);
  j["is_active"] = v.is_active;
  detail::put(j, "token", v.token);
  j["token_label"] = v.token_label;
  detail::put(j, "scopes", v.scopes);
  detail::put(j, "expires_at", v.expires_at);
  detail::put_extra(j, v.extra);
  return j;
}

Result<TokenPage> Codec<TokenPage>::decode(const Json& j, const std::string& path) {
  return detail::guarded<TokenPage>(path, [&]() -> Result<TokenPage> {
    ObjectReader r(j, path);
    TokenPage v;
    r.read("count", v.count);
    r.read("next", v.next);
    r.read("previous", v.previous);
    r.read("active_count", v.active_count);
    r.read_each("results", v.results);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    for (const auto& token : v.results) {
      v.tolerated.insert(v.tolerated.end(), token.tolerated.begin(), token.tolerated.end());
    }
    return v;
  });
}

Json Codec<TokenPage>::encode(const TokenPage& v) {
  Json j = Json::object();
  j["count"] = v.count;
  detail::put(j, "next", v.next);
  detail::put(j, "previous", v.previous);
  j["active_count"] = v.active_count;
  Json results = Json::array();
  for (const auto& token : v.results) results.push_back(Codec<AccessToken>::encode(token));
  j["results"] = std::move(results);
  detail::put_extra(j, v.extra);
  return j;
}

}  // namespace patrol::model
