#pragma once

// Builds the chat-completions request body for one file: the endpoint's
// model and params, a system message and a user message from the pipeline's
// prompt templates (with `stream: true`, also "stream": true and
// "stream_options": {"include_usage": true}), with every value JSON-escaped as it is copied in, so
// the file's content is copied exactly once (into the body). Immutable after construction: build()
// may run on the threadpool.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dropd/config/config.hpp"
#include "dropd/config/template.hpp"

namespace dropd::llm {

// How a pipeline with output.format json asks for its answer
// (docs/structured.md). kJsonSchema sends "response_format": {"type":
// "json_schema", "json_schema": {name, schema, "strict": true}}; without a
// schema it falls back to json_object. kJsonObject sends {"type":
// "json_object"} and the schema in the system message; kPrompt only the
// system message. dropd's response_format replaces one in params.
struct JsonOutput {
  config::StructuredOutput mode = config::StructuredOutput::kJsonSchema;
  std::optional<nlohmann::json> schema;  // nullopt: any JSON value
  std::string name = "output";           // json_schema.name: [A-Za-z0-9_-], 1 to 64
};

// The pipeline's JsonOutput on that endpoint, nullopt for output.format
// text. The name is the schema file's stem, cleaned to what OpenAI allows.
[[nodiscard]] std::optional<JsonOutput> jsonOutputOf(const config::Pipeline& pipeline,
                                                     const config::Endpoint& endpoint);

// The body of a corrective follow-up: `body` (made by build(), or an
// earlier follow-up) with two more messages, the assistant's `answer` and a
// user message saying what is wrong with it (`problem`). Empty if `body`
// does not end as build() ends its bodies. Pure; any thread.
[[nodiscard]] std::string repairBody(std::string_view body, std::string_view answer,
                                     std::string_view problem);

class RequestBuilder {
 public:
  RequestBuilder(const config::Endpoint& endpoint, const config::Prompt& prompt,
                 std::optional<JsonOutput> json = std::nullopt);

  // The whole JSON body. Any bytes are accepted (see appendJsonEscaped).
  [[nodiscard]] std::string build(const config::TemplateValues& values) const;

 private:
  void appendTemplate(std::string& out, const config::Template& tmpl,
                      const config::TemplateValues& values) const;

  std::string head_;  // `{"model":...,<params>,"messages":[` with the params merged in
  // Appended to the system message (JSON-escaped already): what JSON to
  // answer with, for json_object and prompt. Empty otherwise.
  std::string instruction_;
  config::Template system_;
  config::Template user_;
};

}  // namespace dropd::llm
