#include "dropd/llm/json_answer.hpp"

#include <optional>

namespace dropd::llm {
namespace {

using nlohmann::json;

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";
constexpr std::string_view kFence = "```";

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  const std::size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::optional<json> parseOne(std::string_view text) {
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) {
    return std::nullopt;
  }
  return value;
}

JsonAnswer found(json value) { return {true, std::move(value), {}}; }
JsonAnswer notFound(std::string why) { return {false, nullptr, std::move(why)}; }

JsonAnswer fromFences(const std::vector<std::string_view>& blocks) {
  std::optional<json> only;
  std::size_t parsed = 0;
  for (const std::string_view block : blocks) {
    if (auto value = parseOne(trim(block))) {
      ++parsed;
      only = std::move(value);
    }
  }
  if (parsed == 1) {
    return found(std::move(*only));
  }
  if (parsed > 1) {
    return notFound(std::to_string(parsed) +
                    " code blocks hold JSON: answer with one JSON value only");
  }
  return notFound("the code block does not hold valid JSON");
}

}  // namespace

std::string stripThinkBlocks(std::string_view content) {
  const std::size_t first_open = content.find(kOpen);
  const std::size_t first_close = content.find(kClose);
  if (first_close != std::string_view::npos &&
      (first_open == std::string_view::npos || first_close < first_open)) {
    content.remove_prefix(first_close + kClose.size());
  }
  std::string out;
  while (true) {
    const std::size_t open = content.find(kOpen);
    if (open == std::string_view::npos) {
      out += content;
      return out;
    }
    out += content.substr(0, open);
    const std::size_t close = content.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) {
      return out;  // unclosed: the rest is reasoning
    }
    content.remove_prefix(close + kClose.size());
  }
}

std::vector<std::string_view> fencedBlocks(std::string_view text) {
  std::vector<std::string_view> blocks;
  std::size_t at = 0;
  while (true) {
    const std::size_t open = text.find(kFence, at);
    if (open == std::string_view::npos) {
      return blocks;
    }
    // The info string ("json") runs to the end of the fence's line.
    const std::size_t line_end = text.find('\n', open + kFence.size());
    if (line_end == std::string_view::npos) {
      return blocks;  // a fence with nothing after it
    }
    const std::size_t start = line_end + 1;
    const std::size_t close = text.find(kFence, start);
    if (close == std::string_view::npos) {
      blocks.push_back(text.substr(start));
      return blocks;
    }
    blocks.push_back(text.substr(start, close - start));
    at = close + kFence.size();
  }
}

JsonAnswer extractJsonAnswer(std::string_view content) {
  const std::string without_thought = stripThinkBlocks(content);
  const std::string_view text = trim(without_thought);
  if (text.empty()) {
    return notFound("the answer is empty once its reasoning is removed");
  }
  if (auto whole = parseOne(text)) {
    return found(std::move(*whole));
  }
  if (text.find(kFence) != std::string_view::npos) {
    return fromFences(fencedBlocks(text));
  }
  const std::size_t first = text.find_first_of("{[");
  const std::size_t last = text.find_last_of("}]");
  if (first != std::string_view::npos && last != std::string_view::npos && last > first) {
    if (auto inner = parseOne(text.substr(first, last - first + 1))) {
      return found(std::move(*inner));
    }
  }
  return notFound("the answer is not JSON and holds no single JSON object or array");
}

}  // namespace dropd::llm
