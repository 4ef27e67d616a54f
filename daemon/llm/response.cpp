#include "dropd/llm/response.hpp"

#include <nlohmann/json.hpp>

namespace dropd::llm {

using nlohmann::json;

std::string errorCodeOf(const json& doc) {
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

namespace {

Answer httpFailure(int status, std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  const std::string code = doc.is_discarded() ? std::string() : errorCodeOf(doc);
  const StatusClass sorted = classifyAnswer(status, code);
  Failure f{sorted.cls, sorted.kind, status,
            "HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code) + ": " +
                bodyExcerpt(body)};
  return {tl::unexpected(std::move(f)), sorted.outcome};
}

Answer answerProblem(int status, AnswerProblem problem, std::string message) {
  const StatusClass sorted = classifyCompletion(problem);
  Failure f{sorted.cls, sorted.kind, status, std::move(message)};
  return {tl::unexpected(std::move(f)), sorted.outcome};
}

Answer badResponse(int status, std::string_view body, std::string_view why) {
  return answerProblem(status, AnswerProblem::kNotACompletion,
                       std::string(why) + ": " + bodyExcerpt(body));
}

std::string stringMember(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A list of parts: {"type":"text","text":...} parts are joined in order;
// {"type":"refusal","refusal":...} parts give the refusal; any other part
// (image, audio, tool output) is not text and is skipped.
void readParts(const json& parts, MessageText& out) {
  for (const json& part : parts) {
    if (!part.is_object()) {
      continue;
    }
    const std::string type = stringMember(part, "type");
    if (type == "text") {
      out.text += stringMember(part, "text");
    } else if (type == "refusal" && out.refusal.empty()) {
      out.refusal = stringMember(part, "refusal");
    }
  }
}

}  // namespace

MessageText readMessageText(const json& message) {
  MessageText out;
  out.refusal = stringMember(message, "refusal");
  const auto content = message.find("content");
  if (content == message.end() || content->is_null()) {
    return out;
  }
  if (content->is_string()) {
    out.text = content->get<std::string>();
  } else if (content->is_array()) {
    readParts(*content, out);
  } else {
    out.well_formed = false;
  }
  return out;
}

namespace {

std::uint64_t countField(const json& usage, const char* key) {
  if (usage.contains(key) && usage[key].is_number_unsigned()) {
    return usage[key].get<std::uint64_t>();
  }
  return 0;
}

}  // namespace

Usage readUsage(const json& usage) {
  if (!usage.is_object()) {
    return {};
  }
  return {countField(usage, "prompt_tokens"), countField(usage, "completion_tokens")};
}

namespace {

// The completion in a 2xx answer's choices[0], or why there is none.
Answer readChoice(int status, std::string_view body, const json& choice) {
  const auto message = choice.find("message");
  if (message == choice.end() || !message->is_object()) {
    return badResponse(status, body, "choices[0] has no message");
  }
  MessageText said = readMessageText(*message);
  if (!said.well_formed) {
    return badResponse(status, body, "choices[0].message.content is not text");
  }
  if (said.text.empty() && !said.refusal.empty()) {
    return answerProblem(status, AnswerProblem::kRefusal,
                         "the model refused: " + bodyExcerpt(said.refusal));
  }
  if (said.text.empty()) {
    return answerProblem(status, AnswerProblem::kEmpty, "empty answer: " + bodyExcerpt(body));
  }
  Completion c;
  c.content = std::move(said.text);
  c.finish_reason = stringMember(choice, "finish_reason");
  return {std::move(c), throttle::Outcome::kSuccess};
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
  Answer answer = readChoice(status, body, (*choices)[0]);
  if (answer.result) {
    if (const auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
      answer.result->usage = readUsage(*usage);
    }
  }
  return answer;
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
