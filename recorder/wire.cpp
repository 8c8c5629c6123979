#include "recorder/wire.hpp"

#include <http_parser.h>

#include <charconv>
#include <cstring>

namespace patrol::recorder::wire {

namespace {

void trim_value(std::string& v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
}

// RFC 9112 5.1: no whitespace in a field name or between it and the colon. Debian builds
// libhttp-parser with HTTP_PARSER_STRICT=0, which takes spaces in names and still frames the
// body by "Content-Length :" or "Transfer-Encoding :", names the proxy would not know to strip.
bool has_space(std::string_view name) {
  return name.find_first_of(" \t") != std::string_view::npos;
}

using FieldList = std::vector<std::pair<std::string, std::string>>;

// libhttp-parser hands a field over in pieces: a name piece after a value piece starts a field.
void add_name_piece(FieldList& fields, bool& in_value, std::string_view piece) {
  if (in_value || fields.empty()) {
    fields.emplace_back(std::string(piece), std::string());
    in_value = false;
  } else {
    fields.back().first.append(piece);
  }
}

void add_value_piece(FieldList& fields, bool& in_value, std::string_view piece) {
  fields.back().second.append(piece);
  in_value = true;
}

void append_number(std::string& out, std::size_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

}  // namespace

// ---- requests ----

struct RequestReader::Callbacks {
  static RequestReader& self(http_parser* p) { return *static_cast<RequestReader*>(p->data); }

  static int on_message_begin(http_parser* p) {
    self(p).started_ = true;
    return 0;
  }
  static int on_url(http_parser* p, const char* at, std::size_t n) {
    self(p).request_.target.append(at, n);
    return 0;
  }
  static int on_header_field(http_parser* p, const char* at, std::size_t n) {
    auto& r = self(p);
    // After the head, a chunked body's trailer field: dropped. RFC 9110 6.5.1 forbids merging it
    // into the header section, where it could claim Expect, framing or routing too late.
    if (!r.head_complete_) add_name_piece(r.request_.headers, r.in_value_, {at, n});
    return 0;
  }
  static int on_header_value(http_parser* p, const char* at, std::size_t n) {
    auto& r = self(p);
    if (!r.head_complete_) add_value_piece(r.request_.headers, r.in_value_, {at, n});
    return 0;
  }
  static int on_headers_complete(http_parser* p) {
    auto& r = self(p);
    r.head_complete_ = true;
    r.request_.method = http_method_str(static_cast<http_method>(p->method));
    r.request_.keep_alive = http_should_keep_alive(p) != 0;
    r.request_.http10 = p->http_major == 1 && p->http_minor == 0;
    for (auto& [name, value] : r.request_.headers) {
      if (has_space(name) || name.empty()) {
        r.fail(400, "malformed request: whitespace in the header name '" + name + "'");
        return -1;
      }
      trim_value(value);
      if (model::header_name_equal(name, "Expect") &&
          model::header_name_equal(value, "100-continue"))
        r.request_.expects_continue = true;
    }
    if (p->method == HTTP_CONNECT) {
      r.fail(501, "CONNECT is not proxied: patrol record is a reverse proxy");
      return -1;
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > r.max_body_) {
      r.fail(413, "request body of " + std::to_string(p->content_length) +
                      " bytes exceeds the limit of " + std::to_string(r.max_body_));
      return -1;
    }
    return 0;
  }
  static int on_body(http_parser* p, const char* at, std::size_t n) {
    auto& r = self(p);
    if (r.request_.body.size() + n > r.max_body_) {
      r.fail(413, "request body exceeds the limit of " + std::to_string(r.max_body_) + " bytes");
      return -1;
    }
    r.request_.body.append(at, n);
    return 0;
  }
  static int on_message_complete(http_parser* p) {
    self(p).progress_ = Progress::kComplete;
    http_parser_pause(p, 1);  // the next request's bytes stay unread
    return 0;
  }

  static const http_parser_settings& settings() {
    static const http_parser_settings s = [] {
      http_parser_settings x;
      http_parser_settings_init(&x);
      x.on_message_begin = on_message_begin;
      x.on_url = on_url;
      x.on_header_field = on_header_field;
      x.on_header_value = on_header_value;
      x.on_headers_complete = on_headers_complete;
      x.on_body = on_body;
      x.on_message_complete = on_message_complete;
      return x;
    }();
    return s;
  }
};

RequestReader::RequestReader(std::size_t max_body)
    : parser_(std::make_unique<http_parser>()), max_body_(max_body) {
  reset();
}

RequestReader::~RequestReader() = default;

void RequestReader::reset() {
  http_parser_init(parser_.get(), HTTP_REQUEST);
  parser_->data = this;
  request_ = Request{};
  progress_ = Progress::kNeedMore;
  started_ = false;
  head_complete_ = false;
  in_value_ = false;
  error_status_ = 0;
  error_.clear();
}

void RequestReader::fail(int status, std::string message) {
  progress_ = Progress::kError;
  error_status_ = status;
  error_ = std::move(message);
}

std::size_t RequestReader::feed(std::string_view bytes) {
  if (progress_ != Progress::kNeedMore || bytes.empty()) return 0;
  started_ = true;
  std::size_t n =
      http_parser_execute(parser_.get(), &Callbacks::settings(), bytes.data(), bytes.size());
  auto err = HTTP_PARSER_ERRNO(parser_.get());
  if (err == HPE_OK || err == HPE_PAUSED || progress_ == Progress::kError) return n;
  if (err == HPE_HEADER_OVERFLOW) {
    fail(431, "request head exceeds " + std::to_string(HTTP_MAX_HEADER_SIZE) + " bytes");
  } else if (err == HPE_INVALID_METHOD) {
    fail(400, "malformed request: unknown method or no request line");
  } else {
    fail(400, std::string("malformed request: ") + http_errno_description(err));
  }
  return n;
}

// ---- responses ----

struct ResponseReader::Callbacks {
  static ResponseReader& self(http_parser* p) { return *static_cast<ResponseReader*>(p->data); }

  static int on_status(http_parser* p, const char* at, std::size_t n) {
    self(p).response_.reason.append(at, n);
    return 0;
  }
  static int on_header_field(http_parser* p, const char* at, std::size_t n) {
    auto& r = self(p);
    // A trailer field is dropped, as a request's is.
    if (!r.head_complete_) add_name_piece(r.response_.headers.entries, r.in_value_, {at, n});
    return 0;
  }
  static int on_header_value(http_parser* p, const char* at, std::size_t n) {
    auto& r = self(p);
    if (!r.head_complete_) add_value_piece(r.response_.headers.entries, r.in_value_, {at, n});
    return 0;
  }
  static int on_headers_complete(http_parser* p) {
    auto& r = self(p);
    r.head_complete_ = true;
    r.response_.status = p->status_code;
    for (auto& [name, value] : r.response_.headers.entries) {
      trim_value(name);  // a proxy removes whitespace before the colon (RFC 9112 5.1)
      if (has_space(name) || name.empty()) {
        r.fail("malformed upstream response: whitespace in the header name '" + name + "'");
        return -1;
      }
      trim_value(value);
    }
    if (p->status_code == 101) {
      r.fail("upstream switched protocols (101), which patrol record does not proxy");
      return -1;
    }
    // No body whatever the headers say (RFC 9112 6.3): a HEAD response's Content-Length describes
    // the body a GET would get, and 1xx, 204 and 304 responses end at their head. http-parser
    // would wait for a 304's or 204's Content-Length bytes.
    const unsigned status = p->status_code;
    if (r.head_request_ || status / 100 == 1 || status == 204 || status == 304) return 1;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > r.max_body_) {
      r.fail("upstream response body of " + std::to_string(p->content_length) +
             " bytes exceeds the limit of " + std::to_string(r.max_body_));
      return -1;
    }
    return 0;
  }
  static int on_body(http_parser* p, const char* at, std::size_t n) {
    auto& r = self(p);
    if (r.response_.body.size() + n > r.max_body_) {
      r.fail("upstream response body exceeds the limit of " + std::to_string(r.max_body_) +
             " bytes");
      return -1;
    }
    r.response_.body.append(at, n);
    return 0;
  }
  static int on_message_complete(http_parser* p) {
    auto& r = self(p);
    if (r.response_.status >= 100 && r.response_.status < 200) {
      // An interim response (100 Continue, 103 Early Hints): the final one follows.
      r.response_ = Response{};
      r.in_value_ = false;
      r.head_complete_ = false;
      return 0;
    }
    r.response_.keep_alive = http_should_keep_alive(p) != 0;
    r.progress_ = Progress::kComplete;
    http_parser_pause(p, 1);
    return 0;
  }

  static const http_parser_settings& settings() {
    static const http_parser_settings s = [] {
      http_parser_settings x;
      http_parser_settings_init(&x);
      x.on_status = on_status;
      x.on_header_field = on_header_field;
      x.on_header_value = on_header_value;
      x.on_headers_complete = on_headers_complete;
      x.on_body = on_body;
      x.on_message_complete = on_message_complete;
      return x;
    }();
    return s;
  }
};

ResponseReader::ResponseReader(std::size_t max_body)
    : parser_(std::make_unique<http_parser>()), max_body_(max_body) {
  start("GET");
}

ResponseReader::~ResponseReader() = default;

void ResponseReader::start(std::string_view method) {
  http_parser_init(parser_.get(), HTTP_RESPONSE);
  parser_->data = this;
  head_request_ = method == "HEAD";
  response_ = Response{};
  progress_ = Progress::kNeedMore;
  started_ = false;
  head_complete_ = false;
  in_value_ = false;
  error_.clear();
}

void ResponseReader::fail(std::string message) {
  progress_ = Progress::kError;
  error_ = std::move(message);
}

std::size_t ResponseReader::feed(std::string_view bytes) {
  if (progress_ != Progress::kNeedMore || bytes.empty()) return 0;
  started_ = true;
  std::size_t n =
      http_parser_execute(parser_.get(), &Callbacks::settings(), bytes.data(), bytes.size());
  auto err = HTTP_PARSER_ERRNO(parser_.get());
  if (err != HPE_OK && err != HPE_PAUSED && progress_ != Progress::kError) {
    fail(std::string("malformed upstream response: ") + http_errno_description(err));
  }
  return n;
}

void ResponseReader::finish() {
  if (progress_ != Progress::kNeedMore) return;
  if (started_) {
    http_parser_execute(parser_.get(), &Callbacks::settings(), nullptr, 0);
    if (progress_ == Progress::kComplete) {
      response_.keep_alive = false;
      return;
    }
  }
  if (progress_ == Progress::kNeedMore) {
    fail(started_ ? "upstream closed the connection before the response was complete"
                  : "upstream closed the connection without responding");
  }
}

// ---- writers ----

void write_request(std::string& out, std::string_view method, std::string_view target,
                   const model::Headers& headers, std::string_view body) {
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  for (const auto& [k, v] : headers.entries) out.append(k).append(": ").append(v).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    out.append("Content-Length: ");
    append_number(out, body.size());
    out.append("\r\n");
  }
  out.append("\r\n").append(body);
}

void write_response(std::string& out, int status, std::string_view reason,
                    const model::Headers& headers, std::string_view body,
                    const ResponseFraming& framing) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(status));
  out.push_back(' ');
  if (!reason.empty()) {
    out.append(reason);
  } else {
    const char* standard = http_status_str(static_cast<http_status>(status));
    if (standard[0] != '<') out.append(standard);  // "<unknown>" for codes it does not name
  }
  out.append("\r\n");
  for (const auto& [k, v] : headers.entries) out.append(k).append(": ").append(v).append("\r\n");
  bool no_body = (status >= 100 && status < 200) || status == 204 || status == 304;
  if (framing.head) {
    if (!framing.head_length.empty()) {
      out.append("Content-Length: ").append(framing.head_length).append("\r\n");
    }
  } else if (!no_body) {
    out.append("Content-Length: ");
    append_number(out, body.size());
    out.append("\r\n");
  }
  if (framing.close) {
    out.append("Connection: close\r\n");
  } else if (framing.http10_keep_alive) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (!framing.head && !no_body) out.append(body);
}

}  // namespace patrol::recorder::wire
