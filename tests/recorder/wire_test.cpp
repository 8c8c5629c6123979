// HTTP/1.1 framing of the recording proxy (recorder/wire) without sockets: requests and responses
// fed whole, byte by byte and pipelined, de-chunked bodies, the limits and the statuses they give,
// keep-alive, interim responses, bodiless responses, and the exact bytes the writers produce.
#include "recorder/wire.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace patrol::recorder::wire {
namespace {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kMaxBody = 1024;

// Feeds `bytes` in pieces of at most `step` bytes, handing back whatever a call leaves, until the
// reader stops needing more or the bytes run out. Returns the bytes consumed.
template <class Reader>
std::size_t feed_in_steps(Reader& reader, std::string_view bytes, std::size_t step) {
  std::size_t pos = 0;
  while (pos < bytes.size() && reader.progress() == Progress::kNeedMore) {
    const std::size_t n = reader.feed(bytes.substr(pos, step));
    pos += n;
    if (n == 0) break;
  }
  return pos;
}

// ---- RequestReader ----

TEST(WireRequest, FedByteByByteReadsWhatFedWholeReads) {
  const std::string bytes =
      "POST /v2/access-tokens?page=2 HTTP/1.1\r\n"
      "Host: hub.docker.com\r\n"
      "X-Empty:\r\n"
      "Authorization: Bearer abc.def  \r\n"
      "Content-Length: 11\r\n"
      "\r\n"
      "hello world";
  RequestReader whole(kMaxBody);
  ASSERT_EQ(whole.feed(bytes), bytes.size());
  ASSERT_EQ(whole.progress(), Progress::kComplete);

  RequestReader bytewise(kMaxBody);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    ASSERT_EQ(bytewise.progress(), Progress::kNeedMore) << "complete after " << i << " bytes";
    ASSERT_EQ(bytewise.feed(std::string_view(bytes).substr(i, 1)), 1u) << "at byte " << i;
  }
  ASSERT_EQ(bytewise.progress(), Progress::kComplete);

  for (const RequestReader* r : {&whole, &bytewise}) {
    const Request& req = r->request();
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/v2/access-tokens?page=2");
    EXPECT_EQ(req.headers, (HeaderList{{"Host", "hub.docker.com"},
                                       {"X-Empty", ""},
                                       {"Authorization", "Bearer abc.def"},
                                       {"Content-Length", "11"}}));
    EXPECT_EQ(req.body, "hello world");
    EXPECT_TRUE(req.keep_alive);
    EXPECT_FALSE(req.http10);
  }
}

TEST(WireRequest, PipelinedRequestsStopAtTheMessageBoundary) {
  const std::string first = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  const std::string second = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string third = "DELETE /c HTTP/1.1\r\n\r\n";
  const std::string stream = first + second + third;

  RequestReader reader(kMaxBody);
  std::size_t pos = reader.feed(stream);
  ASSERT_EQ(pos, first.size());
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.request().target, "/a");
  EXPECT_EQ(reader.request().body, "hello");
  // Complete: more bytes are not taken until reset().
  EXPECT_EQ(reader.feed(std::string_view(stream).substr(pos)), 0u);

  reader.reset();
  EXPECT_FALSE(reader.in_message());
  const std::size_t n = reader.feed(std::string_view(stream).substr(pos));
  ASSERT_EQ(n, second.size());
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.request().method, "GET");
  EXPECT_EQ(reader.request().target, "/b");
  EXPECT_EQ(reader.request().headers, (HeaderList{{"Host", "x"}}));
  EXPECT_EQ(reader.request().body, "");
  pos += n;

  reader.reset();
  ASSERT_EQ(reader.feed(std::string_view(stream).substr(pos)), third.size());
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.request().method, "DELETE");
  EXPECT_EQ(reader.request().target, "/c");
  EXPECT_TRUE(reader.request().headers.empty());
}

TEST(WireRequest, ChunkedBodyIsDechunked) {
  const std::string bytes =
      "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\n\r\n";
  for (std::size_t step : {bytes.size(), std::size_t{1}, std::size_t{4}}) {
    RequestReader reader(kMaxBody);
    ASSERT_EQ(feed_in_steps(reader, bytes + "GET / HTTP/1.1\r\n\r\n", step), bytes.size())
        << "step " << step;
    ASSERT_EQ(reader.progress(), Progress::kComplete) << "step " << step;
    EXPECT_EQ(reader.request().body, "hello, world") << "step " << step;
  }
}

TEST(WireRequest, ChunkedTrailerFieldsAreNotMergedIntoTheHeaders) {
  const std::string bytes =
      "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nok\r\n0\r\nExpect: 100-continue\r\nX-Checksum: abc  \r\n\r\n";
  RequestReader reader(kMaxBody);
  ASSERT_EQ(reader.feed(bytes), bytes.size());
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.request().headers, (HeaderList{{"Transfer-Encoding", "chunked"}}));
  EXPECT_EQ(reader.request().body, "ok");
  EXPECT_FALSE(reader.request().expects_continue);
}

TEST(WireRequest, ContentLengthAboveTheLimitIs413BeforeTheBodyArrives) {
  RequestReader reader(10);
  reader.feed("POST /up HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
  ASSERT_EQ(reader.progress(), Progress::kError);
  EXPECT_EQ(reader.error_status(), 413);
  EXPECT_NE(reader.error().find("11"), std::string::npos) << reader.error();

  RequestReader at_limit(10);
  at_limit.feed("POST /up HTTP/1.1\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(at_limit.progress(), Progress::kNeedMore);
}

TEST(WireRequest, ChunkedBodyGrowingPastTheLimitIs413) {
  const std::string head = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  RequestReader reader(10);
  reader.feed(head + "6\r\nabcdef\r\n");
  ASSERT_EQ(reader.progress(), Progress::kNeedMore) << reader.error();
  reader.feed("5\r\nghijk\r\n");
  ASSERT_EQ(reader.progress(), Progress::kError);
  EXPECT_EQ(reader.error_status(), 413);

  // Exactly the limit is fine.
  RequestReader at_limit(10);
  at_limit.feed(head + "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n");
  ASSERT_EQ(at_limit.progress(), Progress::kComplete) << at_limit.error();
  EXPECT_EQ(at_limit.request().body, "abcdefghij");
}

TEST(WireRequest, HeadOver80KiBIs431) {
  const std::string start = "GET / HTTP/1.1\r\nX-Big: ";
  RequestReader big(kMaxBody);
  big.feed(start + std::string(81 * 1024, 'a') + "\r\n\r\n");
  ASSERT_EQ(big.progress(), Progress::kError);
  EXPECT_EQ(big.error_status(), 431);

  RequestReader fits(kMaxBody);
  fits.feed(start + std::string(60 * 1024, 'a') + "\r\n\r\n");
  ASSERT_EQ(fits.progress(), Progress::kComplete) << fits.error();
  EXPECT_EQ(fits.request().headers.at(0).second.size(), 60u * 1024);
}

TEST(WireRequest, ConnectIs501) {
  RequestReader reader(kMaxBody);
  reader.feed("CONNECT hub.docker.com:443 HTTP/1.1\r\nHost: hub.docker.com:443\r\n\r\n");
  ASSERT_EQ(reader.progress(), Progress::kError);
  EXPECT_EQ(reader.error_status(), 501);
}

TEST(WireRequest, GarbageIs400) {
  for (std::string_view garbage :
       {std::string_view("\x16\x03\x01\x00\xa5\x01\x00\x00", 8),  // a TLS ClientHello
        std::string_view("GET / HTTP/1.1\r\nNo colon here\r\n\r\n"),
        std::string_view("GET / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n"),
        std::string_view("GET / FTP/1.1\r\n\r\n")}) {
    RequestReader reader(kMaxBody);
    reader.feed(garbage);
    ASSERT_EQ(reader.progress(), Progress::kError) << garbage;
    EXPECT_EQ(reader.error_status(), 400) << garbage;
    EXPECT_FALSE(reader.error().empty());
  }
}

// libhttp-parser as Debian builds it frames "Transfer-Encoding :" as chunked: forwarded under a
// name the proxy does not strip, an upstream could read the de-chunked body as chunks.
TEST(WireRequest, WhitespaceInAHeaderNameIs400) {
  for (std::string_view bytes :
       {"POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length :3\r\n\r\nabc", "GET / HTTP/1.1\r\nX Y: z\r\n\r\n"}) {
    RequestReader reader(kMaxBody);
    reader.feed(bytes);
    ASSERT_EQ(reader.progress(), Progress::kError) << bytes;
    EXPECT_EQ(reader.error_status(), 400) << bytes;
  }
}

TEST(WireRequest, Http10KeepsAliveOnlyWhenItAsks) {
  RequestReader plain(kMaxBody);
  plain.feed("GET / HTTP/1.0\r\nHost: x\r\n\r\n");
  ASSERT_EQ(plain.progress(), Progress::kComplete);
  EXPECT_TRUE(plain.request().http10);
  EXPECT_FALSE(plain.request().keep_alive);

  RequestReader asks(kMaxBody);
  asks.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_EQ(asks.progress(), Progress::kComplete);
  EXPECT_TRUE(asks.request().http10);
  EXPECT_TRUE(asks.request().keep_alive);
}

TEST(WireRequest, ConnectionCloseEndsKeepAlive) {
  RequestReader close(kMaxBody);
  close.feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(close.progress(), Progress::kComplete);
  EXPECT_FALSE(close.request().keep_alive);
  EXPECT_FALSE(close.request().http10);

  RequestReader plain(kMaxBody);
  plain.feed("GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(plain.progress(), Progress::kComplete);
  EXPECT_TRUE(plain.request().keep_alive);
}

TEST(WireRequest, ExpectContinueCompletesTheHeadBeforeTheBody) {
  RequestReader reader(kMaxBody);
  const std::string head = "PUT /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n";
  reader.feed(head.substr(0, head.size() - 1));
  EXPECT_FALSE(reader.head_complete());
  reader.feed(head.substr(head.size() - 1));
  EXPECT_EQ(reader.progress(), Progress::kNeedMore);
  EXPECT_TRUE(reader.head_complete());
  EXPECT_TRUE(reader.request().expects_continue);
  EXPECT_TRUE(reader.in_message());
  reader.feed("hello");
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.request().body, "hello");

  RequestReader without(kMaxBody);
  without.feed("PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(without.progress(), Progress::kComplete);
  EXPECT_FALSE(without.request().expects_continue);
}

TEST(WireRequest, HeaderValuesLoseTrailingWhitespace) {
  const std::string bytes = "GET / HTTP/1.1\r\nX-A: value   \r\nX-B:\t v w \t\r\nX-C:   \r\n\r\n";
  for (std::size_t step : {bytes.size(), std::size_t{1}}) {
    RequestReader reader(kMaxBody);
    ASSERT_EQ(feed_in_steps(reader, bytes, step), bytes.size());
    ASSERT_EQ(reader.progress(), Progress::kComplete);
    EXPECT_EQ(reader.request().headers, (HeaderList{{"X-A", "value"}, {"X-B", "v w"}, {"X-C", ""}}))
        << "step " << step;
  }
}

TEST(WireRequest, RepeatedHeadersStayInOrder) {
  RequestReader reader(kMaxBody);
  reader.feed("GET / HTTP/1.1\r\nAccept: a\r\nX-One: 1\r\naccept: b\r\nAccept: c\r\n\r\n");
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.request().headers,
            (HeaderList{{"Accept", "a"}, {"X-One", "1"}, {"accept", "b"}, {"Accept", "c"}}));
}

TEST(WireRequest, ObsTextBytesAreKept) {
  const std::string value = "caf\xc3\xa9 \xff\x80 end";
  RequestReader reader(kMaxBody);
  reader.feed("GET / HTTP/1.1\r\nX-Label: " + value + "\r\n\r\n");
  ASSERT_EQ(reader.progress(), Progress::kComplete) << reader.error();
  EXPECT_EQ(reader.request().headers, (HeaderList{{"X-Label", value}}));
}

// ---- ResponseReader ----

TEST(WireResponse, ContentLengthBodyEndsTheResponse) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
  ResponseReader reader(kMaxBody);
  reader.start("GET");
  ASSERT_EQ(reader.feed(response + "HTTP/1.1 204 No Content\r\n\r\n"), response.size());
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_TRUE(reader.started());
  EXPECT_EQ(reader.response().status, 200);
  EXPECT_EQ(reader.response().body, "hello");
  EXPECT_EQ(reader.response().headers.entries, (HeaderList{{"Content-Length", "5"}, {"X-A", "b"}}));
  EXPECT_TRUE(reader.response().keep_alive);
}

TEST(WireResponse, ChunkedBodyIsDechunked) {
  const std::string response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n";
  for (std::size_t step : {response.size(), std::size_t{1}}) {
    ResponseReader reader(kMaxBody);
    reader.start("GET");
    ASSERT_EQ(feed_in_steps(reader, response + "HTTP/1.1", step), response.size());
    ASSERT_EQ(reader.progress(), Progress::kComplete);
    EXPECT_EQ(reader.response().body, "abc0123456789");
  }
}

TEST(WireResponse, CloseDelimitedBodyIsCompletedByFinish) {
  ResponseReader reader(kMaxBody);
  reader.start("GET");
  reader.feed("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of ");
  reader.feed("it");
  ASSERT_EQ(reader.progress(), Progress::kNeedMore);
  reader.finish();
  ASSERT_EQ(reader.progress(), Progress::kComplete) << reader.error();
  EXPECT_EQ(reader.response().body, "all of it");
  EXPECT_FALSE(reader.response().keep_alive);
}

TEST(WireResponse, TruncatedResponseFinishedIsAnError) {
  ResponseReader reader(kMaxBody);
  reader.start("GET");
  reader.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_EQ(reader.progress(), Progress::kNeedMore);
  reader.finish();
  ASSERT_EQ(reader.progress(), Progress::kError);
  EXPECT_FALSE(reader.error().empty());

  ResponseReader silent(kMaxBody);
  silent.start("GET");
  silent.finish();
  ASSERT_EQ(silent.progress(), Progress::kError);
  EXPECT_FALSE(silent.started());
  EXPECT_FALSE(silent.error().empty());
}

TEST(WireResponse, HeadResponseHasNoBodyWhateverContentLengthSays) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  ResponseReader reader(kMaxBody);
  reader.start("HEAD");
  ASSERT_EQ(reader.feed(response + "HTTP/1.1 200 OK\r\n"), response.size());
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.response().body, "");
  EXPECT_EQ(reader.response().headers.get("Content-Length"), "10");

  // The length describes a GET's body, so the body limit does not apply to it.
  ResponseReader small(16);
  small.start("HEAD");
  small.feed("HTTP/1.1 200 OK\r\nContent-Length: 5000000000\r\n\r\n");
  ASSERT_EQ(small.progress(), Progress::kComplete) << small.error();
}

TEST(WireResponse, NotModifiedAndNoContentEndAtTheirHead) {
  for (std::string_view head :
       {"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
    ResponseReader reader(kMaxBody);
    reader.start("GET");
    ASSERT_EQ(reader.feed(std::string(head) + "HTTP/1.1 200 OK\r\n"), head.size()) << head;
    ASSERT_EQ(reader.progress(), Progress::kComplete) << head;
    EXPECT_EQ(reader.response().body, "");
    EXPECT_TRUE(reader.response().keep_alive);
  }
}

TEST(WireResponse, InterimContinueIsSkipped) {
  const std::string bytes =
      "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
      "HTTP/1.1 200 Fine\r\nContent-Length: 2\r\nX-Final: 2\r\n\r\nok";
  for (std::size_t step : {bytes.size(), std::size_t{1}}) {
    ResponseReader reader(kMaxBody);
    reader.start("POST");
    ASSERT_EQ(feed_in_steps(reader, bytes, step), bytes.size());
    ASSERT_EQ(reader.progress(), Progress::kComplete);
    EXPECT_EQ(reader.response().status, 200);
    EXPECT_EQ(reader.response().reason, "Fine");
    EXPECT_EQ(reader.response().headers.entries,
              (HeaderList{{"Content-Length", "2"}, {"X-Final", "2"}}));
    EXPECT_EQ(reader.response().body, "ok");
  }
}

TEST(WireResponse, SwitchingProtocolsIsAnError) {
  ResponseReader reader(kMaxBody);
  reader.start("GET");
  reader.feed(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  ASSERT_EQ(reader.progress(), Progress::kError);
  EXPECT_NE(reader.error().find("101"), std::string::npos) << reader.error();
}

TEST(WireResponse, WhitespaceBeforeTheColonIsRemoved) {
  ResponseReader reader(kMaxBody);
  reader.start("GET");
  reader.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding  : chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
  ASSERT_EQ(reader.progress(), Progress::kComplete) << reader.error();
  EXPECT_EQ(reader.response().headers.entries, (HeaderList{{"Transfer-Encoding", "chunked"}}));
  EXPECT_EQ(reader.response().body, "ok");

  ResponseReader inside(kMaxBody);
  inside.start("GET");
  inside.feed("HTTP/1.1 200 OK\r\nX Y: z\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(inside.progress(), Progress::kError);
}

TEST(WireResponse, ReasonPhraseIsKeptAsSent) {
  ResponseReader reader(kMaxBody);
  reader.start("GET");
  reader.feed("HTTP/1.1 404 Nicht gefunden, leider\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.response().status, 404);
  EXPECT_EQ(reader.response().reason, "Nicht gefunden, leider");

  ResponseReader none(kMaxBody);
  none.start("GET");
  none.feed("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(none.progress(), Progress::kComplete);
  EXPECT_EQ(none.response().reason, "");
}

TEST(WireResponse, ConnectionCloseEndsKeepAlive) {
  ResponseReader reader(kMaxBody);
  reader.start("GET");
  reader.feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_FALSE(reader.response().keep_alive);
  EXPECT_EQ(reader.response().body, "ok");
}

TEST(WireResponse, ResponseBodyOverTheLimitIsAnError) {
  ResponseReader declared(4);
  declared.start("GET");
  declared.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(declared.progress(), Progress::kError);

  ResponseReader streamed(4);
  streamed.start("GET");
  streamed.feed("HTTP/1.1 200 OK\r\n\r\nabc");
  ASSERT_EQ(streamed.progress(), Progress::kNeedMore);
  streamed.feed("de");
  EXPECT_EQ(streamed.progress(), Progress::kError);
}

// ---- writers ----

model::Headers headers_of(HeaderList entries) { return model::Headers{std::move(entries)}; }

TEST(WireResponse, WriteNoContentHasNoContentLengthOrBody) {
  std::string out;
  write_response(out, 204, {}, headers_of({{"X-A", "b"}}), "ignored", ResponseFraming{});
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n");
}

TEST(WireResponse, WriteHeadResponsePassesItsLengthAndNoBody) {
  ResponseFraming framing;
  framing.head = true;
  framing.head_length = "1234";
  std::string out;
  write_response(out, 200, "OK", headers_of({{"Content-Type", "text/plain"}}), "abc", framing);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n");

  framing.head_length.clear();
  out.clear();
  write_response(out, 200, "OK", {}, "abc", framing);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\n\r\n");
}

TEST(WireResponse, WriteWithCloseSaysConnectionClose) {
  ResponseFraming framing;
  framing.close = true;
  framing.http10_keep_alive = true;  // close wins
  std::string out;
  write_response(out, 200, "OK", {}, "hi", framing);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");

  framing.close = false;
  out.clear();
  write_response(out, 200, "OK", {}, "hi", framing);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi");
}

TEST(WireResponse, WriteWithoutReasonUsesTheStandardPhrase) {
  std::string out;
  write_response(out, 404, {}, {}, "", ResponseFraming{});
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");

  out.clear();
  write_response(out, 404, "Gone Fishing", {}, "", ResponseFraming{});
  EXPECT_EQ(out, "HTTP/1.1 404 Gone Fishing\r\nContent-Length: 0\r\n\r\n");
}

TEST(WireResponse, WrittenResponseReadsBack) {
  std::string out;
  write_response(out, 201, {}, headers_of({{"Location", "/t/1"}, {"X-A", ""}}), "{\"id\":1}",
                 ResponseFraming{});
  ResponseReader reader(kMaxBody);
  reader.start("POST");
  ASSERT_EQ(reader.feed(out), out.size());
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.response().status, 201);
  EXPECT_EQ(reader.response().reason, "Created");
  EXPECT_EQ(reader.response().headers.entries,
            (HeaderList{{"Location", "/t/1"}, {"X-A", ""}, {"Content-Length", "8"}}));
  EXPECT_EQ(reader.response().body, "{\"id\":1}");
}

TEST(WireRequest, WritePostWithEmptyBodySaysContentLengthZero) {
  std::string out;
  write_request(out, "POST", "/v2/users/login", headers_of({{"Host", "h"}}), "");
  EXPECT_EQ(out, "POST /v2/users/login HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
}

TEST(WireRequest, WriteGetWithoutBodyHasNoContentLength) {
  std::string out;
  write_request(out, "GET", "/v2/access-tokens?page=1", headers_of({{"Host", "h"}}), "");
  EXPECT_EQ(out, "GET /v2/access-tokens?page=1 HTTP/1.1\r\nHost: h\r\n\r\n");

  out.clear();
  write_request(out, "DELETE", "/x", {}, "body");
  EXPECT_EQ(out, "DELETE /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody");
}

TEST(WireRequest, WrittenRequestReadsBack) {
  std::string out;
  write_request(out, "PATCH", "/v2/access-tokens/1", headers_of({{"A", "1"}, {"A", "2"}}),
                "{\"is_active\":false}");
  RequestReader reader(kMaxBody);
  ASSERT_EQ(reader.feed(out), out.size());
  ASSERT_EQ(reader.progress(), Progress::kComplete);
  EXPECT_EQ(reader.request().method, "PATCH");
  EXPECT_EQ(reader.request().target, "/v2/access-tokens/1");
  EXPECT_EQ(reader.request().headers,
            (HeaderList{{"A", "1"}, {"A", "2"}, {"Content-Length", "19"}}));
  EXPECT_EQ(reader.request().body, "{\"is_active\":false}");
}

}  // namespace
}  // namespace patrol::recorder::wire
