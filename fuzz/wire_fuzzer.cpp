// Fuzz target: the recording proxy's HTTP/1.1 framing (recorder/wire). Input: one settings byte,
// then a client's (or an upstream's) byte stream. Fed in the pieces the settings choose, the
// stream reads as the same messages, lengths and error as fed whole, and every message read
// writes back (write_request / write_response) to bytes that read as the same message.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/byte_reader.hpp"
#include "fuzz/fuzz_check.hpp"
#include "recorder/wire.hpp"

namespace patrol::fuzz {
namespace {

namespace wire = recorder::wire;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Small, so that bodies over the limit (413, upstream errors) are within the fuzzer's reach.
constexpr std::size_t kMaxBody = 100;

// The settings byte. Printable characters cover every combination, so seeds stay text:
// '@' requests in 1-byte pieces, 'A' responses to GETs in 1-byte pieces, 'Q' to a HEAD first.
struct Settings {
  bool responses = false;  // bit 0: an upstream's responses rather than a client's requests
  unsigned pattern = 0;    // bits 1-3: how the stream is cut into feed() calls, see Pieces
  unsigned head_mask = 0;  // bits 4-5: response i answers a HEAD when bit (i % 2) is set
  std::uint32_t seed = 0;  // the whole byte, seeding pattern 6

  explicit Settings(std::uint8_t b)
      : responses((b & 1) != 0), pattern((b >> 1) & 7), head_mask((b >> 4) & 3), seed(b + 1u) {}
  const char* method(std::size_t i) const { return (head_mask >> (i % 2)) & 1 ? "HEAD" : "GET"; }
};

// Cuts a stream into the pieces one pattern feeds; kWhole feeds each call everything left.
class Pieces {
 public:
  static constexpr unsigned kWhole = ~0u;
  Pieces(unsigned pattern, std::uint32_t seed) : pattern_(pattern), state_(seed * 2654435761u) {}

  // Returns the length of the next piece of `rest` (never 0 when `rest` is not empty).
  std::size_t next(std::string_view rest) {
    static constexpr std::size_t kFixed[] = {1, 2, 3, 7, 31};
    std::size_t n = rest.size();
    if (pattern_ < 5) {
      n = kFixed[pattern_];
    } else if (pattern_ == 5) {
      n = calls_ % 2 == 0 ? 1 : 9;
    } else if (pattern_ == 6) {  // xorshift32: 1 to 16 bytes
      state_ ^= state_ << 13;
      state_ ^= state_ >> 17;
      state_ ^= state_ << 5;
      n = 1 + state_ % 16;
    } else if (pattern_ == 7) {  // through the next CR or LF: every line ending on a boundary
      const std::size_t at = rest.find_first_of("\r\n");
      if (at != std::string_view::npos) n = at + 1;
    }
    ++calls_;
    return n < rest.size() ? n : rest.size();
  }

 private:
  unsigned pattern_;
  std::uint32_t state_;
  std::size_t calls_ = 0;
};

// What a stream read as: its messages, the bytes each took, and how reading ended.
template <class Message>
struct Outcome {
  std::vector<Message> messages;
  std::vector<std::size_t> lengths;
  std::vector<bool> by_finish;  // responses: completed when the upstream closed
  bool error = false;
  int error_status = 0;  // requests
  std::string error_text;
  std::size_t tail = 0;  // bytes of an incomplete last message (requests)
};

std::string printable(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string show_headers(const HeaderList& headers) {
  std::string out;
  for (const auto& [k, v] : headers) out += " [" + printable(k) + ": " + printable(v) + "]";
  return out;
}

std::string show(const wire::Request& r) {
  return printable(r.method) + " " + printable(r.target) + show_headers(r.headers) + " body '" +
         printable(r.body) + "' keep_alive " + std::to_string(r.keep_alive) + " http10 " +
         std::to_string(r.http10) + " expects_continue " + std::to_string(r.expects_continue);
}

std::string show(const wire::Response& r) {
  return std::to_string(r.status) + " '" + printable(r.reason) + "'" +
         show_headers(r.headers.entries) + " body '" + printable(r.body) + "' keep_alive " +
         std::to_string(r.keep_alive);
}

bool same(const wire::Request& a, const wire::Request& b) {
  return a.method == b.method && a.target == b.target && a.headers == b.headers &&
         a.body == b.body && a.keep_alive == b.keep_alive && a.http10 == b.http10 &&
         a.expects_continue == b.expects_continue;
}

bool same(const wire::Response& a, const wire::Response& b) {
  return a.status == b.status && a.reason == b.reason && a.headers == b.headers &&
         a.body == b.body && a.keep_alive == b.keep_alive;
}

Outcome<wire::Request> read_requests(std::string_view stream, Pieces pieces) {
  Outcome<wire::Request> out;
  wire::RequestReader reader(kMaxBody);
  std::size_t pos = 0;
  std::size_t start = 0;
  while (pos < stream.size()) {
    const std::string_view piece = stream.substr(pos, pieces.next(stream.substr(pos)));
    const std::size_t n = reader.feed(piece);
    PATROL_FUZZ_CHECK(n <= piece.size(), "RequestReader::feed consumed " + std::to_string(n) +
                                             " of " + std::to_string(piece.size()) + " bytes");
    pos += n;
    switch (reader.progress()) {
      case wire::Progress::kComplete:
        PATROL_FUZZ_CHECK(n > 0 && reader.head_complete() && !reader.in_message(),
                          "complete request after " + std::to_string(n) + " bytes, head " +
                              std::to_string(reader.head_complete()));
        out.messages.push_back(reader.request());
        out.lengths.push_back(pos - start);
        start = pos;
        reader.reset();
        break;
      case wire::Progress::kError: {
        const int status = reader.error_status();
        PATROL_FUZZ_CHECK((status == 400 || status == 413 || status == 431 || status == 501) &&
                              !reader.error().empty(),
                          "request error " + std::to_string(status) + " '" + reader.error() + "'");
        out.error = true;
        out.error_status = status;
        out.error_text = reader.error();
        return out;
      }
      case wire::Progress::kNeedMore:
        PATROL_FUZZ_CHECK(n == piece.size() && reader.in_message(),
                          "an incomplete request took " + std::to_string(n) + " of " +
                              std::to_string(piece.size()) + " bytes");
        break;
    }
  }
  out.tail = pos - start;
  return out;
}

Outcome<wire::Response> read_responses(std::string_view stream, Pieces pieces,
                                       const Settings& settings) {
  Outcome<wire::Response> out;
  wire::ResponseReader reader(kMaxBody);
  reader.start(settings.method(0));
  std::size_t pos = 0;
  std::size_t start = 0;
  auto take = [&](bool by_finish) {
    const wire::Response& r = reader.response();
    PATROL_FUZZ_CHECK(r.status >= 200 || r.status < 100, "interim response returned: " + show(r));
    out.messages.push_back(r);
    out.lengths.push_back(pos - start);
    out.by_finish.push_back(by_finish);
    start = pos;
    reader.start(settings.method(out.messages.size()));
  };
  while (pos < stream.size()) {
    const std::string_view piece = stream.substr(pos, pieces.next(stream.substr(pos)));
    const std::size_t n = reader.feed(piece);
    PATROL_FUZZ_CHECK(n <= piece.size(), "ResponseReader::feed consumed " + std::to_string(n) +
                                             " of " + std::to_string(piece.size()) + " bytes");
    pos += n;
    switch (reader.progress()) {
      case wire::Progress::kComplete:
        PATROL_FUZZ_CHECK(n > 0, "a response completed on no bytes");
        take(false);
        break;
      case wire::Progress::kError:
        PATROL_FUZZ_CHECK(!reader.error().empty(), "a response error without a message");
        out.error = true;
        out.error_text = reader.error();
        return out;
      case wire::Progress::kNeedMore:
        PATROL_FUZZ_CHECK(n == piece.size() && reader.started(),
                          "an incomplete response took " + std::to_string(n) + " of " +
                              std::to_string(piece.size()) + " bytes");
        break;
    }
  }
  // The upstream closes: a close-delimited body ends, anything else unfinished is an error.
  const bool started = reader.started();
  reader.finish();
  if (reader.progress() == wire::Progress::kComplete) {
    PATROL_FUZZ_CHECK(started && !reader.response().keep_alive,
                      "finish() completed " + show(reader.response()));
    take(true);
  } else {
    PATROL_FUZZ_CHECK(reader.progress() == wire::Progress::kError && !reader.error().empty(),
                      "finish() left the reader needing more");
    out.error = true;
    out.error_text = reader.error();
  }
  return out;
}

template <class Message>
void check_same_outcome(const Outcome<Message>& whole, const Outcome<Message>& split,
                        unsigned pattern) {
  const std::string how = "fed whole and in pattern " + std::to_string(pattern) + ": ";
  PATROL_FUZZ_CHECK(whole.messages.size() == split.messages.size(),
                    how + std::to_string(whole.messages.size()) + " vs " +
                        std::to_string(split.messages.size()) + " messages");
  for (std::size_t i = 0; i < whole.messages.size(); ++i) {
    PATROL_FUZZ_CHECK(same(whole.messages[i], split.messages[i]),
                      how + "message " + std::to_string(i) + " differs:\n  " +
                          show(whole.messages[i]) + "\n  " + show(split.messages[i]));
  }
  PATROL_FUZZ_CHECK(whole.lengths == split.lengths && whole.by_finish == split.by_finish &&
                        whole.tail == split.tail,
                    how + "message lengths differ");
  PATROL_FUZZ_CHECK(whole.error == split.error && whole.error_status == split.error_status &&
                        whole.error_text == split.error_text,
                    how + "errors differ: " + std::to_string(whole.error_status) + " '" +
                        whole.error_text + "' vs " + std::to_string(split.error_status) + " '" +
                        split.error_text + "'");
}

// Content-Length and Transfer-Encoding: the writers frame bodies themselves, as the proxy has them.
// libhttp-parser 2.9 takes any name that starts with "Transfer-Encoding" ("Transfer-Encodings")
// as using a transfer coding, and then refuses a Content-Length beside it: left out too.
bool is_framing(std::string_view name) {
  constexpr std::string_view kTransferEncoding = "Transfer-Encoding";
  return model::header_name_equal(name, "Content-Length") ||
         model::header_name_equal(name.substr(0, kTransferEncoding.size()), kTransferEncoding);
}

HeaderList without_framing(const HeaderList& headers) {
  HeaderList out;
  for (const auto& h : headers) {
    if (!is_framing(h.first)) out.push_back(h);
  }
  return out;
}

// The first line of a message (after the blank lines a reader skips), without its line ending.
std::string_view first_line(std::string_view raw) {
  while (!raw.empty() && (raw.front() == '\r' || raw.front() == '\n')) raw.remove_prefix(1);
  std::string_view line = raw.substr(0, raw.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

void check_request_rewrite(const wire::Request& r, std::string_view raw) {
  const model::Headers headers{without_framing(r.headers)};
  std::string bytes;
  wire::write_request(bytes, r.method, r.target, headers, r.body);
  wire::RequestReader reader(kMaxBody);
  const std::size_t n = reader.feed(bytes);
  PATROL_FUZZ_CHECK(reader.progress() == wire::Progress::kComplete && n == bytes.size(),
                    "write_request wrote '" + printable(bytes) + "', read back " +
                        std::to_string(n) + " bytes: " + reader.error() + "\nfrom " + show(r));
  const wire::Request& again = reader.request();
  const bool same_request = again.method == r.method && again.target == r.target &&
                            without_framing(again.headers) == headers.entries &&
                            again.body == r.body && again.expects_continue == r.expects_continue &&
                            !again.http10;
  PATROL_FUZZ_CHECK(same_request, "rewritten request differs:\n  " + show(r) + "\n  " +
                                      show(again) + "\n  wrote '" + printable(bytes) + "'");
  const std::string_view line = first_line(raw);
  if (line.size() > 9 && line.substr(line.size() - 9) == " HTTP/1.1") {
    PATROL_FUZZ_CHECK(again.keep_alive == r.keep_alive,
                      "keep_alive changed when rewritten: " + show(r));
  }
}

void check_response_rewrite(const wire::Response& r, std::string_view raw, const char* method,
                            bool by_finish) {
  const bool head = std::string_view(method) == "HEAD";
  const bool bodiless = head || r.status == 204 || r.status == 304;
  PATROL_FUZZ_CHECK(!bodiless || r.body.empty(), "a body on a bodiless response: " + show(r));

  const model::Headers headers{without_framing(r.headers.entries)};
  wire::ResponseFraming framing;
  framing.head = head;
  if (head) framing.head_length = r.headers.get("Content-Length").value_or("");
  std::string bytes;
  wire::write_response(bytes, r.status, r.reason, headers, r.body, framing);
  wire::ResponseReader reader(kMaxBody);
  reader.start(method);
  const std::size_t n = reader.feed(bytes);
  PATROL_FUZZ_CHECK(reader.progress() == wire::Progress::kComplete && n == bytes.size(),
                    "write_response wrote '" + printable(bytes) + "', read back " +
                        std::to_string(n) + " bytes: " + reader.error() + "\nfrom " + show(r));
  const wire::Response& again = reader.response();
  // An empty reason is written as the standard phrase, when the status has one.
  const std::string_view status_line = first_line(bytes);
  const std::string_view written_reason = status_line.substr(status_line.find(' ', 9) + 1);
  const bool reason_ok = again.reason == (r.reason.empty() ? written_reason : r.reason);
  const bool same_response = again.status == r.status && reason_ok &&
                             without_framing(again.headers.entries) == headers.entries &&
                             again.body == r.body;
  PATROL_FUZZ_CHECK(same_response, "rewritten response differs:\n  " + show(r) + "\n  " +
                                       show(again) + "\n  wrote '" + printable(bytes) + "'");
  if (head && !framing.head_length.empty()) {
    PATROL_FUZZ_CHECK(again.headers.get("Content-Length") == framing.head_length,
                      "a HEAD response lost its Content-Length: " + show(again));
  }
  // An HTTP/1.1 response framed by its head (its first status line is its own: no interim one
  // came first): whether the connection stays open is up to its headers, which are kept. Not for
  // a chunked one: libhttp-parser reads Connection and Transfer-Encoding in its trailer too.
  std::string_view line = first_line(raw);
  const bool http11 = line.substr(0, 9) == "HTTP/1.1 ";
  line.remove_prefix(std::min(line.size(), line.find_first_not_of(' ', 9)));
  const std::string_view digits = line.substr(0, line.find_first_not_of("0123456789"));
  if (!by_finish && http11 && !r.headers.has("Transfer-Encoding") && !digits.empty() &&
      digits.size() <= 3 && std::stoi(std::string(digits)) == r.status) {
    PATROL_FUZZ_CHECK(again.keep_alive == r.keep_alive,
                      "keep_alive changed when rewritten: " + show(r));
  }
}

void run(const Settings& settings, std::string_view stream) {
  if (!settings.responses) {
    const auto whole = read_requests(stream, Pieces(Pieces::kWhole, 0));
    check_same_outcome(whole, read_requests(stream, Pieces(settings.pattern, settings.seed)),
                       settings.pattern);
    std::size_t at = 0;
    for (std::size_t i = 0; i < whole.messages.size(); ++i) {
      check_request_rewrite(whole.messages[i], stream.substr(at, whole.lengths[i]));
      at += whole.lengths[i];
    }
  } else {
    const auto whole = read_responses(stream, Pieces(Pieces::kWhole, 0), settings);
    check_same_outcome(whole,
                       read_responses(stream, Pieces(settings.pattern, settings.seed), settings),
                       settings.pattern);
    std::size_t at = 0;
    for (std::size_t i = 0; i < whole.messages.size(); ++i) {
      check_response_rewrite(whole.messages[i], stream.substr(at, whole.lengths[i]),
                             settings.method(i), whole.by_finish[i]);
      at += whole.lengths[i];
    }
  }
}

}  // namespace
}  // namespace patrol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  patrol::fuzz::ByteReader in(data, size);
  const patrol::fuzz::Settings settings(in.byte());
  patrol::fuzz::run(settings, in.rest());
  return 0;
}
