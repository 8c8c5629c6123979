#include "recorder/writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "recorder/har_format.hpp"

namespace patrol::recorder {

using model::ErrorKind;
using model::make_error;
using model::Result;
using model::Status;

namespace {

constexpr std::chrono::milliseconds kFlushInterval{1000};

std::string errno_text() { return std::strerror(errno); }

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Status write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorKind::kIo, what + ": write failed: " + errno_text());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return model::Ok{};
}

Status sync_directory_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorKind::kIo, dir + ": cannot open directory: " + errno_text());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return make_error(ErrorKind::kIo, dir + ": fsync failed: " + errno_text());
  return model::Ok{};
}

// Writes `chunks` to `path` atomically: a temporary file beside it, fsync, rename, fsync of the
// directory.
Status write_atomically(const std::string& path, const std::vector<std::string_view>& chunks) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(ErrorKind::kIo, tmp + ": cannot create: " + errno_text());
  // Entries and their separators are small: gather them so the file takes a few large writes.
  constexpr std::size_t kGather = 1u << 20;
  std::string gathered;
  for (std::size_t i = 0; i <= chunks.size(); ++i) {
    const bool last = i == chunks.size();
    if (!last) gathered.append(chunks[i]);
    if (gathered.size() < kGather && !last) continue;
    if (auto s = write_all(fd, gathered, tmp); !s.ok()) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    gathered.clear();
  }
  if (::fsync(fd) != 0) {
    auto err = make_error(ErrorKind::kIo, tmp + ": fsync failed: " + errno_text());
    ::close(fd);
    ::unlink(tmp.c_str());
    return err;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = make_error(ErrorKind::kIo, path + ": rename failed: " + errno_text());
    ::unlink(tmp.c_str());
    return err;
  }
  return sync_directory_of(path);
}

}  // namespace

namespace detail {

Result<std::string> read_whole_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorKind::kIo, path + ": cannot open: " + errno_text());
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = make_error(ErrorKind::kIo, path + ": read failed: " + errno_text());
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace detail

namespace {

// Builds the cassette from a journal. With `validate`, each entry line must be a JSON object; an
// invalid or unterminated last line is dropped as torn.
Result<RecoveryReport> assemble(const std::string& journal, const std::string& cassette,
                                bool validate) {
  auto text = detail::read_whole_file(journal);
  if (!text.ok()) return text.error();
  RecoveryReport report;
  report.had_journal = true;
  std::string_view all = *text;
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < all.size()) {
    auto nl = all.find('\n', pos);
    if (nl == std::string_view::npos) {
      report.torn_bytes = all.size() - pos;
      break;
    }
    lines.push_back(all.substr(pos, nl - pos));
    pos = nl + 1;
  }
  CassetteInfo info;
  if (!lines.empty()) {
    auto header = detail::decode_journal_header(lines.front());
    if (!header.ok()) return header.error();
    info = std::move(*header);
  }
  std::vector<std::string_view> chunks;
  std::string head = detail::encode_log_head(info);
  chunks.push_back(head);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (validate) {
      bool ok = !line.empty() && line.front() == '{' && model::Json::accept(line);
      if (!ok) {
        if (i + 1 == lines.size()) {
          report.torn_bytes += line.size() + 1;
          break;
        }
        return make_error(ErrorKind::kParse, "journal line " + std::to_string(i + 1) +
                                                 ": not a complete HAR entry (the journal is "
                                                 "corrupt before its last line)");
      }
    }
    if (report.entries > 0) chunks.push_back(",\n");
    chunks.push_back(line);
    ++report.entries;
  }
  if (report.entries > 0) chunks.push_back("\n");
  chunks.push_back(detail::kLogTail);
  if (auto s = write_atomically(cassette, chunks); !s.ok()) return s.error();
  if (::unlink(journal.c_str()) != 0) {
    return make_error(ErrorKind::kIo, journal + ": cannot remove: " + errno_text());
  }
  if (auto s = sync_directory_of(journal); !s.ok()) return s.error();
  return report;
}

}  // namespace

std::string journal_path_for(const std::string& cassette_path) {
  return cassette_path + ".journal";
}

Result<RecoveryReport> recover_journal(const std::string& cassette_path) {
  std::string journal = journal_path_for(cassette_path);
  if (!exists(journal)) return RecoveryReport{};
  return assemble(journal, cassette_path, true);
}

Status write_cassette(const std::string& path, const Cassette& cassette,
                      std::vector<DeclaredSecret> declared) {
  Redactor redactor(std::move(declared));
  CassetteInfo info = cassette.info;
  if (!info.annotations.is_null()) info.annotations = redactor.redact_json(info.annotations);
  std::string text = detail::encode_log_head(info);
  for (std::size_t i = 0; i < cassette.entries.size(); ++i) {
    if (i > 0) text += ",\n";
    text += detail::encode_entry(redactor.redact(cassette.entries[i]));
  }
  if (!cassette.entries.empty()) text += '\n';
  text += detail::kLogTail;
  return write_atomically(path, {text});
}

CassetteWriter::CassetteWriter(std::string path, int fd, WriterOptions options)
    : path_(std::move(path)),
      journal_(journal_path_for(path_)),
      fd_(fd),
      durability_(options.durability),
      info_(std::move(options.info)),
      redactor_(std::move(options.declared)) {}

Result<std::unique_ptr<CassetteWriter>> CassetteWriter::open(const std::string& cassette_path,
                                                             WriterOptions options) {
  auto recovered = recover_journal(cassette_path);
  if (!recovered.ok()) return recovered.error();
  if (!options.overwrite && exists(cassette_path)) {
    std::string why = cassette_path + " already exists";
    if (recovered->had_journal) {
      why += " (just recovered " + std::to_string(recovered->entries) +
             " interactions from an interrupted recording into it)";
    }
    return make_error(ErrorKind::kInvalid, why + "; choose another file or overwrite it");
  }
  std::string journal = journal_path_for(cassette_path);
  int fd = ::open(journal.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(ErrorKind::kIo, journal + ": cannot create the journal: " + errno_text());
  }
  std::unique_ptr<CassetteWriter> writer(new CassetteWriter(cassette_path, fd, std::move(options)));
  if (auto s = writer->start(); !s.ok()) {
    writer->finished_ = true;
    ::close(writer->fd_);
    writer->fd_ = -1;
    ::unlink(journal.c_str());
    return s.error();
  }
  return writer;
}

Status CassetteWriter::start() {
  CassetteInfo info = info_;
  if (!info.annotations.is_null()) info.annotations = redactor_.redact_json(info.annotations);
  std::string header = detail::encode_journal_header(info) + "\n";
  Status s = write_all(fd_, header, journal_);
  if (s.ok() && ::fdatasync(fd_) != 0) {
    s = make_error(ErrorKind::kIo, journal_ + ": fsync failed: " + errno_text());
  }
  if (s.ok()) s = sync_directory_of(journal_);
  if (s.ok()) flusher_ = std::thread([this] { flush_loop(); });
  return s;
}

CassetteWriter::~CassetteWriter() { (void)finish(); }

void CassetteWriter::flush_loop() {
  std::unique_lock<std::mutex> lock(sync_mu_);
  while (true) {
    flusher_idle_ = true;
    work_cv_.wait(lock, [&] { return stop_ || written_ > synced_; });
    flusher_idle_ = false;
    if (written_ == synced_ && stop_) return;
    std::uint64_t target = written_;
    lock.unlock();
    int rc = ::fdatasync(fd_);
    std::string err = rc == 0 ? std::string() : errno_text();
    lock.lock();
    if (rc != 0 && sync_error_.empty()) sync_error_ = journal_ + ": fsync failed: " + err;
    synced_ = target;
    synced_cv_.notify_all();
    // Behind the writers, fsync at most every kFlushInterval (Redis's "appendfsync everysec"):
    // while an fdatasync runs, a journal write() can wait milliseconds for it (measured with
    // perf trace under recorder_bench: 1-4 ms writes, every 10 ms when this was 10 ms), and the
    // proxy's event loops answer no one meanwhile.
    if (durability_ == Durability::kFlushBehind) {
      work_cv_.wait_for(lock, kFlushInterval, [&] { return stop_; });
    }
  }
}

Status CassetteWriter::append(const Interaction& interaction) {
  Redacted redacted = redactor_.redact(interaction);
  std::string line = detail::encode_entry(redacted);
  line += '\n';
  std::uint64_t seq = 0;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (finished_) return make_error(ErrorKind::kInvalid, path_ + ": cassette already finished");
    if (!write_error_.empty()) return make_error(ErrorKind::kIo, write_error_);
    if (auto s = write_all(fd_, line, journal_); !s.ok()) {
      write_error_ = s.error().message;
      return s;
    }
    count_.fetch_add(1);
    std::lock_guard<std::mutex> sync_lock(sync_mu_);
    seq = ++written_;
    wake = flusher_idle_;
  }
  if (wake) work_cv_.notify_one();
  if (durability_ == Durability::kSyncEach) {
    std::unique_lock<std::mutex> lock(sync_mu_);
    synced_cv_.wait(lock, [&] { return synced_ >= seq; });
    if (!sync_error_.empty()) return make_error(ErrorKind::kIo, sync_error_);
  }
  return model::Ok{};
}

Status CassetteWriter::finish() {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (finished_) return finish_status_;
  finished_ = true;
  {
    std::lock_guard<std::mutex> sync_lock(sync_mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (::fdatasync(fd_) != 0 && sync_error_.empty()) {
    sync_error_ = journal_ + ": fsync failed: " + errno_text();
  }
  ::close(fd_);
  fd_ = -1;
  if (!write_error_.empty() || !sync_error_.empty()) {
    // The journal stays for `patrol record --recover` once the disk is healthy again.
    finish_status_ = make_error(ErrorKind::kIo, write_error_.empty() ? sync_error_ : write_error_);
    return finish_status_;
  }
  auto built = assemble(journal_, path_, false);
  if (!built.ok()) finish_status_ = built.error();
  return finish_status_;
}

}  // namespace patrol::recorder
