// dropd-fake-llm: the command line around fake_llm::FakeLlm (see
// include/dropd/fake_llm/fake_llm.hpp for what it serves).
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "dropd/fake_llm/fake_llm.hpp"
#include "dropd/uv/loop.hpp"
#include "dropd/uv/signal.hpp"

namespace {

using namespace dropd;

constexpr const char* kFooter = R"help(Fault SPEC: KIND[,OPTION]...
  KIND    status=CODE | reset-mid-body | hang | malformed-json | chunked | delay=DUR
          | outage=FROM..TO (503 from FROM to TO after start, e.g. outage=10s..40s)
          | slow-body (the answer written 16 bytes per write)
          | oversize (200 with Content-Length 1 TiB, a few bytes, connection kept open)
          | chunk-ext (the answer chunked, two extensions per chunk: ;a=1;b="x;y")
          | stream-cut (streamed answers: half the events, then the connection
            closed inside an event) | stream-error (half the events, then an
            `event: error`, then the end) | stall (half the events, then nothing,
            connection held open) | split (streamed answers: one write per byte)
          | gzip (a 200's body, plain or streamed, with Content-Encoding: gzip)
  OPTION  rate=P (0..1, default 1) | retry-after=S (status only)
          | code=NAME (status only: the error's "code", e.g. insufficient_quota)
          | match=NAME (only requests whose last user message contains NAME)
  Faults are chosen per request with a seeded RNG (--seed). Delays add up,
  chunked, chunk-ext, slow-body, split and gzip change the framing, the first
  status/outage/reset/hang/malformed/oversize/stream-* /stall that fires
  decides the answer. Stream faults leave plain (non-stream) requests alone.
  Examples: --fault status=500,rate=0.1 --fault status=429,retry-after=2
  --fault reset-mid-body,rate=0.05 --fault hang,match=STUCK
  --fault status=429,code=insufficient_quota --fault outage=10s..40s

Rate limits (--rpm N, --tpm N; 0 or absent: none), like real providers:
  over a sliding minute, the requests (tokens) admitted in the last 60 s
  may not exceed N; and over short windows, a bucket refilled at N/60 per
  second holding two seconds' worth, max(1, N/30), full at start. A request
  costs 1 request and ceil(bytes/4) of its messages' text + max_tokens
  tokens. Over a limit: 429, {"error": {"message": "Rate limit reached...",
  "type": "requests"|"tokens", "code": "rate_limit_exceeded"}}, Retry-After
  (seconds, rounded up), retry-after-ms. Every answer to a rate-checked
  request has x-ratelimit-limit/remaining/reset-requests (and -tokens);
  remaining is the smaller of minute and bucket, reset ("1s", "6m0s") the
  time until both are full again. Refused requests cost nothing; a fault's
  answer is not rate-checked.

Endpoints: POST /v1/chat/completions, GET /healthz, POST /_fake/control
  (loopback only; body {"faults": ["status=401"], "latency": "0ms", "rpm": 600,
  "tpm": 0} replaces the keys given), GET /_fake/stats ({"connections": N,
  "chat_requests": N, "tls": B}: connections accepted, the asking one
  included; over https each is one TLS handshake).
Answer content: "fake: <first 8 words of the last user message> (<N> bytes)",
  or with --echo-content the last user message itself.
JSON answers: to a request with response_format json_schema or json_object,
  or whose first user message holds a marker, {"summary": "<that content,
  for the first user message>", "bytes": N}. Markers: json:valid,
  json:invalid-once (invalid unless the request has an assistant message, as
  a corrective follow-up does), json:invalid (always {"summary": 42,
  "bytes": "many"}), json:fenced (in a ```json fence), json:think (after a
  <think> block), json:prose (a sentence before and after). The request log
  then has "answer", "repair" and "document_words".
Streaming: a request with "stream": true gets text/event-stream, chunked:
  a role chunk, one chat.completion.chunk per word of the content, one with
  finish_reason "stop", a usage chunk if "stream_options": {"include_usage":
  true}, then data: [DONE].
Context (--context-tokens N): a request whose messages come to more than N
  tokens (dropd's own estimate of text, file/token_estimate.hpp, over all
  messages' bytes and words, + 3 per message + 3) gets OpenAI's 400:
  {"error": {"message": "This model's maximum context length is N tokens.
  However, your messages resulted in M tokens. ...", "type":
  "invalid_request_error", "param": "messages", "code":
  "context_length_exceeded"}}, logged with fault "context". The request
  log's "tokens" is that count for every request.
TLS: --tls-cert and --tls-key (PEM files, both or neither) serve https.
Not implemented yet: pauses between slow-body's writes.)help";

struct Options {
  std::string listen = "127.0.0.1:0";
  std::string latency = "0ms";
  std::vector<std::string> faults;
  std::string request_log;
  std::uint64_t seed = 42;
  bool verbose = false;
  std::uint64_t rpm = 0;
  std::uint64_t tpm = 0;
  std::string tls_cert;
  std::string tls_key;
  bool echo_credentials = false;
  bool echo_content = false;
  std::uint64_t context_tokens = 0;
};

// "HOST:PORT" or "[V6]:PORT"; throws CLI::ValidationError (startup only).
void splitListen(const std::string& text, fake_llm::FakeLlmConfig& config) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    throw CLI::ValidationError("--listen", "expected HOST:PORT, got " + text);
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  config.host = host;
  config.port = std::stoi(text.substr(colon + 1));
}

fake_llm::FakeLlmConfig toConfig(const Options& options) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    throw CLI::ValidationError("--tls-cert/--tls-key", "give both or neither");
  }
  fake_llm::FakeLlmConfig config;
  splitListen(options.listen, config);
  auto latency = fake_llm::parseDuration(options.latency);
  if (!latency) {
    throw CLI::ValidationError("--latency", latency.error().message());
  }
  config.latency = *latency;
  for (const std::string& spec : options.faults) {
    auto fault = fake_llm::parseFault(spec);
    if (!fault) {
      throw CLI::ValidationError("--fault", fault.error().message());
    }
    config.faults.push_back(std::move(*fault));
  }
  config.limits = {options.rpm, options.tpm};
  config.seed = options.seed;
  config.request_log = options.request_log;
  config.tls_cert = options.tls_cert;
  config.tls_key = options.tls_key;
  config.echo_credentials = options.echo_credentials;
  config.echo_content = options.echo_content;
  config.context_tokens = options.context_tokens;
  if (options.verbose) {
    config.log = spdlog::stderr_color_mt("fake");
    config.log->set_level(spdlog::level::debug);
  }
  return config;
}

int serve(fake_llm::FakeLlmConfig config) {
  auto loop = uv::Loop::create();
  if (!loop) {
    std::fprintf(stderr, "dropd-fake-llm: %s\n", loop.error().message().c_str());
    return 1;
  }
  const SystemClock clock;
  auto fake = fake_llm::FakeLlm::start(loop->get(), std::move(config), clock);
  if (!fake) {
    std::fprintf(stderr, "dropd-fake-llm: %s\n", fake.error().message().c_str());
    return 1;
  }
  std::printf("listening on %s:%d\n", (*fake)->host().c_str(), (*fake)->port());
  std::fflush(stdout);  // a parent process waits for this line
  std::vector<uv::Signal> signals;
  for (const int signum : {SIGINT, SIGTERM}) {
    auto signal = uv::Signal::create(loop->get());
    if (!signal || !signal->start(signum, [&](int) {
          (*fake)->close();
          // Stay installed but stop holding the loop: a second signal during
          // the drain is then swallowed instead of killing us mid-way.
          for (uv::Signal& s : signals) {
            s.unref();
          }
        })) {
      std::fprintf(stderr, "dropd-fake-llm: cannot watch signal %d\n", signum);
      return 1;
    }
    signals.push_back(std::move(*signal));
  }
  loop->run();
  return 0;  // the signals close before the Loop, which then drains
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill us
  CLI::App app{"dropd-fake-llm: an OpenAI-compatible chat-completions endpoint for tests"};
  app.footer(kFooter);
  Options options;
  app.add_option("--listen", options.listen, "HOST:PORT to listen on (port 0: any free)")
      ->capture_default_str();
  app.add_option("--latency", options.latency, "delay before every answer (e.g. 50ms)")
      ->capture_default_str();
  app.add_option("--fault", options.faults, "fault SPEC, repeatable (see below)");
  app.add_option("--request-log", options.request_log, "append one JSON line per request");
  app.add_option("--seed", options.seed, "seed of the fault RNG")->capture_default_str();
  app.add_flag("--verbose", options.verbose, "one log line per request on stderr");
  app.add_option("--rpm", options.rpm, "requests per minute, then 429 (see below; 0: none)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1000000000}));
  app.add_option("--tpm", options.tpm, "tokens per minute, then 429 (see below; 0: none)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1000000000}));
  app.add_option("--tls-cert", options.tls_cert, "serve https with this PEM certificate chain");
  app.add_option("--tls-key", options.tls_key, "the PEM private key of --tls-cert");
  app.add_flag("--echo-credentials", options.echo_credentials,
               "quote the request's Authorization/api-key headers in every answer");
  app.add_flag("--echo-content", options.echo_content,
               "answer with the last user message itself (what dropd sent)");
  app.add_option("--context-tokens", options.context_tokens,
                 "the model's context: a longer request gets a 400 context_length_exceeded "
                 "(see below; 0: none)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1000000000}));
  try {
    app.parse(argc, argv);
    return serve(toConfig(options));
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dropd-fake-llm: %s\n", e.what());
    return 2;
  }
}
