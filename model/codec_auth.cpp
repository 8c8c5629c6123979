// Codecs of the authentication bodies (A1, A2, 2FA, R1) and of JWT headers and claims.
#include "model/codec.hpp"
#include "model/json_read.hpp"

namespace patrol::model {

using detail::ObjectReader;

Result<AuthTokenRequest> Codec<AuthTokenRequest>::decode(const Json& j, const std::string& path) {
  return detail::guarded<AuthTokenRequest>(path, [&]() -> Result<AuthTokenRequest> {
    ObjectReader r(j, path);
    AuthTokenRequest v;
    r.read("identifier", v.identifier);
    r.read("secret", v.secret);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<AuthTokenRequest>::encode(const AuthTokenRequest& v) {
  Json j = Json::object();
  j["identifier"] = v.identifier;
  j["secret"] = v.secret;
  detail::put_extra(j, v.extra);
  return j;
}

Result<AuthTokenResponse> Codec<AuthTokenResponse>::decode(const Json& j, const std::string& path) {
  return detail::guarded<AuthTokenResponse>(path, [&]() -> Result<AuthTokenResponse> {
    ObjectReader r(j, path);
    AuthTokenResponse v;
    r.read("access_token", v.access_token);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<AuthTokenResponse>::encode(const AuthTokenResponse& v) {
  Json j = Json::object();
  j["access_token"] = v.access_token;
  detail::put_extra(j, v.extra);
  return j;
}

Result<LoginRequest> Codec<LoginRequest>::decode(const Json& j, const std::string& path) {
  return detail::guarded<LoginRequest>(path, [&]() -> Result<LoginRequest> {
    ObjectReader r(j, path);
    LoginRequest v;
    r.read("username", v.username);
    r.read("password", v.password);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<LoginRequest>::encode(const LoginRequest& v) {
  Json j = Json::object();
  j["username"] = v.username;
  j["password"] = v.password;
  detail::put_extra(j, v.extra);
  return j;
}

Result<LoginSuccess> Codec<LoginSuccess>::decode(const Json& j, const std::string& path) {
  return detail::guarded<LoginSuccess>(path, [&]() -> Result<LoginSuccess> {
    ObjectReader r(j, path);
    LoginSuccess v;
    r.read("token", v.token);
    r.read("refresh_token", v.refresh_token);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<LoginSuccess>::encode(const LoginSuccess& v) {
  Json j = Json::object();
  j["token"] = v.token;
  detail::put(j, "refresh_token", v.refresh_token);
  detail::put_extra(j, v.extra);
  return j;
}

Result<LoginError> Codec<LoginError>::decode(const Json& j, const std::string& path) {
  return detail::guarded<LoginError>(path, [&]() -> Result<LoginError> {
    ObjectReader r(j, path);
    LoginError v;
    r.read("detail", v.detail);
    r.read("login_2fa_token", v.login_2fa_token);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<LoginError>::encode(const LoginError& v) {
  Json j = Json::object();
  j["detail"] = v.detail;
  detail::put(j, "login_2fa_token", v.login_2fa_token);
  detail::put_extra(j, v.extra);
  return j;
}

Result<TwoFactorLoginRequest> Codec<TwoFactorLoginRequest>::decode(const Json& j,
                                                                   const std::string& path) {
  return detail::guarded<TwoFactorLoginRequest>(path, [&]() -> Result<TwoFactorLoginRequest> {
    ObjectReader r(j, path);
    TwoFactorLoginRequest v;
    r.read("login_2fa_token", v.login_2fa_token);
    r.read("code", v.code);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<TwoFactorLoginRequest>::encode(const TwoFactorLoginRequest& v) {
  Json j = Json::object();
  j["login_2fa_token"] = v.login_2fa_token;
  j["code"] = v.code;
  detail::put_extra(j, v.extra);
  return j;
}

Result<RegistryTokenResponse> Codec<RegistryTokenResponse>::decode(const Json& j,
                                                                   const std::string& path) {
  return detail::guarded<RegistryTokenResponse>(path, [&]() -> Result<RegistryTokenResponse> {
    ObjectReader r(j, path);
    RegistryTokenResponse v;
    r.read("token", v.token);
    r.read("access_token", v.access_token);
    r.read("expires_in", v.expires_in);
    r.read("issued_at", v.issued_at);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<RegistryTokenResponse>::encode(const RegistryTokenResponse& v) {
  Json j = Json::object();
  j["token"] = v.token;
  detail::put(j, "access_token", v.access_token);
  detail::put(j, "expires_in", v.expires_in);
  detail::put(j, "issued_at", v.issued_at);
  detail::put_extra(j, v.extra);
  return j;
}

Result<AccessEntry> Codec<AccessEntry>::decode(const Json& j, const std::string& path) {
  return detail::guarded<AccessEntry>(path, [&]() -> Result<AccessEntry> {
    ObjectReader r(j, path);
    AccessEntry v;
    r.read("type", v.type);
    r.read("name", v.name);
    r.read("actions", v.actions);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<AccessEntry>::encode(const AccessEntry& v) {
  Json j = Json::object();
  j["type"] = v.type;
  j["name"] = v.name;
  j["actions"] = v.actions;
  detail::put_extra(j, v.extra);
  return j;
}

Result<JwtHeader> Codec<JwtHeader>::decode(const Json& j, const std::string& path) {
  return detail::guarded<JwtHeader>(path, [&]() -> Result<JwtHeader> {
    ObjectReader r(j, path);
    JwtHeader v;
    r.read("alg", v.alg);
    r.read("typ", v.typ);
    r.read("kid", v.kid);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<JwtHeader>::encode(const JwtHeader& v) {
  Json j = Json::object();
  j["alg"] = v.alg;
  detail::put(j, "typ", v.typ);
  detail::put(j, "kid", v.kid);
  detail::put_extra(j, v.extra);
  return j;
}

Result<JwtClaims> Codec<JwtClaims>::decode(const Json& j, const std::string& path) {
  return detail::guarded<JwtClaims>(path, [&]() -> Result<JwtClaims> {
    ObjectReader r(j, path);
    JwtClaims v;
    r.read("iss", v.iss);
    r.read("sub", v.sub);
    // RFC 7519 4.1.3: `aud` is one string or an array of strings; which one is remembered so
    // the claims re-encode as they came.
    if (const Json* aud = r.take("aud")) {
      if (aud->is_string()) {
        v.aud = std::vector<std::string>{aud->get<std::string>()};
      } else if (aud->is_array()) {
        auto list = detail::read_string_array(*aud, r.path_of("aud"));
        if (list.ok()) {
          v.aud = std::move(list).value();
          v.aud_is_array = true;
        } else {
          r.fail(list.error());
        }
      } else {
        r.fail(detail::type_error(r.path_of("aud"), "string or array", *aud));
      }
    }
    r.read("exp", v.exp);
    r.read("iat", v.iat);
    r.read("nbf", v.nbf);
    r.read("jti", v.jti);
    r.read("scope", v.scope);
    r.read_each("access", v.access);
    r.read("username", v.username);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<JwtClaims>::encode(const JwtClaims& v) {
  Json j = Json::object();
  detail::put(j, "iss", v.iss);
  detail::put(j, "sub", v.sub);
  if (v.aud) {
    if (!v.aud_is_array && v.aud->size() == 1) {
      j["aud"] = v.aud->front();
    } else {
      j["aud"] = *v.aud;
    }
  }
  detail::put(j, "exp", v.exp);
  detail::put(j, "iat", v.iat);
  detail::put(j, "nbf", v.nbf);
  detail::put(j, "jti", v.jti);
  detail::put(j, "scope", v.scope);
  if (v.access) {
    Json access = Json::array();
    for (const auto& entry : *v.access) access.push_back(Codec<AccessEntry>::encode(entry));
    j["access"] = std::move(access);
  }
  detail::put(j, "username", v.username);
  detail::put_extra(j, v.extra);
  return j;
}

}  // namespace patrol::model
