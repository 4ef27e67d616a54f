#pragma once

// Prompt templates: text with {{placeholder}}s, parsed once at config load
// into segments so filling one per file is a single pass. Pure, any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dropd/base/error.hpp"

namespace dropd::config {

enum class Placeholder {
  kContent,     // {{content}}: the file's content
  kFilename,    // {{filename}}: the file's name without folders
  kPath,        // {{path}}: relative to the watched root
  kStatsLines,  // {{stats.lines}}
  kStatsWords,  // {{stats.words}}
  kStatsChars,  // {{stats.chars}}
  kStatsBytes,  // {{stats.bytes}}
  kTitle,       // {{title}}: an extracted document's title; empty for text files
  kType,        // {{type}}: the MIME type of an extracted document; text/plain for text files
};

// "content", "stats.lines", ...: the name between the braces.
[[nodiscard]] std::string_view placeholderName(Placeholder placeholder);
[[nodiscard]] std::optional<Placeholder> placeholderFromName(std::string_view name);

// One piece of a template: literal text, or a placeholder when `placeholder`
// is set (then `literal` is empty).
struct Segment {
  std::string literal;
  std::optional<Placeholder> placeholder;

  bool operator==(const Segment&) const = default;
};

struct Template {
  std::string source;  // the text as written in the config
  std::vector<Segment> segments;

  // True when the template uses `placeholder` at least once.
  [[nodiscard]] bool uses(Placeholder placeholder) const;
};

// Where parsing stopped: 0-based byte offset, and 1-based line and column
// inside the template text.
struct TemplateError {
  std::size_t offset = 0;
  int line = 1;
  int column = 1;
  std::string message;  // e.g. "unknown placeholder {{nme}} (did you mean {{name}}?)"
};

// `{{name}}` and `{{ name }}` are placeholders; any other "{{" is an error
// (unknown name, or not closed). A lone "{" or "}}" is literal text.
[[nodiscard]] tl::expected<Template, TemplateError> parseTemplate(std::string_view text);

// The values one file gives to the placeholders.
struct TemplateValues {
  std::string_view content;
  std::string_view filename;
  std::string_view path;
  std::uint64_t lines = 0;
  std::uint64_t words = 0;
  std::uint64_t chars = 0;
  std::uint64_t bytes = 0;
  std::string_view title;
  std::string_view type = "text/plain";
};

// Fills every placeholder; literal text is copied as is (no escaping).
[[nodiscard]] std::string renderTemplate(const Template& tmpl, const TemplateValues& values);

}  // namespace dropd::config
