#include "recorder/transports.hpp"

#include <chrono>

namespace patrol::recorder {

namespace {

model::Timestamp wall_now() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return model::Timestamp{us.count()};
}

}  // namespace

RecordingTransport::RecordingTransport(http::Transport& inner, CassetteWriter& writer,
                                       std::string origin)
    : inner_(inner), writer_(writer), origin_(std::move(origin)) {}

model::Result<model::HttpResponse> RecordingTransport::send(const model::HttpRequest& request) {
  return send_annotated(request, nullptr);
}

model::Result<model::HttpResponse> RecordingTransport::send_annotated(
    const model::HttpRequest& request, model::Json annotations) {
  Interaction interaction;
  interaction.started = wall_now();
  auto t0 = std::chrono::steady_clock::now();
  auto response = inner_.send(request);
  if (!response.ok()) return response;
  interaction.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  interaction.request = request;
  interaction.response = *response;
  interaction.origin = origin_;
  interaction.annotations = std::move(annotations);
  if (auto s = writer_.append(interaction); !s.ok()) return s.error();
  return response;
}

ReplayTransport::ReplayTransport(Cassette cassette, MatchSpec spec, model::Fixture fixture)
    : cassette_(std::move(cassette)),
      index_(cassette_.entries, std::move(spec)),
      substituter_(std::move(fixture)) {}

model::Result<model::HttpResponse> ReplayTransport::send(const model::HttpRequest& request) {
  auto taken = index_.take(request);
  if (const auto* miss = std::get_if<ReplayIndex::Miss>(&taken)) {
    return model::make_error(model::ErrorKind::kInvalid, "replay: " + miss->message);
  }
  std::size_t entry = std::get<ReplayIndex::Hit>(taken).entry;
  return substituter_.apply(cassette_.entries[entry].response);
}

}  // namespace patrol::recorder
