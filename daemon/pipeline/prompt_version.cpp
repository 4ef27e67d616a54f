// promptVersion (prompt_version.hpp).
#include "dropd/pipeline/prompt_version.hpp"

#include <array>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace dropd::pipeline {

std::string promptVersion(const config::Pipeline& pipeline, const config::Endpoint& endpoint) {
  // nlohmann's objects keep their keys sorted: the same inputs give the
  // same bytes, whatever order the YAML wrote them in.
  nlohmann::json inputs = {{"system", pipeline.prompt.system.source},
                           {"user", pipeline.prompt.user.source},
                           {"model", endpoint.model},
                           {"params", endpoint.params},
                           {"output", config::toString(pipeline.output_format)}};
  if (pipeline.output_schema) {
    inputs["schema"] = pipeline.output_schema->document;
    inputs["structured_output"] = config::toString(endpoint.structured_output);
  }
  if (pipeline.chunking) {
    // Only with chunking, so every other pipeline keeps its version.
    const config::Chunking& c = *pipeline.chunking;
    inputs["chunking"] = {
        {"max_tokens", c.max_tokens},
        {"overlap", c.overlap},
        {"map", {{"system", c.map.system.source}, {"user", c.map.user.source}}},
        {"reduce", {{"system", c.reduce.system.source}, {"user", c.reduce.user.source}}}};
  }
  const std::string canonical =
      inputs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(canonical.data(), canonical.size(), digest.data(), &length, EVP_sha256(),
                 nullptr) != 1) {
    length = 0;  // cannot happen with OpenSSL's built-in SHA-256
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string version = "p1-";
  for (unsigned int i = 0; i < 8 && i < length; ++i) {
    version += kHex[digest[i] >> 4];
    version += kHex[digest[i] & 0xf];
  }
  return version;
}

}  // namespace dropd::pipeline
