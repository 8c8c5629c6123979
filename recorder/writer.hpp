// Crash-safe cassette writing. Each interaction is redacted, then appended as one line to a
// journal beside the cassette as it completes; the HAR file is produced from the journal
// atomically (temp file, fsync, rename). A kill -9 loses at most the interaction in flight, and
// the next open (read_cassette, CassetteWriter::open, `patrol record --recover`) turns a leftover
// journal into a valid cassette, dropping a torn last line.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/result.hpp"
#include "recorder/cassette.hpp"
#include "recorder/redactor.hpp"

namespace patrol::recorder {

// When append() returns relative to the disk.
enum class Durability : std::uint8_t {
  // Once the entry is written to the journal: it survives a kill -9 of the recorder. A background
  // thread fsyncs behind the writers once a second at most, so an OS crash or power loss loses at
  // most the interactions of the last second.
  kFlushBehind,
  // Once the entry is fsync'd: it survives power loss. Concurrent appends share one fsync.
  kSyncEach,
};

struct WriterOptions {
  CassetteInfo info;                     // its annotations are redacted too
  std::vector<DeclaredSecret> declared;  // secrets whose placeholders are named (see redactor.hpp)
  Durability durability = Durability::kFlushBehind;
  bool overwrite = false;  // replace an existing cassette instead of refusing
};

// Returns the journal path of a cassette: "<path>.journal".
std::string journal_path_for(const std::string& cassette_path);

struct RecoveryReport {
  bool had_journal = false;
  std::size_t entries = 0;     // entries in the cassette produced
  std::size_t torn_bytes = 0;  // bytes of an incomplete last line that were dropped
};

// Turns a leftover journal into the cassette at `cassette_path` and removes the journal. Without a
// journal it does nothing (had_journal false). A malformed line other than the last is an error
// naming the line; the journal is then left in place.
model::Result<RecoveryReport> recover_journal(const std::string& cassette_path);

// Writes a whole cassette atomically, redacting every interaction and the annotations.
model::Status write_cassette(const std::string& path, const Cassette& cassette,
                             std::vector<DeclaredSecret> declared = {});

// Records one cassette. append() is thread-safe and may be called from many connections at once.
class CassetteWriter {
 public:
  // Recovers a leftover journal first; refuses an existing cassette unless options.overwrite.
  static model::Result<std::unique_ptr<CassetteWriter>> open(const std::string& cassette_path,
                                                             WriterOptions options);
  // Finishes the cassette if finish() was not called (errors are then lost: call finish()).
  ~CassetteWriter();
  CassetteWriter(const CassetteWriter&) = delete;
  CassetteWriter& operator=(const CassetteWriter&) = delete;

  // Redacts the interaction and appends it to the journal (see Durability for when it returns).
  model::Status append(const Interaction& interaction);

  // Produces the cassette from the journal and removes the journal. Later appends fail.
  model::Status finish();

  // Number of interactions appended.
  std::size_t size() const { return count_.load(); }
  const std::string& path() const { return path_; }
  Durability durability() const { return durability_; }
  // The redactor of this cassette, for redacting log lines consistently with it.
  Redactor& redactor() { return redactor_; }

 private:
  CassetteWriter(std::string path, int fd, WriterOptions options);
  model::Status start();  // writes the journal header and starts the flusher
  void flush_loop();

  std::string path_;
  std::string journal_;
  int fd_;
  Durability durability_;
  CassetteInfo info_;
  Redactor redactor_;
  std::atomic<std::size_t> count_{0};

  std::mutex write_mu_;  // file order; taken before sync_mu_
  bool finished_ = false;
  std::string write_error_;
  model::Status finish_status_ = model::Ok{};

  std::mutex sync_mu_;
  std::condition_variable work_cv_;
  std::condition_variable synced_cv_;
  std::uint64_t written_ = 0;
  std::uint64_t synced_ = 0;
  bool stop_ = false;
  // The flusher waits for lines to sync (not in its pause between syncs): only then does an
  // append need to wake it. Waking it on every append cost a context switch per request.
  bool flusher_idle_ = false;
  std::string sync_error_;
  std::thread flusher_;
};

}  // namespace patrol::recorder
