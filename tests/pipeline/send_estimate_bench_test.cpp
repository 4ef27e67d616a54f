// Hidden benchmarks of the send estimates: the usage of a streamed answer
// that came without one, and the request's tokens-per-minute charge. Run
// with `test_pipeline "[bench]"`.

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dropd/pipeline/send_estimate.hpp"

TEST_CASE("Send estimates of a request and of a streamed answer", "[.][bench]") {
  std::string answer;
  while (answer.size() < 4096) {
    answer += "A summary sentence with déjà vu,\tsome words\nand a line break. ";
  }
  const dropd::pipeline::RequestSize size{812, 3000, 3400};
  const nlohmann::json params = {{"temperature", 0.2}, {"max_tokens", 512}};
  BENCHMARK("estimateUsage, 4 KiB answer") { return dropd::pipeline::estimateUsage(size, answer); };
  BENCHMARK("estimateRequestTokens") {
    return dropd::pipeline::estimateRequestTokens(size, params);
  };
}
