#pragma once

// The one status table: how an attempt that did not give a usable
// completion is sorted, in the three vocabularies its readers use: what the
// Dispatcher does (FailureClass), what the error record says (FailureKind)
// and what the endpoint's limiter counts (throttle::Outcome). Pure; any
// thread.
//
//   answer                               class           kind            outcome
//   401, 403                             kPauseEndpoint  http            kRejected
//   any status, insufficient_quota       kPauseEndpoint  http            kRejected
//   429                                  kRetry          http            kRateLimited
//   408, 503                             kRetry          http            kOverloaded
//   409                                  kRetry          http            kClientError
//   other 5xx, and any status >= 600     kRetry          http            kServerError
//   400 context_length_exceeded          kFailFile       context_length  kClientError
//   other 4xx (400, 404, 413, 422, ...)  kFailFile       http            kClientError
//   2xx whose body is not a completion   kRetry          bad_response    kServerError
//   2xx, content null with a refusal     kFailFile       refusal         kClientError
//   2xx, content empty, absent or null   kRetry (*)      empty_answer    kClientError
//   2xx stream, error event or chunk     kRetry          stream_error    kServerError
//     ... its code insufficient_quota    kPauseEndpoint  stream_error    kRejected
//     ... its code context_length_exc.   kFailFile       context_length  kClientError
//   2xx stream ended, no [DONE] and no
//     finish_reason ("ended early")      kRetry          bad_response    kServerError
//   1xx, 3xx, < 100                      kFailFile       http            kServerError
//   no answer: timeout                   kRetry          timeout         kOverloaded
//   no answer: TLS certificate rejected  kPauseEndpoint  network         kRejected
//   no answer: proxy auth required (407) kPauseEndpoint  network         kRejected
//   no answer: network, protocol, ...    kRetry          network         kNetworkError
//   no answer: body over the cap         kFailFile       response_too_large  kClientError
//
// A garbled 2xx counts against the endpoint's health: the server answered,
// but not with something usable. A 409 is retried but is an answer from a
// healthy server, so it counts as kClientError. So does an answer over
// max_response_bytes: the server answered, the file fails (the same request
// would get the same answer), the endpoint stays healthy.
//
// A refusal is the model's verdict on this prompt: the same request would
// be refused again, so the file fails at once with the refusal's text. An
// empty answer may be a sampling accident, so it is retried, but (*) once
// retry.max_attempts is used up the file fails with empty_answer even when
// nothing else succeeded meanwhile: the server answered, it is not down.
// A certificate that does not verify (unknown CA, hostname mismatch,
// expired) will not fix itself with a retry, like a bad key: the endpoint
// pauses with the reason and no file fails. So does a proxy's 407 (net
// turns it into kRejected, "proxy HOST:PORT: proxy auth required (407)").

#include <string_view>

#include "dropd/base/error.hpp"
#include "dropd/throttle/outcome.hpp"

namespace dropd::llm {

// What the Dispatcher does about a failed attempt.
enum class FailureClass {
  kRetry,          // 408, 409, 429 (rate limit), 5xx, bad response body: back off, try again
  kPauseEndpoint,  // 401, 403, 429 insufficient_quota: the endpoint is unusable, files wait
  kFailFile,       // 400, 404, 413, 422 and other 4xx: this file's request is wrong, fail it
};

// Why a file failed, as its error record and counters name it.
enum class FailureKind {
  kHttp,              // a non-2xx answer
  kBadResponse,       // a 2xx whose body is not a completion
  kContextLength,     // a 400 context_length_exceeded
  kTimeout,           // no answer in time
  kNetwork,           // no answer: connect, reset, TLS, a malformed answer
  kResponseTooLarge,  // an answer over max_response_bytes
  kSkipped,           // the pipeline did not send the file (not regular, too big, ...)
  kRead,              // the pipeline could not read the file
  kOutput,            // the record could not be written
  kRefusal,           // the model refused (message.refusal), with the refusal's text
  kEmptyAnswer,       // a 2xx completion with no text in it
  kStreamError,       // a streamed 2xx that sent an error event or error chunk
  // output.format json: the answer held no JSON value, or one its schema
  // refuses, after output.max_repairs corrective follow-ups.
  kInvalidOutput,
  kExtract,  // dropd-extract could not get text out of the file (issue 14)
};

// "http", "bad_response", "context_length", "timeout", "network",
// "response_too_large", "skipped", "read", "output", "refusal", "empty_answer",
// "stream_error", "invalid_output", "extract".
[[nodiscard]] std::string_view toString(FailureKind kind) noexcept;

struct StatusClass {
  FailureClass cls = FailureClass::kRetry;
  FailureKind kind = FailureKind::kHttp;
  throttle::Outcome outcome = throttle::Outcome::kServerError;
};

// An HTTP answer that is not a usable completion: any non-2xx status, or a
// 2xx whose body did not parse. `error_code` is the OpenAI error object's
// code or type ("insufficient_quota", "context_length_exceeded"), empty if
// none.
[[nodiscard]] StatusClass classifyAnswer(int status, std::string_view error_code) noexcept;

// What is wrong with a 2xx answer that is not a usable completion.
enum class AnswerProblem {
  kNotACompletion,  // not JSON, no choices[0].message, content of the wrong type
  kRefusal,         // no text, and message.refusal (or a refusal part) says why
  kEmpty,           // no text and no refusal
};

// A 2xx answer that did not give a completion.
[[nodiscard]] StatusClass classifyCompletion(AnswerProblem problem) noexcept;

// A streamed 2xx whose events carried an error (`event: error`, or a chunk
// with an "error" object) after the answer had started: the server's
// trouble, so retried as a 5xx would be, unless the error object's
// `error_code` (as classifyAnswer's) says the key's quota is gone (pause)
// or the prompt is too long (the file fails).
[[nodiscard]] StatusClass classifyStreamError(std::string_view error_code) noexcept;

// An exchange that ended without an HTTP answer (net::HttpClient's error
// code): kTimeout, kTooLarge, kUntrusted (the TLS peer's certificate),
// kRejected (the proxy's 407), anything else is the network's.
[[nodiscard]] StatusClass classifyTransport(ErrorCode code) noexcept;

}  // namespace dropd::llm
