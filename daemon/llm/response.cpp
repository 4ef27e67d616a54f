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

FailureClass classifyStatus(int status, const std::string& code) {
  if (status == 401 || status == 403 || code == "insufficient_quota") {
    return FailureClass::kPauseEndpoint;
  }
  if (status == 408 || status == 409 || status == 429 || status >= 500) {
    return FailureClass::kRetry;
  }
  return FailureClass::kFailFile;
}

Failure httpFailure(int status, std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  const std::string code = doc.is_discarded() ? std::string() : errorCode(doc);
  Failure f;
  f.cls = classifyStatus(status, code);
  f.kind = code == "context_length_exceeded" ? "context_length" : "http";
  f.http_status = status;
  f.message = "HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code) + ": " +
              bodyExcerpt(body);
  return f;
}

Failure badResponse(int status, std::string_view body, std::string_view why) {
  return Failure{FailureClass::kRetry, "bad_response", status,
                 std::string(why) + ": " + bodyExcerpt(body)};
}

std::uint64_t countField(const json& usage, const char* key) {
  if (usage.contains(key) && usage[key].is_number_unsigned()) {
    return usage[key].get<std::uint64_t>();
  }
  return 0;
}

}  // namespace

tl::expected<Completion, Failure> parseResponse(int status, std::string_view body) {
  if (status < 200 || status > 299) {
    return tl::unexpected(httpFailure(status, body));
  }
  const json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return tl::unexpected(badResponse(status, body, "response is not a JSON object"));
  }
  const auto choices = doc.find("choices");
  if (choices == doc.end() || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object()) {
    return tl::unexpected(badResponse(status, body, "response has no choices[0]"));
  }
  const json& choice = (*choices)[0];
  const auto message = choice.find("message");
  if (message == choice.end() || !message->is_object() || !message->contains("content")) {
    return tl::unexpected(badResponse(status, body, "choices[0] has no message.content"));
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
  return c;
}

Failure transportFailure(const Error& error) {
  if (error.code == ErrorCode::kTooLarge) {
    return {FailureClass::kFailFile, "response_too_large", 0, error.message()};
  }
  const bool timeout = error.code == ErrorCode::kTimeout;
  return {FailureClass::kRetry, timeout ? "timeout" : "network", 0, error.message()};
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
