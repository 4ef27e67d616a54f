#pragma once

// A pipeline's prompt version: what its answers depend on besides the
// file, as a short hash, written into every result (`prompt_version`) so
// that `dropd requeue --changed` re-runs exactly the files answered under
// another one (docs/pipeline.md, "Prompt versions"). Pure.

#include <string>

#include "dropd/config/config.hpp"

namespace dropd::pipeline {

// "p1-" and 16 hex digits of SHA-256 over the system and user templates as
// written, the endpoint's model and params, the output format, the JSON
// Schema document and how the endpoint is asked for it, and `chunking`
// (max_tokens, overlap, the map and reduce templates) when set. Not in it: the
// endpoint's URL, key, limits and timeouts, stream (the answer is the
// same), the file's settings (extract, binary, folders). A change of the
// formula changes the prefix.
[[nodiscard]] std::string promptVersion(const config::Pipeline& pipeline,
                                        const config::Endpoint& endpoint);

}  // namespace dropd::pipeline
