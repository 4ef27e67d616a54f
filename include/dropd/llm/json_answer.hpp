#pragma once

// Finding the one JSON value in a model's answer, for pipelines with
// output.format json (docs/structured.md). Models wrap JSON in Markdown
// code fences, put reasoning in <think>...</think> before it, or say a
// sentence around it; these functions take that off when what is left is
// one value without doubt, and refuse when it is not. Pure; any thread.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dropd::llm {

struct JsonAnswer {
  bool ok = false;
  nlohmann::json value;  // when ok
  std::string error;     // when not: one line saying why, for the repair prompt and the record
};

// In order: <think> blocks removed (stripThinkBlocks); the rest parsed
// whole; else the one fenced block that parses (```json ... ``` or
// ``` ... ```); else the text from the first '{' or '[' to the last '}'
// or ']'. Two fenced blocks that both parse are ambiguous: an error.
[[nodiscard]] JsonAnswer extractJsonAnswer(std::string_view content);

// `content` without its reasoning: each <think>...</think> block removed,
// an unclosed <think> removed with everything after it, and when a
// </think> comes before any <think> (templates that open the block in the
// prompt), everything up to it.
[[nodiscard]] std::string stripThinkBlocks(std::string_view content);

// The insides of the Markdown code fences in `text`: each block from a
// line starting with ``` (an info string such as "json" may follow) to
// the next ```. An unclosed last fence runs to the end.
[[nodiscard]] std::vector<std::string_view> fencedBlocks(std::string_view text);

}  // namespace dropd::llm
