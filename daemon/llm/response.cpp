#include "dropd/llm/response.hpp"

#include <nlohmann/json.hpp>

namespace dropd::llm {
namespace {

using nlohmann::json;

// The OpenAI error object's code or type, e.g. "insufficient_quota" or
// "context_length_exceeded"; empty when the body is not such an object.
std::string errorCode(const json& doc) {
  if (!doc.is_object() || !doc.contains("error") || !doc["error"].is_object()) {
    return {};
  }
  const json& err = doc["error"];
  for (const char* key : {"code", "type"}) {
    if (err.contains(key) && err[key].is_string()) {
      const std::string value = err[key].get<std::string>();
      if (value == "insufficient_quota" || value == "context_length_exceeded") {
        return value;
      }
    }
  }
  return {};
}

Answer httpFailure(int status, std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  const std::string code = doc.is_discarded() ? std::string() : errorCode(doc);
  const StatusClass sorted = classifyAnswer(status, code);
  Failure f{sorted.cls, sorted.kind, status,
            "HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code) + ": " +
                bodyExcerpt(body)};
  return {tl::unexpected(std::move(f)), sorted.outcome};
}

Answer badResponse(int status, std::string_view body, std::string_view why) {
  const StatusClass sorted = classifyAnswer(status, {});
  Failure f{sorted.cls, sorted.kind, status, std::string(why) + ": " + bodyExcerpt(body)};
  return {tl::unexpected(std::move(f)), sorted.outcome};
}

std::uint64_t countField(const json& usage, const char* key) {
  if (usage.contains(key) && usage[key].is_number_unsigned()) {
    return usage[key].get<std::uint64_t>();
  }
  return 0;
}

}  // namespace

Answer readAnswer(int status, std::string_view body) {
  if (status < 200 || status > 299) {
    return httpFailure(status, body);
  }
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return badResponse(status, body, "response is not a JSON object");
  }
  const auto choices = doc.find("choices");
  if (choices == doc.end() || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object()) {
    return badResponse(status, body, "response has no choices[0]");
  }
  const json& choice = (*choices)[0];
  const auto message = choice.find("message");
  if (message == choice.end() || !message->is_object() || !message->contains("content")) {
    return badResponse(status, body, "choices[0] has no message.content");
  }
  Completion c;
  const json& content = (*message)["content"];
  c.content = content.is_string() ? content.get<std::string>() : std::string();
  const auto finish = choice.find("finish_reason");
  if (finish != choice.end() && finish->is_string()) {
    c.finish_reason = finish->get<std::string>();
  }
  if (const auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
    c.usage = {countField(*usage, "prompt_tokens"), countField(*usage, "completion_tokens")};
  }
  return {std::move(c), throttle::Outcome::kSuccess};
}

tl::expected<Completion, Failure> parseResponse(int status, std::string_view body) {
  return readAnswer(status, body).result;
}

Answer readTransportError(const Error& error) {
  const StatusClass sorted = classifyTransport(error.code);
  return {tl::unexpected(Failure{sorted.cls, sorted.kind, 0, error.message()}), sorted.outcome};
}

Failure transportFailure(const Error& error) {
  return std::move(readTransportError(error).result.error());
}

std::string bodyExcerpt(std::string_view body, std::size_t max_bytes) {
  std::string out(body.substr(0, max_bytes));
  for (char& ch : out) {
    if (static_cast<unsigned char>(ch) < 0x20) {
      ch = ' ';
    }
  }
  if (body.size() > max_bytes) {
    out += "...";
  }
  return out;
}

}  // namespace dropd::llm
