#include "dropd/config/config.hpp"

#include <algorithm>

namespace dropd::config {

std::string_view toString(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::string_view toString(LogFormat format) { return format == LogFormat::kJson ? "json" : "text"; }

std::string_view toString(BinaryPolicy policy) {
  return policy == BinaryPolicy::kSend ? "send" : "skip";
}

std::string_view toString(Dedupe dedupe) { return dedupe == Dedupe::kSha256 ? "sha256" : "none"; }

std::string_view toString(SourceAction action) {
  switch (action) {
    case SourceAction::kMove:
      return "move";
    case SourceAction::kDelete:
      return "delete";
    case SourceAction::kKeep:
      return "keep";
  }
  return "?";
}

std::string_view toString(StructuredOutput mode) {
  switch (mode) {
    case StructuredOutput::kJsonSchema:
      return "json_schema";
    case StructuredOutput::kJsonObject:
      return "json_object";
    case StructuredOutput::kPrompt:
      return "prompt";
  }
  return "json_schema";
}

std::string_view toString(OutputFormat format) {
  return format == OutputFormat::kJson ? "json" : "text";
}

std::string_view toString(Auth auth) {
  switch (auth) {
    case Auth::kBearer:
      return "bearer";
    case Auth::kApiKey:
      return "api-key";
    case Auth::kNone:
      return "none";
  }
  return "?";
}

Prompt defaultPrompt() {
  // Both texts are known-good templates, so parsing cannot fail here.
  return Prompt{*parseTemplate("You summarize documents."),
                *parseTemplate("Summarize {{filename}}:\n\n{{content}}")};
}

Prompt defaultReducePrompt(const Template& system) {
  return Prompt{system, *parseTemplate("These are answers about consecutive parts of {{filename}}, "
                                       "in order. Combine them into one answer about the whole "
                                       "document, in the same form:\n\n{{content}}")};
}

const Endpoint* Config::findEndpoint(std::string_view name) const {
  const auto it = std::find_if(endpoints.begin(), endpoints.end(),
                               [name](const Endpoint& e) { return e.name == name; });
  return it == endpoints.end() ? nullptr : &*it;
}

}  // namespace dropd::config
