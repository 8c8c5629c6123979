// The HAR 1.2 text layout patrol writes: a cassette is the log head, one compact entry per line,
// and the log tail, so a journal of entry lines becomes a cassette by concatenation. Internal to
// recorder/: encoding accepts only Redacted entries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/json_tape.hpp"
#include "model/result.hpp"
#include "model/types.hpp"
#include "recorder/cassette.hpp"
#include "recorder/redactor.hpp"

namespace patrol::recorder::detail {

// One HAR entry as compact JSON, without a trailing newline.
std::string encode_entry(const Redacted& entry);

// `{"log":{"version":"1.2","creator":{...},"_patrol":...,"entries":[` and a newline. The info's
// annotations must already be redacted.
std::string encode_log_head(const CassetteInfo& info);

// Closes what encode_log_head opened.
inline constexpr std::string_view kLogTail = "]}}\n";

// The first line of a journal: its format marker and the cassette info.
std::string encode_journal_header(const CassetteInfo& info);
model::Result<CassetteInfo> decode_journal_header(std::string_view line);

// Decodes one HAR entry (node `entry` of a parsed document); errors are prefixed with `path`
// ("log.entries[3]").
model::Result<Interaction> decode_entry(const model::JsonTape& tape, std::uint32_t entry,
                                        const std::string& path);

// Reads a whole file; errors name the path.
model::Result<std::string> read_whole_file(const std::string& path);

}  // namespace patrol::recorder::detail
