// A validating JSON reader that parses a document into a flat tape of nodes pointing into the
// source text, without building a tree of heap objects. The oracle parses every response body
// with it (nlohmann::json costs ~3 us per token object, the oracle's whole budget); strictness
// matches RFC 8259 and nlohmann's parser (UTF-8 validated, lone surrogates refused).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace patrol::model {

enum class JsonKind : std::uint8_t { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

// One node of the tape. Containers are followed by their children in document order; an object's
// children alternate key (a string node) and value.
struct JsonNode {
  JsonKind kind = JsonKind::kNull;
  bool escaped = false;     // string: the raw text contains backslash escapes
  bool integral = false;    // number: no fraction or exponent
  std::uint32_t begin = 0;  // string: first byte after the opening quote; number: first byte
  std::uint32_t len = 0;    // string/number: raw byte length; container: number of children
  std::uint32_t end = 0;    // index one past the last node of this subtree
  std::uint32_t close = 0;  // container: byte offset one past its closing bracket
};

// A parsed document. Reusing one JsonTape for many documents avoids allocation.
class JsonTape {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  static constexpr std::size_t kMaxDepth = 512;

  // Parses `text` (which must outlive the tape's use). Returns false and sets error() on failure.
  bool parse(std::string_view text);
  // Describes the last parse failure: "offset 12: expected ':'".
  const std::string& error() const { return error_; }

  std::string_view text() const { return text_; }
  std::span<const JsonNode> nodes() const { return {nodes_.data(), count_}; }
  const JsonNode& node(std::uint32_t i) const { return nodes_[i]; }
  std::uint32_t size() const { return count_; }

  JsonKind kind(std::uint32_t i) const { return nodes_[i].kind; }
  bool is_object(std::uint32_t i) const { return nodes_[i].kind == JsonKind::kObject; }
  bool is_array(std::uint32_t i) const { return nodes_[i].kind == JsonKind::kArray; }
  bool is_string(std::uint32_t i) const { return nodes_[i].kind == JsonKind::kString; }
  bool is_bool(std::uint32_t i) const {
    return nodes_[i].kind == JsonKind::kTrue || nodes_[i].kind == JsonKind::kFalse;
  }

  // Returns the value node of `key` in object `obj` (the last one when duplicated), or kNone.
  std::uint32_t find(std::uint32_t obj, std::string_view key) const;

  // Returns a string node's decoded value; `scratch` holds it when escapes had to be decoded.
  std::string_view str(std::uint32_t i, std::string& scratch) const;
  // Returns a string node's raw text between the quotes (escapes not decoded).
  std::string_view raw(std::uint32_t i) const {
    return text_.substr(nodes_[i].begin, nodes_[i].len);
  }
  // Returns the source text of a scalar (a string includes its quotes); "{" or "[" for containers.
  std::string_view scalar_text(std::uint32_t i) const;
  // Returns the whole source text of a container, brackets included.
  std::string_view container_text(std::uint32_t i) const {
    return text_.substr(nodes_[i].begin, nodes_[i].close - nodes_[i].begin);
  }

  // Returns a number node's value when it is an integer representable as int64 (2.0 counts).
  std::optional<std::int64_t> integer(std::uint32_t i) const;
  // Returns a number node's value as a double.
  double number(std::uint32_t i) const;

  // The first child of a container (equal to node(i).end when empty) and the next sibling.
  std::uint32_t first_child(std::uint32_t i) const { return i + 1; }
  std::uint32_t next_sibling(std::uint32_t i) const { return nodes_[i].end; }

  // Renders the JSON path of node `target` ("results[2].token"), "$" for the root.
  std::string path_of(std::uint32_t target) const;

 private:
  bool fail(std::size_t offset, const char* what);
  bool parse_string(std::size_t& i, JsonNode& node);
  bool parse_number(std::size_t& i, JsonNode& node);

  // Returns the next node, reset; the caller fills it and advances count_. The buffer was sized
  // for the document by parse(), so the reference stays valid until the next slot().
  JsonNode& slot() {
    if (count_ == nodes_.size()) nodes_.resize(nodes_.size() * 2 + 16);
    JsonNode& n = nodes_[count_];
    n = JsonNode{};
    return n;
  }

  std::string_view text_;
  std::vector<JsonNode> nodes_;  // only the first count_ are this document's; reused across parses
  std::uint32_t count_ = 0;
  std::vector<std::uint32_t> stack_ = std::vector<std::uint32_t>(kMaxDepth);  // open containers
  std::size_t depth_ = 0;
  std::string error_;
};

// Decodes the escapes of a raw JSON string body into `out` (the input was validated by parse()).
void json_unescape(std::string_view raw, std::string& out);

// Appends `s` to `out` as a JSON string literal (quotes included), escaping as RFC 8259 requires.
void json_quote(std::string_view s, std::string& out);

}  // namespace patrol::model
