// A validator of the HAR 1.2 required fields (http://www.softwareishard.com/blog/har-12-spec/),
// written for the tests: Debian ships no HAR schema. Returns one message per missing or mistyped
// member, naming its path; an empty list means the document is a valid HAR 1.2 log.
#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace patrol::recorder::testing {

inline std::vector<std::string> har_problems(const nlohmann::json& doc) {
  using J = nlohmann::json;
  std::vector<std::string> out;
  enum class T { kString, kNumber, kInteger, kObject, kArray, kBool };
  auto is = [](const J& v, T t) {
    switch (t) {
      case T::kString:
        return v.is_string();
      case T::kNumber:
        return v.is_number();
      case T::kInteger:
        return v.is_number_integer();
      case T::kObject:
        return v.is_object();
      case T::kArray:
        return v.is_array();
      case T::kBool:
        return v.is_boolean();
    }
    return false;
  };
  // Checks a required (or optional) member and returns it when present with the right type.
  auto member = [&](const J& obj, const std::string& path, const char* key, T t,
                    bool required = true) -> const J* {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) out.push_back(path + "." + key + ": missing");
      return nullptr;
    }
    if (!is(*it, t)) {
      out.push_back(path + "." + key + ": wrong type");
      return nullptr;
    }
    return &*it;
  };
  auto name_values = [&](const J& arr, const std::string& path) {
    for (std::size_t i = 0; i < arr.size(); ++i) {
      std::string at = path + "[" + std::to_string(i) + "]";
      if (!arr[i].is_object()) {
        out.push_back(at + ": not an object");
        continue;
      }
      member(arr[i], at, "name", T::kString);
      member(arr[i], at, "value", T::kString);
    }
  };
  auto cookies = [&](const J& arr, const std::string& path) {
    for (std::size_t i = 0; i < arr.size(); ++i) {
      std::string at = path + "[" + std::to_string(i) + "]";
      member(arr[i], at, "name", T::kString);
      member(arr[i], at, "value", T::kString);
      member(arr[i], at, "path", T::kString, false);
      member(arr[i], at, "domain", T::kString, false);
      member(arr[i], at, "expires", T::kString, false);
      member(arr[i], at, "httpOnly", T::kBool, false);
      member(arr[i], at, "secure", T::kBool, false);
    }
  };
  // Custom members must start with '_' (HAR 1.2 "Custom fields").
  auto only_known = [&](const J& obj, const std::string& path, std::vector<std::string> known) {
    for (const auto& [k, v] : obj.items()) {
      if (!k.empty() && k[0] == '_') continue;
      if (std::find(known.begin(), known.end(), k) == known.end()) {
        out.push_back(path + "." + k + ": not a HAR 1.2 member and not '_'-prefixed");
      }
    }
  };

  if (!doc.is_object()) return {"$: not an object"};
  const J* log = member(doc, "$", "log", T::kObject);
  if (log == nullptr) return out;
  only_known(*log, "log", {"version", "creator", "browser", "pages", "entries", "comment"});
  if (const J* v = member(*log, "log", "version", T::kString); v && *v != "1.2") {
    out.push_back("log.version: not 1.2");
  }
  if (const J* c = member(*log, "log", "creator", T::kObject)) {
    member(*c, "log.creator", "name", T::kString);
    member(*c, "log.creator", "version", T::kString);
  }
  const J* entries = member(*log, "log", "entries", T::kArray);
  if (entries == nullptr) return out;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const J& e = (*entries)[i];
    std::string at = "log.entries[" + std::to_string(i) + "]";
    if (!e.is_object()) {
      out.push_back(at + ": not an object");
      continue;
    }
    only_known(e, at,
               {"pageref", "startedDateTime", "time", "request", "response", "cache", "timings",
                "serverIPAddress", "connection", "comment"});
    member(e, at, "startedDateTime", T::kString);
    member(e, at, "time", T::kNumber);
    member(e, at, "cache", T::kObject);
    if (const J* rq = member(e, at, "request", T::kObject)) {
      std::string p = at + ".request";
      only_known(*rq, p,
                 {"method", "url", "httpVersion", "cookies", "headers", "queryString", "postData",
                  "headersSize", "bodySize", "comment"});
      member(*rq, p, "method", T::kString);
      member(*rq, p, "url", T::kString);
      member(*rq, p, "httpVersion", T::kString);
      if (const J* c = member(*rq, p, "cookies", T::kArray)) cookies(*c, p + ".cookies");
      if (const J* h = member(*rq, p, "headers", T::kArray)) name_values(*h, p + ".headers");
      if (const J* q = member(*rq, p, "queryString", T::kArray)) {
        name_values(*q, p + ".queryString");
      }
      member(*rq, p, "headersSize", T::kInteger);
      member(*rq, p, "bodySize", T::kInteger);
      if (const J* pd = member(*rq, p, "postData", T::kObject, false)) {
        only_known(*pd, p + ".postData", {"mimeType", "params", "text", "comment"});
        member(*pd, p + ".postData", "mimeType", T::kString);
        bool text = pd->contains("text");
        bool params = pd->contains("params");
        if (!text && !params) out.push_back(p + ".postData: neither text nor params");
        member(*pd, p + ".postData", "text", T::kString, false);
        member(*pd, p + ".postData", "params", T::kArray, false);
      }
    }
    if (const J* rs = member(e, at, "response", T::kObject)) {
      std::string p = at + ".response";
      only_known(*rs, p,
                 {"status", "statusText", "httpVersion", "cookies", "headers", "content",
                  "redirectURL", "headersSize", "bodySize", "comment"});
      member(*rs, p, "status", T::kInteger);
      member(*rs, p, "statusText", T::kString);
      member(*rs, p, "httpVersion", T::kString);
      if (const J* c = member(*rs, p, "cookies", T::kArray)) cookies(*c, p + ".cookies");
      if (const J* h = member(*rs, p, "headers", T::kArray)) name_values(*h, p + ".headers");
      if (const J* c = member(*rs, p, "content", T::kObject)) {
        only_known(*c, p + ".content",
                   {"size", "compression", "mimeType", "text", "encoding", "comment"});
        member(*c, p + ".content", "size", T::kInteger);
        member(*c, p + ".content", "mimeType", T::kString);
        member(*c, p + ".content", "text", T::kString, false);
        member(*c, p + ".content", "encoding", T::kString, false);
      }
      member(*rs, p, "redirectURL", T::kString);
      member(*rs, p, "headersSize", T::kInteger);
      member(*rs, p, "bodySize", T::kInteger);
    }
    if (const J* t = member(e, at, "timings", T::kObject)) {
      for (const char* k : {"send", "wait", "receive"}) member(*t, at + ".timings", k, T::kNumber);
      for (const char* k : {"blocked", "dns", "connect", "ssl"}) {
        member(*t, at + ".timings", k, T::kNumber, false);
      }
    }
  }
  return out;
}

}  // namespace patrol::recorder::testing
