// The journal writer: durable appends from many threads, a HAR produced atomically, and recovery
// of an interrupted recording that drops only a torn last line.
#include "recorder/writer.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "tests/recorder/har_validator.hpp"
#include "tests/recorder/test_util.hpp"

namespace patrol::recorder {
namespace {

using testing::json_headers;
using testing::make_interaction;
using testing::make_pat;
using testing::read_all;
using testing::ScratchDir;

Interaction numbered(int i) {
  return make_interaction("GET", "/item/" + std::to_string(i), "", {}, "", 200, json_headers(),
                          "{\"i\":" + std::to_string(i) + "}");
}

WriterOptions options() {
  WriterOptions o;
  o.info.creator_version = "test";
  o.info.annotations = {{"run_id", "w"}};
  return o;
}

TEST(Writer, FinishProducesValidHarAndRemovesJournal) {
  ScratchDir dir;
  std::string path = dir.file("s.har");
  auto w = CassetteWriter::open(path, options());
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_TRUE(std::filesystem::exists(journal_path_for(path)));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*w)->append(numbered(i)).ok());
  EXPECT_EQ((*w)->size(), 3u);
  ASSERT_TRUE((*w)->finish().ok());
  EXPECT_FALSE(std::filesystem::exists(journal_path_for(path)));
  auto doc = nlohmann::json::parse(read_all(path));
  EXPECT_EQ(testing::har_problems(doc), std::vector<std::string>{});
  EXPECT_EQ(doc["log"]["_patrol"]["run_id"], "w");
  auto back = read_cassette(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->entries.size(), 3u);
  EXPECT_EQ(back->entries[2].request.path, "/item/2");
  EXPECT_TRUE((*w)->finish().ok());  // idempotent
  EXPECT_FALSE((*w)->append(numbered(9)).ok());
}

TEST(Writer, EmptyRecordingIsAValidCassette) {
  ScratchDir dir;
  {
    auto w = CassetteWriter::open(dir.file("e.har"), options());
    ASSERT_TRUE(w.ok());
  }  // the destructor finishes
  auto doc = nlohmann::json::parse(read_all(dir.file("e.har")));
  EXPECT_EQ(testing::har_problems(doc), std::vector<std::string>{});
  EXPECT_TRUE(doc["log"]["entries"].empty());
}

TEST(Writer, RefusesToOverwriteUnlessAsked) {
  ScratchDir dir;
  std::string path = dir.file("s.har");
  testing::write_all(path, "precious");
  auto refused = CassetteWriter::open(path, options());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("already exists"), std::string::npos);
  EXPECT_EQ(read_all(path), "precious");
  auto o = options();
  o.overwrite = true;
  auto w = CassetteWriter::open(path, o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->append(numbered(1)).ok());
  ASSERT_TRUE((*w)->finish().ok());
  EXPECT_EQ(read_cassette(path)->entries.size(), 1u);
}

TEST(Writer, ConcurrentAppendsAreAllKeptWhole) {
  for (auto durability : {Durability::kFlushBehind, Durability::kSyncEach}) {
    ScratchDir dir;
    auto o = options();
    o.durability = durability;
    auto w = CassetteWriter::open(dir.file("c.har"), o);
    ASSERT_TRUE(w.ok());
    constexpr int kThreads = 8;
    constexpr int kEach = 40;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          EXPECT_TRUE((*w)->append(numbered(t * 1000 + i)).ok());
        }
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE((*w)->finish().ok());
    auto back = read_cassette(dir.file("c.har"));
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_EQ(back->entries.size(), static_cast<std::size_t>(kThreads * kEach));
    std::set<std::string> paths;
    for (const auto& e : back->entries) paths.insert(e.request.path);
    EXPECT_EQ(paths.size(), static_cast<std::size_t>(kThreads * kEach));
  }
}

// Leaves a journal as a crashed recorder would: header, complete lines, maybe a torn tail.
std::string crashed_journal(ScratchDir& dir, int complete, const std::string& tail) {
  std::string path = dir.file("k.har");
  {
    auto w = CassetteWriter::open(path, options());
    EXPECT_TRUE(w.ok());
    for (int i = 0; i < complete; ++i) EXPECT_TRUE((*w)->append(numbered(i)).ok());
    // Copy the journal before the writer finishes it, as if the process died here.
    std::filesystem::copy_file(journal_path_for(path), dir.file("saved.journal"));
  }
  std::filesystem::remove(path);
  std::string text = read_all(dir.file("saved.journal")) + tail;
  testing::write_all(journal_path_for(path), text);
  return path;
}

TEST(Writer, RecoveryDropsOnlyATornLastLine) {
  ScratchDir dir;
  std::string path = crashed_journal(dir, 5, "{\"startedDateTime\":\"2023-11-14T22:1");
  auto report = recover_journal(path);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->had_journal);
  EXPECT_EQ(report->entries, 5u);
  EXPECT_GT(report->torn_bytes, 0u);
  EXPECT_FALSE(std::filesystem::exists(journal_path_for(path)));
  auto doc = nlohmann::json::parse(read_all(path));
  EXPECT_EQ(testing::har_problems(doc), std::vector<std::string>{});
  EXPECT_EQ(doc["log"]["entries"].size(), 5u);
  EXPECT_EQ(doc["log"]["_patrol"]["run_id"], "w");
}

TEST(Writer, RecoveryDropsAGarbledCompleteLastLine) {
  ScratchDir dir;
  std::string path = crashed_journal(dir, 2, std::string(12, '\0') + "\n");
  auto report = recover_journal(path);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->entries, 2u);
}

TEST(Writer, NextOpenRecoversTheJournal) {
  ScratchDir dir;
  std::string path = crashed_journal(dir, 3, "");
  auto c = read_cassette(path);  // reading recovers first
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->entries.size(), 3u);
  std::string path2 = dir.file("k2.har");
  std::filesystem::copy_file(dir.file("saved.journal"), journal_path_for(path2));
  auto w = CassetteWriter::open(path2, options());  // so does a new recording
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("just recovered 3 interactions"), std::string::npos)
      << w.error().message;
  EXPECT_EQ(read_cassette(path2)->entries.size(), 3u);
}

TEST(Writer, CorruptionBeforeTheLastLineIsAnErrorNamingTheLine) {
  ScratchDir dir;
  std::string path = crashed_journal(dir, 3, "");
  std::string text = read_all(journal_path_for(path));
  auto second_line = text.find('\n') + 1;
  text.replace(second_line, 5, "#####");
  testing::write_all(journal_path_for(path), text);
  auto report = recover_journal(path);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("journal line 2"), std::string::npos)
      << report.error().message;
  EXPECT_TRUE(std::filesystem::exists(journal_path_for(path)));  // kept for a human
}

TEST(Writer, NoJournalNothingToRecover) {
  ScratchDir dir;
  auto report = recover_journal(dir.file("none.har"));
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->had_journal);
  EXPECT_FALSE(std::filesystem::exists(dir.file("none.har")));
}

TEST(Writer, JournalNeverHoldsASecret) {
  ScratchDir dir;
  std::string pat = make_pat(21);
  auto w = CassetteWriter::open(dir.file("s.har"), options());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->append(make_interaction("POST", "/v2/access-tokens", "", json_headers(), "{}",
                                            201, json_headers(), "{\"token\":\"" + pat + "\"}"))
                  .ok());
  EXPECT_EQ(read_all(journal_path_for(dir.file("s.har"))).find(pat), std::string::npos);
  ASSERT_TRUE((*w)->finish().ok());
  EXPECT_EQ(read_all(dir.file("s.har")).find(pat), std::string::npos);
}

TEST(Writer, UnwritableDirectoryIsAClearError) {
  auto w = CassetteWriter::open("/nonexistent/patrol/s.har", options());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, model::ErrorKind::kIo);
  EXPECT_NE(w.error().message.find("/nonexistent/patrol/s.har.journal"), std::string::npos);
}

}  // namespace
}  // namespace patrol::recorder
