// plainScalarToJson() on any text: it never throws, a refusal has a
// message, a value is never a non-finite number, a string value is the
// text itself, and a value that dumps to JSON reads back as itself.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/config/json_scalar.hpp"

#include "fuzz_check.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dropd::fuzz::FuzzInput input(data, size);
  const std::string_view text = input.takeRest();
  const auto value = dropd::config::plainScalarToJson(text);
  if (!value) {
    DROPD_FUZZ_CHECK(!value.error().context.empty());
    return 0;
  }
  DROPD_FUZZ_CHECK(value->is_primitive());
  if (value->is_number_float()) {
    DROPD_FUZZ_CHECK(std::isfinite(value->get<double>()));
  }
  if (value->is_string()) {
    DROPD_FUZZ_CHECK(value->get<std::string>() == text);
    return 0;
  }
  const std::string dumped = value->dump();
  const auto back = nlohmann::json::parse(dumped, nullptr, false);
  DROPD_FUZZ_CHECK(!back.is_discarded() && back == *value);
  return 0;
}
