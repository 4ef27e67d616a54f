#include "dropd/llm/response.hpp"

#include <string>

#include <catch2/catch.hpp>

using dropd::llm::Failure;
using dropd::llm::FailureClass;
using dropd::llm::parseResponse;
using dropd::llm::transportFailure;

TEST_CASE("parseResponse reads content, finish_reason and usage", "[llm]") {
  const auto r = parseResponse(200, R"({"id":"x","object":"chat.completion","choices":[
      {"index":0,"message":{"role":"assistant","content":"hi there"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}})");
  REQUIRE(r);
  CHECK(r->content == "hi there");
  CHECK(r->finish_reason == "stop");
  CHECK(r->usage.prompt_tokens == 12);
  CHECK(r->usage.completion_tokens == 3);
}

TEST_CASE("parseResponse treats a 200 with a broken body as retryable", "[llm]") {
  for (const char* body : {"not json", "[]", R"({"choices":[]})", R"({"choices":[{"x":1}]})"}) {
    const auto r = parseResponse(200, body);
    REQUIRE_FALSE(r);
    CHECK(r.error().cls == FailureClass::kRetry);
    CHECK(toString(r.error().kind) == "bad_response");
  }
}

TEST_CASE("parseResponse joins content given as a list of parts", "[llm]") {
  const auto parts = [](const std::string& list) {
    return parseResponse(200, R"({"choices":[{"message":{"role":"assistant","content":)" + list +
                                  R"(},"finish_reason":"stop"}]})");
  };
  SECTION("text parts are joined in order") {
    const auto r = parts(R"([{"type":"text","text":"one, "},{"type":"text","text":"two"}])");
    REQUIRE(r);
    CHECK(r->content == "one, two");
    CHECK(r->finish_reason == "stop");
  }
  SECTION("parts that are not text are skipped") {
    const auto r = parts(R"([{"type":"image_url","image_url":{"url":"x"}},"junk",7,
        {"type":"text","text":"kept"},{"type":"text","text":5},{"text":"no type"}])");
    REQUIRE(r);
    CHECK(r->content == "kept");
  }
  SECTION("a list with no text in it is an empty answer") {
    for (const char* list : {"[]", R"([{"type":"image_url"}])", R"([{"type":"text","text":""}])"}) {
      const auto r = parts(list);
      REQUIRE_FALSE(r);
      CHECK(toString(r.error().kind) == "empty_answer");
    }
  }
  SECTION("a refusal part without text is a refusal") {
    const auto r = parts(R"([{"type":"refusal","refusal":"I can't help with that."}])");
    REQUIRE_FALSE(r);
    CHECK(toString(r.error().kind) == "refusal");
    CHECK(r.error().message == "the model refused: I can't help with that.");
  }
}

TEST_CASE("parseResponse fails a refusal and retries an empty answer", "[llm]") {
  const auto message = [](const std::string& fields) {
    return parseResponse(200, R"({"choices":[{"message":{"role":"assistant")" + fields +
                                  R"(},"finish_reason":"stop"}]})");
  };
  SECTION("content null with a refusal fails the file with the refusal's text") {
    const auto r = message(R"(,"content":null,"refusal":"I can't\nhelp with that.")");
    REQUIRE_FALSE(r);
    CHECK(r.error().cls == FailureClass::kFailFile);
    CHECK(toString(r.error().kind) == "refusal");
    CHECK(r.error().message == "the model refused: I can't help with that.");
    CHECK(r.error().http_status == 200);
  }
  SECTION("content beats a refusal field that is there but null") {
    const auto r = message(R"(,"content":"fine","refusal":null)");
    REQUIRE(r);
    CHECK(r->content == "fine");
  }
  SECTION("empty, null or absent content is retried as empty_answer") {
    for (const char* fields : {R"(,"content":"")", R"(,"content":null)", "", R"(,"refusal":"")"}) {
      const auto r = message(fields);
      REQUIRE_FALSE(r);
      CHECK(r.error().cls == FailureClass::kRetry);
      CHECK(toString(r.error().kind) == "empty_answer");
    }
  }
  SECTION("content that is neither text nor a list is a bad response") {
    for (const char* fields : {R"(,"content":5)", R"(,"content":{"text":"x"})"}) {
      const auto r = message(fields);
      REQUIRE_FALSE(r);
      CHECK(toString(r.error().kind) == "bad_response");
    }
  }
  SECTION("an empty answer is no success for the limiter, nor the server's fault") {
    const auto answer = dropd::llm::readAnswer(200, R"({"choices":[{"message":{"content":""}}]})");
    CHECK(answer.outcome == dropd::throttle::Outcome::kClientError);
  }
}

TEST_CASE("parseResponse classifies HTTP errors", "[llm]") {
  const auto cls = [](int status, const char* body = "{}") {
    return parseResponse(status, body).error().cls;
  };
  CHECK(cls(429) == FailureClass::kRetry);
  CHECK(cls(500) == FailureClass::kRetry);
  CHECK(cls(503) == FailureClass::kRetry);
  CHECK(cls(408) == FailureClass::kRetry);
  CHECK(cls(401) == FailureClass::kPauseEndpoint);
  CHECK(cls(403) == FailureClass::kPauseEndpoint);
  CHECK(cls(429, R"({"error":{"code":"insufficient_quota","message":"no"}})") ==
        FailureClass::kPauseEndpoint);
  CHECK(cls(400) == FailureClass::kFailFile);
  CHECK(cls(404) == FailureClass::kFailFile);
  CHECK(cls(413) == FailureClass::kFailFile);
  CHECK(cls(422) == FailureClass::kFailFile);

  SECTION("a context-length 400 names its kind and keeps an excerpt") {
    const auto r =
        parseResponse(400, R"({"error":{"code":"context_length_exceeded","message":"too long"}})");
    CHECK(toString(r.error().kind) == "context_length");
    CHECK(r.error().http_status == 400);
    CHECK(r.error().message.find("too long") != std::string::npos);
  }
}

TEST_CASE("bodyExcerpt is one bounded line", "[llm]") {
  CHECK(dropd::llm::bodyExcerpt("a\nb\r\nc") == "a b  c");
  CHECK(dropd::llm::bodyExcerpt(std::string(500, 'x'), 10) == "xxxxxxxxxx...");
}

TEST_CASE("transportFailure sorts exchanges without a usable answer", "[llm]") {
  using dropd::Error;
  using dropd::ErrorCode;
  SECTION("a timeout is retried") {
    const Failure f = transportFailure(Error{ErrorCode::kTimeout, 0, "request to h:1: timed out"});
    CHECK(f.cls == FailureClass::kRetry);
    CHECK(toString(f.kind) == "timeout");
  }
  SECTION("a network or protocol error is retried") {
    for (const ErrorCode code : {ErrorCode::kSystem, ErrorCode::kProtocol}) {
      const Failure f = transportFailure(Error{code, 0, "read(h:1): connection reset"});
      CHECK(f.cls == FailureClass::kRetry);
      CHECK(toString(f.kind) == "network");
    }
  }
  SECTION("an answer over max_response_bytes fails the file") {
    const std::string why =
        "response body over max_response_bytes (67108864): Content-Length 1099511627776";
    const Failure f = transportFailure(Error{ErrorCode::kTooLarge, 0, why});
    CHECK(f.cls == FailureClass::kFailFile);
    CHECK(toString(f.kind) == "response_too_large");
    CHECK(f.http_status == 0);
    CHECK(f.message == why);
  }
}
