#include "dropd/llm/stream_assembler.hpp"

#include <utility>

#include <nlohmann/json.hpp>

namespace dropd::llm {

using nlohmann::json;

void StreamAssembler::feed(std::string_view bytes) {
  if (shape_ == Shape::kUnknown) {
    // Leading whitespace is held until the first other byte says which
    // shape this is, then handed on with the rest (it matters to SSE).
    const std::size_t first = bytes.find_first_not_of(" \t\r\n");
    json_.append(bytes.substr(0, first));
    if (first == std::string_view::npos) {
      return;
    }
    shape_ = bytes[first] == '{' ? Shape::kJson : Shape::kEvents;
    bytes.remove_prefix(first);
    if (shape_ == Shape::kEvents) {
      const std::string held = std::exchange(json_, {});
      feed(held);
    }
  }
  if (shape_ == Shape::kJson) {
    json_.append(bytes);
    return;
  }
  if (failure_ || done_) {
    return;
  }
  for (const net::SseEvent& event : sse_.feed(bytes)) {
    onEvent(event);
    if (failure_ || done_) {
      return;
    }
  }
}

void StreamAssembler::onEvent(const net::SseEvent& event) {
  if (event.event == "error") {
    const json doc = json::parse(event.data, nullptr, false);
    const std::string code = doc.is_discarded() ? std::string() : errorCodeOf(doc);
    fail(classifyStreamError(code), "stream error event: " + bodyExcerpt(event.data));
    return;
  }
  if (event.event != "message" || event.data.empty()) {
    return;  // other named events (ping) carry no part of the answer
  }
  if (event.data == "[DONE]") {
    done_ = true;
    return;
  }
  const json chunk = json::parse(event.data, nullptr, false);
  if (chunk.is_discarded() || !chunk.is_object()) {
    fail(classifyCompletion(AnswerProblem::kNotACompletion),
         "stream chunk is not a JSON object: " + bodyExcerpt(event.data));
    return;
  }
  onChunk(chunk);
}

void StreamAssembler::onChunk(const json& chunk) {
  if (const auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
    fail(classifyStreamError(errorCodeOf(chunk)),
         "stream error chunk: " +
             bodyExcerpt(err->dump(-1, ' ', false, json::error_handler_t::replace)));
    return;
  }
  if (const auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
    usage_ = readUsage(*usage);
  }
  const auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object()) {
    return;  // the usage chunk, or a keep-alive with no choices
  }
  const json& choice = (*choices)[0];
  if (const auto reason = choice.find("finish_reason");
      reason != choice.end() && reason->is_string()) {
    finish_reason_ = reason->get<std::string>();
  }
  const auto delta = choice.find("delta");
  if (delta == choice.end() || !delta->is_object()) {
    return;
  }
  MessageText said = readMessageText(*delta);
  if (!said.well_formed) {
    fail(classifyCompletion(AnswerProblem::kNotACompletion),
         "stream delta content is not text: " +
             bodyExcerpt(delta->dump(-1, ' ', false, json::error_handler_t::replace)));
    return;
  }
  content_ += said.text;
  refusal_ += said.refusal;  // a refusal may stream in pieces too
}

void StreamAssembler::fail(StatusClass sorted, std::string message) {
  failure_ = Failure{sorted.cls, sorted.kind, 0, std::move(message)};
  failure_outcome_ = sorted.outcome;
  content_.clear();  // never part of a result
  content_.shrink_to_fit();
}

Answer StreamAssembler::finish(int status) {
  if (shape_ == Shape::kJson) {
    return readAnswer(status, json_);
  }
  // An event the body ended inside of (no blank line after it) is dropped,
  // as the SSE spec says: it may be a cut one.
  if (!failure_ && !done_ && finish_reason_.empty()) {
    fail(classifyCompletion(AnswerProblem::kNotACompletion),
         "stream ended early: no [DONE] and no finish_reason after " +
             std::to_string(content_.size()) + " bytes of content");
  }
  if (failure_) {
    failure_->http_status = status;
    return {tl::unexpected(std::move(*failure_)), failure_outcome_};
  }
  return completion(status);
}

Answer StreamAssembler::completion(int status) {
  if (content_.empty()) {
    const bool refused = !refusal_.empty();
    const StatusClass sorted =
        classifyCompletion(refused ? AnswerProblem::kRefusal : AnswerProblem::kEmpty);
    std::string message = refused ? "the model refused: " + bodyExcerpt(refusal_)
                                  : "empty answer: the stream sent no content";
    return {tl::unexpected(Failure{sorted.cls, sorted.kind, status, std::move(message)}),
            sorted.outcome};
  }
  Completion c;
  c.content = std::move(content_);
  c.finish_reason = std::move(finish_reason_);
  c.usage = usage_.value_or(Usage{});
  c.usage_estimated = !usage_.has_value();
  return {std::move(c), throttle::Outcome::kSuccess};
}

}  // namespace dropd::llm
