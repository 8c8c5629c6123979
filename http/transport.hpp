// The seam between harnesses and targets: a Transport sends one HttpRequest and returns the
// HttpResponse or a transport error (timeout, unreachable, ...). Properties never know whether
// they talk to a socket, the in-process reference server, or a cassette.
#pragma once

#include <functional>
#include <memory>

#include "model/http_message.hpp"
#include "model/result.hpp"

namespace patrol::http {

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one request and waits for its response. Errors are kTimeout, kUnavailable, kIo, or
  // kInvalid when a policy (budget, ownership guard) refuses to send.
  virtual model::Result<model::HttpResponse> send(const model::HttpRequest& request) = 0;
};

// A transport over a plain function: the in-process reference server, fakes in tests.
class FunctionTransport final : public Transport {
 public:
  using Handler = std::function<model::HttpResponse(const model::HttpRequest&)>;
  explicit FunctionTransport(Handler handler) : handler_(std::move(handler)) {}
  model::Result<model::HttpResponse> send(const model::HttpRequest& request) override {
    return handler_(request);
  }

 private:
  Handler handler_;
};

}  // namespace patrol::http
