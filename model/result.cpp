#include "model/result.hpp"

namespace patrol::model {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kParse: return "parse";
    case ErrorKind::kType: return "type";
    case ErrorKind::kMissing: return "missing";
    case ErrorKind::kInvalid: return "invalid";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace patrol::model
