#include "dropd/pipeline/send_estimate.hpp"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "dropd/file/token_estimate.hpp"

namespace dropd::pipeline {
namespace {

std::uint64_t addSaturating(std::uint64_t a, std::uint64_t b) noexcept {
  return b > std::numeric_limits<std::uint64_t>::max() - a
             ? std::numeric_limits<std::uint64_t>::max()
             : a + b;
}

// The completion budget the endpoint's params ask for; 0 when neither key is
// a whole number >= 0.
std::uint64_t completionBudget(const nlohmann::json& params) noexcept {
  std::uint64_t budget = 0;
  if (!params.is_object()) {
    return 0;
  }
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    const auto it = params.find(key);
    if (it == params.end()) {
      continue;
    }
    if (it->is_number_unsigned()) {
      budget = std::max(budget, it->get<std::uint64_t>());
    } else if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
      budget = std::max(budget, static_cast<std::uint64_t>(it->get<std::int64_t>()));
    }
  }
  return budget;
}

}  // namespace

std::uint64_t estimateRequestTokens(const RequestSize& size,
                                    const nlohmann::json& params) noexcept {
  const std::uint64_t overhead_bytes =
      size.body_bytes > size.content_bytes ? size.body_bytes - size.content_bytes : 0;
  const std::uint64_t overhead_tokens = overhead_bytes / 4 + (overhead_bytes % 4 != 0 ? 1 : 0);
  return addSaturating(addSaturating(size.content_tokens, overhead_tokens),
                       completionBudget(params));
}

llm::Usage estimateUsage(const RequestSize& size, std::string_view answer) noexcept {
  std::uint64_t words = 0;
  bool in_word = false;
  for (const char c : answer) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    words += !space && !in_word ? 1 : 0;
    in_word = !space;
  }
  return {estimateRequestTokens(size, nlohmann::json::object()),
          file::estimateTokens({answer.size(), words})};
}

}  // namespace dropd::pipeline
