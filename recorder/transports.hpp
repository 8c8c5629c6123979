// Transports over cassettes: RecordingTransport wraps any transport and records every exchange
// (redacted, through a CassetteWriter); ReplayTransport answers from a cassette with the
// recorded responses, identical requests in recorded order. Both are plain http::Transport
// implementations, so properties and `patrol check` never know they are there.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/transport.hpp"
#include "model/fixture.hpp"
#include "recorder/cassette.hpp"
#include "recorder/matcher.hpp"
#include "recorder/substitution.hpp"
#include "recorder/writer.hpp"

namespace patrol::recorder {

class RecordingTransport final : public http::Transport {
 public:
  // `origin` is the target's "scheme://host[:port]", written into each entry's URL.
  RecordingTransport(http::Transport& inner, CassetteWriter& writer, std::string origin);

  // Sends through the inner transport and records the exchange. A transport error is returned
  // as is and not recorded; a failed journal write is returned as a kIo error.
  model::Result<model::HttpResponse> send(const model::HttpRequest& request) override;

  // Same, with patrol annotations (command name, verdict...) stored in the entry's `_patrol`.
  model::Result<model::HttpResponse> send_annotated(const model::HttpRequest& request,
                                                    model::Json annotations);

 private:
  http::Transport& inner_;
  CassetteWriter& writer_;
  std::string origin_;
};

class ReplayTransport final : public http::Transport {
 public:
  // Placeholders in the recorded responses are replaced with stable synthetic values (declared
  // passwords and codes with the fixture's).
  ReplayTransport(Cassette cassette, MatchSpec spec = {}, model::Fixture fixture = {});

  // Returns the recorded response, or a kInvalid error naming the nearest recorded request when
  // nothing matches.
  model::Result<model::HttpResponse> send(const model::HttpRequest& request) override;

  // Entries never served, in order.
  std::vector<std::size_t> unused() const { return index_.unused(); }
  const Cassette& cassette() const { return cassette_; }

 private:
  Cassette cassette_;
  ReplayIndex index_;
  Substituter substituter_;
};

}  // namespace patrol::recorder
