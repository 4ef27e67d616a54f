#pragma once

// A request target split into its path and query, and one query parameter
// percent-decoded (`+` is a space, as browsers send forms). Pure; any
// bytes in, any bytes out (a bad escape stays as written). Private to ops.

#include <optional>
#include <string>
#include <string_view>

namespace dropd::ops {

struct Target {
  std::string_view path;
  std::string_view query;  // after '?', empty if none
};

[[nodiscard]] Target splitTarget(std::string_view target);
// The first `name=value` of `query`, decoded; nullopt when absent.
[[nodiscard]] std::optional<std::string> queryParam(std::string_view query, std::string_view name);

}  // namespace dropd::ops
