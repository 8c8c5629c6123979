// Codecs of the error bodies: the hub profile's lenient shape and the spec profile's two schemas
// (contract 7, A3, A4).
#include "model/codec.hpp"
#include "model/json_read.hpp"

namespace patrol::model {

using detail::ObjectReader;

Result<HubError> Codec<HubError>::decode(const Json& j, const std::string& path) {
  return detail::guarded<HubError>(path, [&]() -> Result<HubError> {
    ObjectReader r(j, path);
    HubError v;
    r.read("message", v.message);
    r.read("detail", v.detail);
    r.read("text", v.text);
    r.read_object_or_null("errinfo", v.errinfo);
    if (r.failed()) return r.error();
    if (!v.message && !v.detail && !v.text) {
      return make_error(
          ErrorKind::kMissing,
          detail::shown_path(path) + ": expected at least one of message, detail, text");
    }
    v.extra = r.rest();
    if (v.errinfo.is_null()) {
      v.tolerated.push_back({r.path_of("errinfo"), "A3", "errinfo null"});
    }
    return v;
  });
}

Json Codec<HubError>::encode(const HubError& v) {
  Json j = Json::object();
  detail::put(j, "message", v.message);
  detail::put(j, "detail", v.detail);
  detail::put(j, "text", v.text);
  detail::put(j, "errinfo", v.errinfo);
  detail::put_extra(j, v.extra);
  return j;
}

Result<SpecValueError> Codec<SpecValueError>::decode(const Json& j, const std::string& path) {
  return detail::guarded<SpecValueError>(path, [&]() -> Result<SpecValueError> {
    ObjectReader r(j, path);
    SpecValueError v;
    r.read_object("fields", v.fields);
    r.read("text", v.text);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<SpecValueError>::encode(const SpecValueError& v) {
  Json j = Json::object();
  j["fields"] = v.fields.is_object() ? v.fields : Json::object();
  j["text"] = v.text;
  detail::put_extra(j, v.extra);
  return j;
}

Result<SpecError> Codec<SpecError>::decode(const Json& j, const std::string& path) {
  return detail::guarded<SpecError>(path, [&]() -> Result<SpecError> {
    ObjectReader r(j, path);
    SpecError v;
    r.read("detail", v.detail);
    r.read("message", v.message);
    if (r.failed()) return r.error();
    v.extra = r.rest();
    return v;
  });
}

Json Codec<SpecError>::encode(const SpecError& v) {
  Json j = Json::object();
  j["detail"] = v.detail;
  j["message"] = v.message;
  detail::put_extra(j, v.extra);
  return j;
}

}  // namespace patrol::model
