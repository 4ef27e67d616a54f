// extractJsonAnswer() and its parts on any bytes, and formatSchemaErrors()
// on errors cut from them. Invariants: exactly one of a value and an error;
// a value found is what nlohmann parses from some part of the input once
// its reasoning is removed (so it dumps and parses back equal); an input
// that is one JSON document parses to itself; stripThinkBlocks never grows
// the text; each fenced block lies inside the text; the errors' line is at
// most max_bytes long and empty only for no errors.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dropd/config/json_schema.hpp"
#include "dropd/llm/json_answer.hpp"

#include "fuzz_check.hpp"

namespace {

using nlohmann::json;

void checkExtract(std::string_view input) {
  const dropd::llm::JsonAnswer answer = dropd::llm::extractJsonAnswer(input);
  DROPD_FUZZ_CHECK(answer.ok == answer.error.empty());
  if (answer.ok) {
    DROPD_FUZZ_CHECK(!answer.value.is_discarded());
    const std::string dumped = answer.value.dump(-1, ' ', false, json::error_handler_t::replace);
    const json again = json::parse(dumped, nullptr, false);
    DROPD_FUZZ_CHECK(!again.is_discarded());
  }
  const json whole = json::parse(input, nullptr, false);
  if (!whole.is_discarded() && input.find("think>") == std::string_view::npos) {
    DROPD_FUZZ_CHECK(answer.ok && answer.value == whole);
  }
}

void checkParts(std::string_view input) {
  const std::string stripped = dropd::llm::stripThinkBlocks(input);
  DROPD_FUZZ_CHECK(stripped.size() <= input.size());
  for (const std::string_view block : dropd::llm::fencedBlocks(input)) {
    DROPD_FUZZ_CHECK(block.data() >= input.data() &&
                     block.data() + block.size() <= input.data() + input.size());
  }
}

void checkFormat(std::string_view input) {
  std::vector<dropd::config::SchemaError> errors;
  for (std::size_t at = 0; at < input.size(); at += 7) {
    const std::string_view piece = input.substr(at, 7);
    errors.push_back({std::string(piece.substr(0, 2)), std::string(piece)});
  }
  const std::size_t bound = input.empty() ? 0 : static_cast<unsigned char>(input[0]) * 4;
  const std::string text = dropd::config::formatSchemaErrors(errors, bound);
  DROPD_FUZZ_CHECK(text.size() <= bound);
  DROPD_FUZZ_CHECK(!errors.empty() || text.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  checkExtract(input);
  checkParts(input);
  checkFormat(input);
  return 0;
}
