#include "dropd/file/token_estimate.hpp"

namespace dropd::file {

std::uint64_t estimateTokens(const TokenFeatures& f) noexcept { return (f.bytes + 3) / 4; }

}  // namespace dropd::file
