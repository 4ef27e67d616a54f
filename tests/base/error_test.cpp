#include "dropd/base/error.hpp"

#include <catch2/catch.hpp>
#include <uv.h>

TEST_CASE("Error message names the call and the system error", "[uv]") {
  const dropd::Error e = dropd::uvError(UV_ENOENT, "open(/x)").value();
  CHECK(e.message() == "open(/x): no such file or directory");
  CHECK(dropd::makeError(dropd::ErrorCode::kTimeout, "connect").value().message() == "connect");
}
