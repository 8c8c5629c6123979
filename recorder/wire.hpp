// HTTP/1.1 message framing for the recording proxy's event loop, over libhttp-parser: incremental
// readers that take bytes as they arrive (a request from a client, a response from an upstream),
// de-chunk bodies, stop at a message's end so pipelined bytes stay for the next one, and say
// whether the connection may be kept; and writers for the bytes that go the other way.
// No sockets here, so a fuzzer can drive the readers with any bytes in any split.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/http_message.hpp"

struct http_parser;  // libhttp-parser

namespace patrol::recorder::wire {

// A request as a client framed it: the request target raw, headers in order as sent (names as
// spelled, values without surrounding whitespace), the body de-chunked.
struct Request {
  std::string method;
  std::string target;  // "/path?query", as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = true;         // the client may send another request on the connection
  bool http10 = false;            // an HTTP/1.0 request (keep-alive only when it asks)
  bool expects_continue = false;  // "Expect: 100-continue"
};

// A response as an upstream framed it.
struct Response {
  int status = 0;
  std::string reason;  // the reason phrase as sent, possibly empty
  model::Headers headers;
  std::string body;
  bool keep_alive = true;  // the upstream keeps the connection open after it
};

enum class Progress {
  kNeedMore,  // the message is not complete yet
  kComplete,  // a whole message was read; take it, then reset() for the next
  kError,     // the bytes are not a message this reader accepts; see error_status()/error()
};

// Reads one request at a time from a client's byte stream.
class RequestReader {
 public:
  explicit RequestReader(std::size_t max_body);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Consumes bytes up to the end of the current request (never past it) and returns how many.
  std::size_t feed(std::string_view bytes);
  Progress progress() const { return progress_; }
  // The head (request line and headers) is complete; the body may still be arriving.
  bool head_complete() const { return head_complete_; }
  // True between feed() calls while bytes of a request have been seen but it is not complete.
  bool in_message() const { return started_ && progress_ == Progress::kNeedMore; }
  const Request& request() const { return request_; }
  Request& request() { return request_; }
  // For kError: the status to answer with (400, 413, 431; 501 for CONNECT) and what was wrong.
  int error_status() const { return error_status_; }
  const std::string& error() const { return error_; }
  // Readies the reader for the next request on the same connection.
  void reset();

 private:
  struct Callbacks;
  void fail(int status, std::string message);

  std::unique_ptr<::http_parser> parser_;
  std::size_t max_body_;
  Request request_;
  Progress progress_ = Progress::kNeedMore;
  bool started_ = false;
  bool head_complete_ = false;
  bool in_value_ = false;
  int error_status_ = 0;
  std::string error_;
};

// Reads the response to one request from an upstream's byte stream. 1xx interim responses are
// skipped; a body without Content-Length or chunking ends when the upstream closes (finish()).
class ResponseReader {
 public:
  ResponseReader(std::size_t max_body);
  ~ResponseReader();
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

  // Starts reading the response to a request with `method` (a HEAD response has no body).
  void start(std::string_view method);
  std::size_t feed(std::string_view bytes);
  // The upstream closed the connection: completes a close-delimited body, or fails.
  void finish();
  Progress progress() const { return progress_; }
  // Some of the response has been read.
  bool started() const { return started_; }
  const Response& response() const { return response_; }
  Response& response() { return response_; }
  const std::string& error() const { return error_; }

 private:
  struct Callbacks;
  void fail(std::string message);

  std::unique_ptr<::http_parser> parser_;
  std::size_t max_body_;
  bool head_request_ = false;
  Response response_;
  Progress progress_ = Progress::kNeedMore;
  bool started_ = false;
  bool head_complete_ = false;
  bool in_value_ = false;
  std::string field_;
  std::string error_;
};

// Appends "METHOD target HTTP/1.1", the headers as given and a Content-Length (whenever there is
// a body, and for POST, PUT and PATCH always, as cpp-httplib does), then the body.
void write_request(std::string& out, std::string_view method, std::string_view target,
                   const model::Headers& headers, std::string_view body);

// Appends a response to a client: status line (the reason phrase given, or the standard one),
// the headers as given, Content-Length (except for 1xx, 204 and 304, and for a HEAD response,
// where `head_length` is passed on if not empty), "Connection: close" when the proxy will close,
// "Connection: keep-alive" when an HTTP/1.0 client keeps it, then the body.
struct ResponseFraming {
  bool head = false;
  std::string head_length;
  bool close = false;
  bool http10_keep_alive = false;
};
void write_response(std::string& out, int status, std::string_view reason,
                    const model::Headers& headers, std::string_view body,
                    const ResponseFraming& framing);

}  // namespace patrol::recorder::wire
