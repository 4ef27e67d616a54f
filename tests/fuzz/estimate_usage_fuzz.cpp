// estimateUsage() on any request size and answer bytes: it is total; its
// prompt_tokens is the send estimate without a completion budget, whatever
// the answer; its completion_tokens equals file::estimateTokens() of the
// answer's bytes and a reference word count (runs of bytes other than the
// six ASCII white-space characters), is 0 for an empty answer, never more
// than the answer's bytes, and never shrinks when text is appended.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/file/token_estimate.hpp"
#include "dropd/pipeline/send_estimate.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

namespace {

using dropd::pipeline::estimateUsage;
using dropd::pipeline::RequestSize;

// Words as the number of places where a non-space byte follows a space or
// the start: counted another way than the function does.
std::uint64_t referenceWords(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  std::uint64_t words = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool here = kSpace.find(text[i]) == std::string_view::npos;
    const bool before = i > 0 && kSpace.find(text[i - 1]) == std::string_view::npos;
    words += here && !before ? 1 : 0;
  }
  return words;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput in(data, size);
  // Small or huge sizes, so that the saturating sums get their turn.
  const bool huge = in.takeBool();
  RequestSize request{in.takeInt<std::uint64_t>(), in.takeInt<std::uint64_t>(),
                      in.takeInt<std::uint64_t>()};
  if (!huge) {
    request = {request.content_tokens % 100000, request.content_bytes % 400000,
               request.body_bytes % 500000};
  }
  const std::string extra(in.takeShortString());
  const std::string answer(in.takeRest());

  const auto usage = estimateUsage(request, answer);
  const std::uint64_t send_estimate =
      dropd::pipeline::estimateRequestTokens(request, nlohmann::json::object());
  DROPD_FUZZ_CHECK(usage.prompt_tokens == send_estimate);
  DROPD_FUZZ_CHECK(usage.prompt_tokens >= request.content_tokens);
  DROPD_FUZZ_CHECK(estimateUsage(request, "").prompt_tokens == usage.prompt_tokens);

  DROPD_FUZZ_CHECK(usage.completion_tokens ==
                   dropd::file::estimateTokens({answer.size(), referenceWords(answer)}));
  DROPD_FUZZ_CHECK(usage.completion_tokens <= answer.size());
  DROPD_FUZZ_CHECK(!answer.empty() || usage.completion_tokens == 0);
  DROPD_FUZZ_CHECK(estimateUsage(request, answer + extra).completion_tokens >=
                   usage.completion_tokens);
  return 0;
}
