// Writing report files without ever leaving a half-written one: temp file beside the target,
// fsync, rename.
#pragma once

#include <string>

#include "model/result.hpp"

namespace patrol::app {

// Replaces `path` with `content` atomically; errors name the path and the failing step.
model::Status write_file_atomic(const std::string& path, const std::string& content);

// Reads a whole file (bounded by max_bytes); errors name the path.
model::Result<std::string> read_file(const std::string& path, std::size_t max_bytes = 64u << 20);

}  // namespace patrol::app
