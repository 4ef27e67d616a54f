#include "dropd/llm/request_builder.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "dropd/llm/json_escape.hpp"

namespace dropd::llm {
namespace {

using config::StructuredOutput;

nlohmann::ordered_json responseFormat(const JsonOutput& json) {
  if (json.mode == StructuredOutput::kJsonSchema && json.schema) {
    return {{"type", "json_schema"},
            {"json_schema", {{"name", json.name}, {"schema", *json.schema}, {"strict", true}}}};
  }
  return {{"type", "json_object"}};
}

// What the system message adds for json_object and prompt (and for
// json_schema without a schema, which falls back to json_object). OpenAI's
// json_object mode wants the word JSON in the messages: it is there.
std::string instructionFor(const std::optional<JsonOutput>& json) {
  if (!json || (json->mode == StructuredOutput::kJsonSchema && json->schema)) {
    return {};
  }
  std::string text =
      "Answer with one JSON value only: no prose before or after it, no code fences.";
  if (json->schema) {
    text += " It must validate against this JSON Schema:\n" +
            json->schema->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string escaped;
  appendJsonEscaped(escaped, text);
  return escaped;
}

// Everything of the body that does not depend on the file, as an unclosed
// object ready for the "messages" member. Params come first so that the keys
// dropd owns (model, messages, stream, and response_format for JSON output)
// always win over them.
std::string makeHead(const config::Endpoint& endpoint, const std::optional<JsonOutput>& json) {
  nlohmann::ordered_json head = nlohmann::ordered_json::object();
  for (const auto& [key, value] : endpoint.params.items()) {
    if (key != "model" && key != "messages" && key != "stream" &&
        !(json && key == "response_format")) {
      head[key] = value;
    }
  }
  if (json && json->mode != StructuredOutput::kPrompt) {
    head["response_format"] = responseFormat(*json);
  }
  if (!endpoint.model.empty()) {
    head["model"] = endpoint.model;
  }
  if (endpoint.stream) {
    // include_usage: the last chunk then carries the usage, which the
    // token limiter wants; without it dropd can only estimate.
    head["stream"] = true;
    head["stream_options"] = {{"include_usage", true}};
  }
  std::string text = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.pop_back();  // the closing '}'
  text += head.empty() ? "\"messages\":[" : ",\"messages\":[";
  return text;
}

std::string_view numberText(std::uint64_t n, char (&buf)[24]) {
  char* end = buf + sizeof buf;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  return {p, static_cast<size_t>(end - p)};
}

// OpenAI's rule for json_schema.name.
std::string schemaName(const std::filesystem::path& file) {
  std::string name;
  for (const char c : file.stem().string()) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    name += ok ? c : '_';
  }
  name.resize(std::min<std::size_t>(name.size(), 64));
  return name.empty() ? "output" : name;
}

}  // namespace

std::optional<JsonOutput> jsonOutputOf(const config::Pipeline& pipeline,
                                       const config::Endpoint& endpoint) {
  if (pipeline.output_format != config::OutputFormat::kJson) {
    return std::nullopt;
  }
  JsonOutput out;
  out.mode = endpoint.structured_output;
  if (pipeline.output_schema) {
    out.schema = pipeline.output_schema->document;
    out.name = schemaName(pipeline.output_schema->file);
  }
  return out;
}

std::string repairBody(std::string_view body, std::string_view answer, std::string_view problem) {
  constexpr std::string_view kEnd = "]}";  // the messages array and the body
  if (body.size() < kEnd.size() || body.substr(body.size() - kEnd.size()) != kEnd) {
    return {};
  }
  std::string out;
  out.reserve(body.size() + answer.size() + problem.size() + 256);
  out += body.substr(0, body.size() - kEnd.size());
  out += R"(,{"role":"assistant","content":")";
  appendJsonEscaped(out, answer);
  out += R"("},{"role":"user","content":")";
  appendJsonEscaped(out, "That answer cannot be used: ");
  appendJsonEscaped(out, problem);
  appendJsonEscaped(out, ". Reply with the corrected JSON value only, nothing else.");
  out += "\"}]}";
  return out;
}

RequestBuilder::RequestBuilder(const config::Endpoint& endpoint, const config::Prompt& prompt,
                               std::optional<JsonOutput> json)
    : head_(makeHead(endpoint, json)),
      instruction_(instructionFor(json)),
      system_(prompt.system),
      user_(prompt.user) {}

void RequestBuilder::appendTemplate(std::string& out, const config::Template& tmpl,
                                    const config::TemplateValues& values) const {
  using config::Placeholder;
  char buf[24];
  for (const config::Segment& seg : tmpl.segments) {
    if (!seg.placeholder) {
      appendJsonEscaped(out, seg.literal);
      continue;
    }
    switch (*seg.placeholder) {
      case Placeholder::kContent:
        appendJsonEscaped(out, values.content);
        break;
      case Placeholder::kFilename:
        appendJsonEscaped(out, values.filename);
        break;
      case Placeholder::kPath:
        appendJsonEscaped(out, values.path);
        break;
      case Placeholder::kStatsLines:
        out += numberText(values.lines, buf);
        break;
      case Placeholder::kStatsWords:
        out += numberText(values.words, buf);
        break;
      case Placeholder::kStatsChars:
        out += numberText(values.chars, buf);
        break;
      case Placeholder::kStatsBytes:
        out += numberText(values.bytes, buf);
        break;
      case Placeholder::kTitle:
        appendJsonEscaped(out, values.title);
        break;
      case Placeholder::kType:
        appendJsonEscaped(out, values.type);
        break;
    }
  }
}

std::string RequestBuilder::build(const config::TemplateValues& values) const {
  std::string body;
  // Escaping rarely grows text by more than a few percent; one reservation
  // keeps the content's copy the only big one.
  body.reserve(head_.size() + system_.source.size() + instruction_.size() + user_.source.size() +
               values.content.size() + values.content.size() / 32 + 256);
  body += head_;
  if (!system_.segments.empty() || !instruction_.empty()) {
    body += R"({"role":"system","content":")";
    appendTemplate(body, system_, values);
    if (!system_.segments.empty() && !instruction_.empty()) {
      body += "\\n\\n";
    }
    body += instruction_;
    body += "\"},";
  }
  body += R"({"role":"user","content":")";
  appendTemplate(body, user_, values);
  body += "\"}]}";
  return body;
}

}  // namespace dropd::llm
