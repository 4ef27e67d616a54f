#include "dropd/config/template.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "suggest.hpp"

namespace dropd::config {
namespace {

struct NamedPlaceholder {
  std::string_view name;
  Placeholder placeholder;
};

constexpr std::array<NamedPlaceholder, 9> kPlaceholders{{
    {"content", Placeholder::kContent},
    {"filename", Placeholder::kFilename},
    {"path", Placeholder::kPath},
    {"stats.lines", Placeholder::kStatsLines},
    {"stats.words", Placeholder::kStatsWords},
    {"stats.chars", Placeholder::kStatsChars},
    {"stats.bytes", Placeholder::kStatsBytes},
    {"title", Placeholder::kTitle},
    {"type", Placeholder::kType},
}};

std::string_view trimSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

TemplateError errorAt(std::string_view text, std::size_t offset, std::string message) {
  TemplateError error{offset, 1, 1, std::move(message)};
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++error.line;
      error.column = 1;
    } else {
      ++error.column;
    }
  }
  return error;
}

std::string unknownMessage(std::string_view name) {
  std::array<std::string_view, kPlaceholders.size()> names{};
  std::transform(kPlaceholders.begin(), kPlaceholders.end(), names.begin(),
                 [](const NamedPlaceholder& p) { return p.name; });
  std::string message = fmt::format("unknown placeholder {{{{{}}}}}", name);
  if (const auto hint = detail::nearest(name, names)) {
    return message + fmt::format(" (did you mean {{{{{}}}}}?)", *hint);
  }
  return message + fmt::format(" (known: {{{{{}}}}})", fmt::join(names, "}}, {{"));
}

void appendLiteral(Template& tmpl, std::string_view text) {
  if (text.empty()) {
    return;
  }
  if (!tmpl.segments.empty() && !tmpl.segments.back().placeholder) {
    tmpl.segments.back().literal += text;
    return;
  }
  tmpl.segments.push_back(Segment{std::string(text), std::nullopt});
}

}  // namespace

std::string_view placeholderName(Placeholder placeholder) {
  for (const NamedPlaceholder& p : kPlaceholders) {
    if (p.placeholder == placeholder) {
      return p.name;
    }
  }
  return "?";
}

std::optional<Placeholder> placeholderFromName(std::string_view name) {
  for (const NamedPlaceholder& p : kPlaceholders) {
    if (p.name == name) {
      return p.placeholder;
    }
  }
  return std::nullopt;
}

bool Template::uses(Placeholder placeholder) const {
  return std::any_of(segments.begin(), segments.end(),
                     [placeholder](const Segment& s) { return s.placeholder == placeholder; });
}

tl::expected<Template, TemplateError> parseTemplate(std::string_view text) {
  Template tmpl{std::string(text), {}};
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      break;
    }
    appendLiteral(tmpl, text.substr(pos, open - pos));
    const std::size_t close = text.find("}}", open + 2);
    const std::size_t newline = text.find('\n', open + 2);
    if (close == std::string_view::npos || newline < close) {
      return tl::unexpected(errorAt(text, open, "'{{' is not closed by '}}' on the same line"));
    }
    const std::string_view name = trimSpaces(text.substr(open + 2, close - open - 2));
    const auto placeholder = placeholderFromName(name);
    if (!placeholder) {
      return tl::unexpected(errorAt(text, open, unknownMessage(name)));
    }
    tmpl.segments.push_back(Segment{{}, placeholder});
    pos = close + 2;
  }
  appendLiteral(tmpl, text.substr(std::min(pos, text.size())));
  return tmpl;
}

std::string renderTemplate(const Template& tmpl, const TemplateValues& values) {
  std::string out;
  out.reserve(tmpl.source.size() + values.content.size());
  for (const Segment& segment : tmpl.segments) {
    if (!segment.placeholder) {
      out += segment.literal;
      continue;
    }
    switch (*segment.placeholder) {
      case Placeholder::kContent:
        out += values.content;
        break;
      case Placeholder::kFilename:
        out += values.filename;
        break;
      case Placeholder::kPath:
        out += values.path;
        break;
      case Placeholder::kStatsLines:
        out += std::to_string(values.lines);
        break;
      case Placeholder::kStatsWords:
        out += std::to_string(values.words);
        break;
      case Placeholder::kStatsChars:
        out += std::to_string(values.chars);
        break;
      case Placeholder::kStatsBytes:
        out += std::to_string(values.bytes);
        break;
      case Placeholder::kTitle:
        out += values.title;
        break;
      case Placeholder::kType:
        out += values.type;
        break;
    }
  }
  return out;
}

}  // namespace dropd::config
