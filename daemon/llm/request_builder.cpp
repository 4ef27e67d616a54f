#include "dropd/llm/request_builder.hpp"

#include <nlohmann/json.hpp>

#include "dropd/llm/json_escape.hpp"

namespace dropd::llm {
namespace {

// Everything of the body that does not depend on the file, as an unclosed
// object ready for the "messages" member. Params come first so that the keys
// dropd owns (model, messages, stream) always win over them.
std::string makeHead(const config::Endpoint& endpoint) {
  nlohmann::ordered_json head = nlohmann::ordered_json::object();
  for (const auto& [key, value] : endpoint.params.items()) {
    if (key != "model" && key != "messages" && key != "stream") {
      head[key] = value;
    }
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

}  // namespace

RequestBuilder::RequestBuilder(const config::Endpoint& endpoint, const config::Prompt& prompt)
    : head_(makeHead(endpoint)), system_(prompt.system), user_(prompt.user) {}

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
  body.reserve(head_.size() + system_.source.size() + user_.source.size() + values.content.size() +
               values.content.size() / 32 + 256);
  body += head_;
  if (!system_.segments.empty()) {
    body += R"({"role":"system","content":")";
    appendTemplate(body, system_, values);
    body += "\"},";
  }
  body += R"({"role":"user","content":")";
  appendTemplate(body, user_, values);
  body += "\"}]}";
  return body;
}

}  // namespace dropd::llm
