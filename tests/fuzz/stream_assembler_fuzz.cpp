// StreamAssembler on any body, fed whole and again in pieces whose sizes
// come from the input: the same answer either way (content, finish reason,
// usage, or the same failure kind and message); a success always has
// content; a failure's message is one line.

#include <cstdint>
#include <string_view>

#include "dropd/llm/stream_assembler.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::llm::Answer;

bool sameAnswer(const Answer& a, const Answer& b) {
  if (a.result.has_value() != b.result.has_value() || a.outcome != b.outcome) {
    return false;
  }
  if (!a.result) {
    return a.result.error().kind == b.result.error().kind &&
           a.result.error().message == b.result.error().message;
  }
  return a.result->content == b.result->content &&
         a.result->finish_reason == b.result->finish_reason &&
         a.result->usage.prompt_tokens == b.result->usage.prompt_tokens &&
         a.result->usage.completion_tokens == b.result->usage.completion_tokens &&
         a.result->usage_estimated == b.result->usage_estimated;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::uint8_t seed = input.takeByte();
  const std::string_view body = input.takeRest();
  dropd::llm::StreamAssembler whole;
  whole.feed(body);
  const Answer whole_answer = whole.finish(200);
  dropd::llm::StreamAssembler split;
  std::size_t at = 0;
  for (std::size_t i = 0; at < body.size(); ++i) {
    const std::size_t n = 1 + (seed + i) % 11;
    split.feed(body.substr(at, n));
    at += n;
  }
  const Answer split_answer = split.finish(200);
  DROPD_FUZZ_CHECK(sameAnswer(whole_answer, split_answer));
  if (whole_answer.result) {
    DROPD_FUZZ_CHECK(!whole_answer.result->content.empty());
  } else {
    for (const char c : whole_answer.result.error().message) {
      DROPD_FUZZ_CHECK(c != '\n' && c != '\r');
    }
  }
  return 0;
}
