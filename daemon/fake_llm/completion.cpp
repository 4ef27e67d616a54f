#include "dropd/fake_llm/completion.hpp"

#include <fmt/format.h>

#include "dropd/file/token_estimate.hpp"

namespace dropd::fake_llm {

namespace {

using nlohmann::json;

bool isSpace(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// A message's text: a string, or the "text" of each part of an array.
std::string contentText(const json& message) {
  const auto it = message.find("content");
  if (it == message.end()) {
    return {};
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  std::string text;
  if (it->is_array()) {
    for (const json& part : *it) {
      if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        text += part["text"].get<std::string>();
      }
    }
  }
  return text;
}

const char* errorType(int status) noexcept {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace

bool readChatRequest(const json& body, ChatRequest& out) {
  if (!body.is_object() || !body.contains("messages") || !body["messages"].is_array()) {
    return false;
  }
  const auto model = body.find("model");
  out.model = model != body.end() && model->is_string() ? model->get<std::string>() : "";
  out.prompt_bytes = 0;
  out.prompt_words = 0;
  out.messages = 0;
  out.user_content.clear();
  out.first_user_content.clear();
  out.has_assistant = false;
  out.response_format.clear();
  if (const auto format = body.find("response_format");
      format != body.end() && format->is_object() && format->contains("type") &&
      (*format)["type"].is_string()) {
    out.response_format = (*format)["type"].get<std::string>();
  }
  bool first_user = true;
  out.max_tokens = 0;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    const auto it = body.find(key);
    if (it != body.end() && it->is_number_unsigned()) {
      out.max_tokens = it->get<std::uint64_t>();
    }
  }
  const auto stream = body.find("stream");
  out.stream = stream != body.end() && stream->is_boolean() && stream->get<bool>();
  out.include_usage = false;
  if (const auto options = body.find("stream_options");
      options != body.end() && options->is_object()) {
    const auto include = options->find("include_usage");
    out.include_usage = include != options->end() && include->is_boolean() && include->get<bool>();
  }
  for (const json& message : body["messages"]) {
    if (!message.is_object()) {
      continue;
    }
    std::string text = contentText(message);
    out.prompt_bytes += text.size();
    ++out.messages;
    bool in_word = false;
    for (const char ch : text) {
      const bool blank = isSpace(ch);
      out.prompt_words += !blank && !in_word ? 1 : 0;
      in_word = !blank;
    }
    const auto role = message.find("role");
    if (role != message.end() && role->is_string() && *role == "assistant") {
      out.has_assistant = true;
    }
    if (role != message.end() && role->is_string() && *role == "user") {
      if (first_user) {
        out.first_user_content = text;
        first_user = false;
      }
      out.user_content = std::move(text);
    }
  }
  return true;
}

std::string firstWords(std::string_view text, std::size_t count) {
  std::string out;
  std::size_t i = 0;
  for (std::size_t words = 0; words < count; ++words) {
    while (i < text.size() && isSpace(text[i])) {
      ++i;
    }
    if (i == text.size()) {
      break;
    }
    const std::size_t start = i;
    while (i < text.size() && !isSpace(text[i])) {
      ++i;
    }
    out += (out.empty() ? "" : " ");
    out += text.substr(start, i - start);
  }
  return out;
}

std::string fakeContent(std::string_view user_content) {
  return "fake: " + firstWords(user_content, 8) + " (" + std::to_string(user_content.size()) +
         " bytes)";
}

JsonAnswerKind jsonAnswerKind(const ChatRequest& request) {
  static constexpr std::pair<std::string_view, JsonAnswerKind> kMarkers[] = {
      {"json:invalid-once", JsonAnswerKind::kInvalidOnce},
      {"json:invalid", JsonAnswerKind::kInvalid},
      {"json:valid", JsonAnswerKind::kValid},
      {"json:fenced", JsonAnswerKind::kFenced},
      {"json:think", JsonAnswerKind::kThink},
      {"json:prose", JsonAnswerKind::kProse}};
  for (const auto& [marker, kind] : kMarkers) {  // invalid-once before its prefix invalid
    if (request.first_user_content.find(marker) != std::string::npos) {
      return kind;
    }
  }
  const bool asked =
      request.response_format == "json_schema" || request.response_format == "json_object";
  return asked ? JsonAnswerKind::kValid : JsonAnswerKind::kNone;
}

std::string_view toString(JsonAnswerKind kind) {
  switch (kind) {
    case JsonAnswerKind::kNone:
      return "";
    case JsonAnswerKind::kValid:
      return "json";
    case JsonAnswerKind::kInvalidOnce:
      return "json-invalid-once";
    case JsonAnswerKind::kInvalid:
      return "json-invalid";
    case JsonAnswerKind::kFenced:
      return "json-fenced";
    case JsonAnswerKind::kThink:
      return "json-think";
    case JsonAnswerKind::kProse:
      return "json-prose";
  }
  return "";
}

std::string answerContent(const ChatRequest& request) {
  const JsonAnswerKind kind = jsonAnswerKind(request);
  if (kind == JsonAnswerKind::kNone) {
    return fakeContent(request.user_content);
  }
  const std::string& document = request.first_user_content;
  const std::string valid =
      json{{"summary", fakeContent(document)}, {"bytes", document.size()}}.dump(
          -1, ' ', false, json::error_handler_t::replace);
  const std::string invalid = R"({"summary": 42, "bytes": "many"})";
  switch (kind) {
    case JsonAnswerKind::kInvalidOnce:
      return request.has_assistant ? valid : invalid;
    case JsonAnswerKind::kInvalid:
      return invalid;
    case JsonAnswerKind::kFenced:
      return "```json\n" + valid + "\n```";
    case JsonAnswerKind::kThink:
      return "<think>They want JSON; {\"draft\": true} will not do.</think>\n" + valid;
    case JsonAnswerKind::kProse:
      return "Here is the JSON you asked for:\n" + valid + "\nI hope it helps.";
    default:
      return valid;
  }
}

std::uint64_t estimateTokens(std::size_t bytes) noexcept { return (bytes + 3) / 4; }

std::string completionBody(const ChatRequest& request, std::uint64_t id,
                           std::int64_t created_unix) {
  const std::string content = request.echo ? request.user_content : answerContent(request);
  const std::uint64_t prompt_tokens = estimateTokens(request.prompt_bytes);
  const std::uint64_t completion_tokens = estimateTokens(content.size());
  const json body = {
      {"id", "chatcmpl-fake-" + std::to_string(id)},
      {"object", "chat.completion"},
      {"created", created_unix},
      {"model", request.model},
      {"choices", json::array({{{"index", 0},
                                {"message", {{"role", "assistant"}, {"content", content}}},
                                {"finish_reason", "stop"}}})},
      {"usage",
       {{"prompt_tokens", prompt_tokens},
        {"completion_tokens", completion_tokens},
        {"total_tokens", prompt_tokens + completion_tokens}}}};
  // Invalid UTF-8 in a user message is echoed with U+FFFD instead of failing.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

// One chat.completion.chunk as an SSE event.
std::string chunkEvent(json chunk, const std::string& id, std::int64_t created,
                       const std::string& model) {
  json event = {
      {"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model}};
  event.update(chunk);
  return "data: " + event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

json deltaChoice(json delta, json finish_reason) {
  return json::array(
      {{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish_reason)}}});
}

}  // namespace

std::vector<std::string> streamEvents(const ChatRequest& request, std::uint64_t id,
                                      std::int64_t created_unix) {
  const std::string content = request.echo ? request.user_content : answerContent(request);
  const std::string chunk_id = "chatcmpl-fake-" + std::to_string(id);
  const auto event = [&](json chunk) {
    return chunkEvent(std::move(chunk), chunk_id, created_unix, request.model);
  };
  std::vector<std::string> events;
  events.push_back(
      event({{"choices", deltaChoice({{"role", "assistant"}, {"content", ""}}, nullptr)}}));
  for (std::size_t at = 0; at < content.size();) {
    const std::size_t space = content.find(' ', at);
    const std::size_t end = space == std::string::npos ? content.size() : space + 1;
    events.push_back(
        event({{"choices", deltaChoice({{"content", content.substr(at, end - at)}}, nullptr)}}));
    at = end;
  }
  events.push_back(event({{"choices", deltaChoice(json::object(), "stop")}}));
  if (request.include_usage) {
    const std::uint64_t prompt_tokens = estimateTokens(request.prompt_bytes);
    const std::uint64_t completion_tokens = estimateTokens(content.size());
    events.push_back(event({{"choices", json::array()},
                            {"usage",
                             {{"prompt_tokens", prompt_tokens},
                              {"completion_tokens", completion_tokens},
                              {"total_tokens", prompt_tokens + completion_tokens}}}}));
  }
  events.emplace_back("data: [DONE]\n\n");
  return events;
}

std::string streamErrorEvent(std::string_view message) {
  const json body = {
      {"error", {{"message", std::string(message)}, {"type", "server_error"}, {"code", nullptr}}}};
  return "event: error\ndata: " + body.dump(-1, ' ', false, json::error_handler_t::replace) +
         "\n\n";
}

std::string errorBody(int status, std::string_view message) {
  const json body = {
      {"error",
       {{"message", std::string(message)}, {"type", errorType(status)}, {"code", status}}}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string errorBody(int status, std::string_view message, std::string_view code) {
  const std::string_view type = code == "insufficient_quota" ? code : errorType(status);
  const json body = {{"error",
                      {{"message", std::string(message)},
                       {"type", std::string(type)},
                       {"code", std::string(code)}}}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string rateLimitBody(std::string_view type, std::string_view message) {
  const json body = {{"error",
                      {{"message", std::string(message)},
                       {"type", std::string(type)},
                       {"code", "rate_limit_exceeded"}}}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::uint64_t contextTokens(const ChatRequest& request) noexcept {
  return file::estimateTokens({request.prompt_bytes, request.prompt_words}) + 3 * request.messages +
         3;
}

std::string contextLengthBody(std::uint64_t context, std::uint64_t tokens) {
  const std::string message = fmt::format(
      "This model's maximum context length is {} tokens. However, your messages resulted in {} "
      "tokens. Please reduce the length of the messages.",
      context, tokens);
  const json body = {{"error",
                      {{"message", message},
                       {"type", "invalid_request_error"},
                       {"param", "messages"},
                       {"code", "context_length_exceeded"}}}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::uint64_t requestTokenCost(const ChatRequest& request) noexcept {
  return estimateTokens(request.prompt_bytes) + request.max_tokens;
}

}  // namespace dropd::fake_llm
