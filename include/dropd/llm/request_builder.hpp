#pragma once

// Builds the chat-completions request body for one file: the endpoint's
// model and params, a system message and a user message from the pipeline's
// prompt templates (with `stream: true`, also "stream": true and
// "stream_options": {"include_usage": true}), with every value JSON-escaped as it is copied in, so
// the file's content is copied exactly once (into the body). Immutable after construction: build()
// may run on the threadpool.

#include <string>

#include "dropd/config/config.hpp"
#include "dropd/config/template.hpp"

namespace dropd::llm {

class RequestBuilder {
 public:
  RequestBuilder(const config::Endpoint& endpoint, const config::Prompt& prompt);

  // The whole JSON body. Any bytes are accepted (see appendJsonEscaped).
  [[nodiscard]] std::string build(const config::TemplateValues& values) const;

 private:
  void appendTemplate(std::string& out, const config::Template& tmpl,
                      const config::TemplateValues& values) const;

  std::string head_;  // `{"model":...,<params>,"messages":[` with the params merged in
  config::Template system_;
  config::Template user_;
};

}  // namespace dropd::llm
