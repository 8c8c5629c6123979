// The secret-shape scan: flags PATs, signed JWTs, Basic and Bearer credentials; never flags
// placeholders, redacted JWTs or prose; looks inside base64 bodies of HAR cassettes.
#include "recorder/scan.hpp"

#include <gtest/gtest.h>

#include <set>

#include "model/jwt.hpp"
#include "recorder/writer.hpp"
#include "tests/recorder/test_util.hpp"

namespace patrol::recorder {
namespace {

using testing::make_jwt;
using testing::make_pat;
using testing::ScratchDir;

std::vector<SecretShape> shapes(const std::string& text) {
  std::vector<SecretShape> out;
  for (const auto& f : find_secret_shapes(text)) out.push_back(f.shape);
  return out;
}

TEST(Scan, FindsEachShapeWithItsSpan) {
  std::string pat = make_pat(1);
  std::string jwt = make_jwt({{"sub", "alice"}}, 1);
  std::string basic = model::base64_encode("alice:s3cr3t-password");
  std::string text = "a " + pat + " b \"" + jwt + "\" Authorization: Basic " + basic +
                     "\nAuthorization: Bearer 0123456789abcdefXYZ";
  auto found = find_secret_shapes(text);
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(text.substr(found[0].offset, found[0].length), pat);
  EXPECT_EQ(found[0].shape, SecretShape::kPat);
  EXPECT_EQ(text.substr(found[1].offset, found[1].length), jwt);
  EXPECT_EQ(found[1].shape, SecretShape::kJwt);
  EXPECT_EQ(text.substr(found[2].offset, found[2].length), basic);
  EXPECT_EQ(found[2].shape, SecretShape::kBasic);
  EXPECT_EQ(text.substr(found[3].offset, found[3].length), "0123456789abcdefXYZ");
  EXPECT_EQ(found[3].shape, SecretShape::kBearer);
}

TEST(Scan, IgnoresRedactedFormsAndProse) {
  std::string jwt = make_jwt({{"sub", "alice"}}, 2);
  std::string redacted_jwt = jwt.substr(0, jwt.rfind('.') + 1) + "<<patrol:jwt:1>>";
  std::string text =
      "dckr_pat_<<patrol:secret:1>> Bearer " + redacted_jwt + " Basic " +
      model::base64_encode("alice:<<patrol:password:alice>>") + " Basic " +
      model::base64_encode("alice:dckr_pat_<<patrol:secret:3>>") +
      " Bearer <<patrol:secret:2>> Bearer tokens and Basic authentication are described in "
      "RFC 6750; Bearer authenticationmechanism; dckr_pat_short; eyJhbGciOi.eyJzdWIi.abc";
  EXPECT_EQ(shapes(text), std::vector<SecretShape>{}) << text;
}

TEST(Scan, BearerPatOrJwtIsReportedOnce) {
  std::string pat = make_pat(4);
  EXPECT_EQ(shapes("Bearer " + pat), std::vector<SecretShape>{SecretShape::kPat});
  std::string jwt = make_jwt({{"a", 1}}, 4);
  EXPECT_EQ(shapes("bearer " + jwt), std::vector<SecretShape>{SecretShape::kJwt});
}

TEST(Scan, MaskedExcerptNeverShowsTheSecret) {
  std::string pat = make_pat(5);
  std::string shown = masked_excerpt(pat);
  EXPECT_EQ(shown.find(pat.substr(4)), std::string::npos);
  EXPECT_NE(shown.find("(36 chars)"), std::string::npos);
}

TEST(Scan, ScansDirectoriesAndHarBase64Bodies) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.file("sub/.git"));
  testing::write_all(dir.file("clean.txt"), "nothing to see");
  testing::write_all(dir.file("sub/leak.json"), "{\n\"token\": \"" + make_pat(6) + "\"\n}");
  testing::write_all(dir.file("sub/.git/ignored"), make_pat(7));
  // A HAR whose binary body hides a PAT: only decoding the base64 finds it.
  std::string body = std::string("\xff\xfe", 2) + make_pat(8);
  std::string har = R"({"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[
    {"request":{},"response":{"content":{"size":1,"mimeType":"","encoding":"base64","text":")" +
                    model::base64_encode(body) + R"("}}}]}})";
  testing::write_all(dir.file("c.har"), har);
  auto found = scan_paths({dir.path()});
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].path, dir.file("c.har"));
  EXPECT_EQ((*found)[0].location, "entries[0].response.content (base64)");
  EXPECT_EQ((*found)[1].path, dir.file("sub/leak.json"));
  EXPECT_EQ((*found)[1].location, "line 2");
  EXPECT_EQ((*found)[1].shape, SecretShape::kPat);
}

TEST(Scan, FingerprintNamesFileShapeAndSecretWithoutShowingIt) {
  ScratchDir dir;
  std::string pat = make_pat(10);
  testing::write_all(dir.file("a.txt"), pat + "\n" + make_pat(11) + "\n");
  testing::write_all(dir.file("b.txt"), "moved down\n\n" + pat + "\n");
  auto found = scan_paths({dir.path()});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 3u);
  const auto& first = (*found)[0].fingerprint;
  EXPECT_EQ(first.rfind(dir.file("a.txt") + ":pat:", 0), 0u) << first;
  EXPECT_EQ(first.size(), dir.file("a.txt").size() + 5 + 16);
  EXPECT_EQ(first.find(pat.substr(9)), std::string::npos);
  EXPECT_NE(first, (*found)[1].fingerprint);  // another secret in the same file
  // The same secret in another file, on another line: the path tells them apart, the line does not.
  EXPECT_EQ((*found)[2].fingerprint.substr((*found)[2].fingerprint.size() - 16),
            first.substr(first.size() - 16));
  EXPECT_EQ(scan_fingerprint(dir.path() + "/./x/../a.txt", SecretShape::kPat, pat), first);
  EXPECT_NE(scan_fingerprint(dir.file("a.txt"), SecretShape::kBearer, pat), first);
}

TEST(Scan, AllowlistReadsFingerprintsAndNamesABadLine) {
  ScratchDir dir;
  testing::write_all(
      dir.file("ok"),
      "# deliberate\n\n  c:/x:y.txt:pat:0123456789abcdef  \r\nz:bearer:fedcba9876543210\n");
  auto list = read_scan_allowlist(dir.file("ok"));
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(*list, (std::set<std::string>{"c:/x:y.txt:pat:0123456789abcdef",
                                          "z:bearer:fedcba9876543210"}));
  for (const char* bad : {"x:pat:0123", "pat:0123456789abcdef", "x:pat:0123456789ABCDEF",
                          "x:pat:0123456789abcdef0"}) {
    testing::write_all(dir.file("bad"), std::string("# c\n") + bad + "\n");
    auto r = read_scan_allowlist(dir.file("bad"));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(dir.file("bad") + ": line 2"), std::string::npos)
        << r.error().message;
  }
  EXPECT_FALSE(read_scan_allowlist(dir.file("missing")).ok());
}

TEST(Scan, MissingPathIsAnError) {
  auto r = scan_paths({"/nonexistent/patrol/path"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/patrol/path"), std::string::npos);
}

TEST(Scan, RedactedCassetteIsClean) {
  ScratchDir dir;
  std::string pat = make_pat(9);
  std::string jwt = make_jwt({{"sub", "alice"}}, 9);
  Cassette c;
  model::Headers h;
  h.add("Authorization", "Bearer " + jwt);
  c.entries.push_back(testing::make_interaction(
      "POST", "/v2/access-tokens", "", h, "{}", 201, testing::json_headers(),
      R"({"token":")" + pat + R"(","note":")" + std::string("\xff", 1) + pat + "\"}"));
  ASSERT_TRUE(write_cassette(dir.file("c.har"), c).ok());
  auto found = scan_paths({dir.path()});
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
}

}  // namespace
}  // namespace patrol::recorder
