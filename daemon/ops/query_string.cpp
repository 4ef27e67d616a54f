#include "ops/query_string.hpp"

#include "dropd/base/percent_decode.hpp"

namespace dropd::ops {
Target splitTarget(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) {
    return {target, {}};
  }
  return {target.substr(0, q), target.substr(q + 1)};
}

std::optional<std::string> queryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (base::percentDecode(key, base::PlusIs::kSpace) == name) {
      return eq == std::string_view::npos
                 ? std::string{}
                 : base::percentDecode(pair.substr(eq + 1), base::PlusIs::kSpace);
    }
  }
  return std::nullopt;
}

}  // namespace dropd::ops
