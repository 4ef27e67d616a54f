#include "dropd/fake_llm/fake_llm.hpp"

#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dropd/fake_llm/plain_answer.hpp"
#include "dropd/fake_llm/stream_answer.hpp"

namespace dropd::fake_llm {

struct FakeLlm::Pending {
  net::Responder responder;
  ChatRequest chat;
  FaultPlan plan;
  std::uint64_t id = 0;
  std::vector<net::Header> rate_headers{};  // x-ratelimit-* for this answer
  std::string echo{};  // echo_credentials: "you sent: Authorization: Bearer ..."
};

namespace {

using nlohmann::json;
using Headers = std::vector<net::Header>;

const Headers kJson{{"Content-Type", "application/json"}};

bool isLoopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1" || address.rfind("::ffff:127.", 0) == 0;
}

void sendError(const net::Responder& responder, int status, std::string_view message) {
  responder.send(status, kJson, errorBody(status, message));
}

// What the request carried as credentials, quoted whole: "you sent: NAME: VALUE; ...".
std::string credentialsOf(const net::ServerRequest& request) {
  std::string out;
  for (const net::Header& h : request.headers) {
    std::string name = h.name;
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (name == "authorization" || name == "api-key" || name == "x-api-key") {
      out += (out.empty() ? "you sent: " : "; ") + h.name + ": " + h.value;
    }
  }
  return out.empty() ? "you sent no credentials" : out;
}

std::string withEcho(std::string message, const std::string& echo) {
  return echo.empty() ? message : message + " (" + echo + ")";
}

// The completion with the echo appended to its content.
std::string echoInCompletion(const std::string& body, const std::string& echo) {
  json answer = json::parse(body);
  auto& content = answer["choices"][0]["message"]["content"];
  content = content.get<std::string>() + " [" + echo + "]";
  return answer.dump();
}

// Reads body[key] into `out` if present; false if present but not a whole number >= 0.
bool readLimit(const json& body, const char* key, std::uint64_t& out) {
  const auto it = body.find(key);
  if (it == body.end()) {
    return true;
  }
  if (!it->is_number_unsigned()) {
    return false;
  }
  out = it->get<std::uint64_t>();
  return true;
}

// A 200 to a "stream": true request, normal or with a stream fault, goes
// out as SSE; other terminal faults keep their plain-JSON form.
bool streams(const ChatRequest& chat, const FaultPlan& plan) {
  const auto& terminal = plan.terminal;
  return chat.stream && (!terminal || terminal == FaultKind::kStreamCut ||
                         terminal == FaultKind::kStreamError || terminal == FaultKind::kStall);
}

bool isErrorFault(const FaultPlan& plan) {
  return plan.terminal == FaultKind::kStatus || plan.terminal == FaultKind::kOutage;
}

// The error body of a status or outage fault.
std::string faultBody(const FaultPlan& plan, const std::string& echo) {
  const std::string message = withEcho(plan.terminal == FaultKind::kOutage
                                           ? "fake fault: outage"
                                           : "fake fault: status " + std::to_string(plan.status),
                                       echo);
  return plan.code.empty() ? errorBody(plan.status, message)
                           : errorBody(plan.status, message, plan.code);
}

std::string completionWithEcho(const ChatRequest& chat, std::uint64_t id, std::int64_t created,
                               const std::string& echo) {
  std::string body = completionBody(chat, id, created);
  return echo.empty() ? body : echoInCompletion(body, echo);
}

Headers plainHeaders(const FaultPlan& plan, const Headers& rate_headers) {
  Headers headers = kJson;
  if (plan.retry_after_s) {
    headers.push_back({"Retry-After", std::to_string(*plan.retry_after_s)});
  }
  headers.insert(headers.end(), rate_headers.begin(), rate_headers.end());
  return headers;
}

}  // namespace

Result<std::unique_ptr<FakeLlm>> FakeLlm::start(uv_loop_t& loop, FakeLlmConfig config,
                                                const Clock& clock) {
  auto fake = std::make_unique<FakeLlm>(Key{}, loop, std::move(config), clock);
  if (!fake->config_.request_log.empty()) {
    auto log = RequestLog::open(fake->config_.request_log);
    if (!log) {
      return tl::unexpected{log.error()};
    }
    fake->request_log_.emplace(std::move(*log));
  }
  FakeLlm* raw = fake.get();  // stable: the FakeLlm never moves
  net::ServerOptions options;
  options.tls_cert_file = fake->config_.tls_cert;
  options.tls_key_file = fake->config_.tls_key;
  auto server = net::HttpServer::listen(
      loop, fake->config_.host, fake->config_.port,
      [raw](net::ServerRequest&& request, net::Responder responder) {
        raw->onRequest(std::move(request), std::move(responder));
      },
      std::move(options));
  if (!server) {
    return tl::unexpected{server.error()};
  }
  fake->server_ = std::move(*server);
  return fake;
}

FakeLlm::FakeLlm(Key /*key*/, uv_loop_t& loop, FakeLlmConfig config, const Clock& clock)
    : loop_(loop),
      config_(std::move(config)),
      clock_(clock),
      picker_(config_.seed),
      started_(clock.now()),
      limiter_(config_.limits, started_) {}

FakeLlm::~FakeLlm() { close(); }

void FakeLlm::close() {
  if (server_) {
    server_->closeNow();
  }
  delayed_.clear();
}

void FakeLlm::onRequest(net::ServerRequest&& request, net::Responder responder) {
  const std::string_view path =
      std::string_view{request.target}.substr(0, request.target.find('?'));
  if (path == "/v1/chat/completions") {
    if (request.method != "POST") {
      sendError(responder, 405, "use POST");
      return;
    }
    onChat(request, std::move(responder));
  } else if (path == "/healthz") {
    responder.send(200, kJson, R"({"status":"ok"})");
  } else if (path == "/_fake/control") {
    onControl(request, responder);
  } else if (path == "/_fake/stats") {
    // For bench/pipeline: TLS handshakes per run are connections accepted
    // (each https connection does one), so keep-alive shows up here.
    const json stats = {{"connections", server_->accepted()},
                        {"chat_requests", chat_requests_},
                        {"tls", !config_.tls_cert.empty()}};
    responder.send(200, kJson, stats.dump());
  } else {
    sendError(responder, 404, "no such endpoint: " + std::string(path));
  }
}

void FakeLlm::onChat(const net::ServerRequest& request, net::Responder responder) {
  ++chat_requests_;
  const json body = json::parse(request.body, nullptr, false);
  Pending pending{std::move(responder), {}, {}, chat_requests_};
  if (config_.echo_credentials) {
    pending.echo = credentialsOf(request);
  }
  if (body.is_discarded() || !readChatRequest(body, pending.chat)) {
    logRequest(pending.chat, 400, "");
    sendError(pending.responder, 400,
              withEcho("request body is not a chat-completions JSON object", pending.echo));
    return;
  }
  const auto since_start =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - started_);
  pending.chat.echo = config_.echo_content;
  if (const std::uint64_t tokens = contextTokens(pending.chat);
      config_.context_tokens > 0 && tokens > config_.context_tokens) {
    logRequest(pending.chat, 400, "context");
    pending.responder.send(400, kJson, contextLengthBody(config_.context_tokens, tokens));
    return;
  }
  pending.plan = picker_.pick(config_.faults, pending.chat.user_content, since_start);
  if (pending.plan.terminal == FaultKind::kHang) {
    logRequest(pending.chat, 0, pending.plan.names);
    return;  // the Responder goes away unanswered: the client waits
  }
  if (!pending.plan.terminal) {  // a fault's answer comes before the rate limits
    const Admission admission = limiter_.admit(requestTokenCost(pending.chat), clock_.now());
    pending.rate_headers = rateLimitHeaders(admission);
    if (!admission.allowed) {
      answerRateLimited(pending, admission);
      return;
    }
  }
  const auto delay = config_.latency + pending.plan.extra_delay;
  if (delay.count() <= 0) {
    answerChat(pending);
    return;
  }
  answerLater(delay, std::move(pending));
}

void FakeLlm::answerLater(std::chrono::milliseconds delay, Pending pending) {
  auto timer = uv::Timer::create(loop_);
  if (!timer) {
    sendError(pending.responder, 500, "fake: no timer: " + timer.error().message());
    return;
  }
  const std::uint64_t id = pending.id;
  auto started = timer->start(delay, [this, pending = std::move(pending)] {
    answerChat(pending);
    delayed_.erase(pending.id);  // destroys this timer: allowed from its callback
  });
  if (!started) {
    sendError(pending.responder, 500, "fake: timer: " + started.error().message());
    return;
  }
  delayed_.emplace(id, std::move(*timer));
}

void FakeLlm::answerChat(const Pending& pending) {
  const FaultPlan& plan = pending.plan;
  const auto created =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.wallNow().time_since_epoch()).count();
  PlainAnswer answer{200, {}, {}};
  if (isErrorFault(plan)) {
    answer.status = plan.status;
    answer.body = faultBody(plan, pending.echo);
  } else {
    answer.body = completionWithEcho(pending.chat, pending.id, created, pending.echo);
  }
  logRequest(pending.chat, answer.status, plan.names);
  if (streams(pending.chat, plan)) {
    StreamWrites writes =
        streamWrites(streamEvents(pending.chat, pending.id, created), plan, pending.rate_headers);
    pending.responder.sendRaw(std::move(writes.pieces), writes.after);
    return;
  }
  if (sendCutShort(pending.responder, plan, answer.body)) {
    return;
  }
  answer.headers = plainHeaders(plan, pending.rate_headers);
  sendPlain(pending.responder, plan, std::move(answer));
}

void FakeLlm::answerRateLimited(const Pending& pending, const Admission& admission) {
  logRequest(pending.chat, 429, admission.refused_by == "tokens" ? "tpm" : "rpm");
  const std::string message = withEcho(
      "Rate limit reached for " + std::string(admission.refused_by) +
          " per min: please try again in " + std::to_string(admission.retry_after.count()) + "ms.",
      pending.echo);
  Headers headers = kJson;
  headers.insert(headers.end(), pending.rate_headers.begin(), pending.rate_headers.end());
  pending.responder.send(429, std::move(headers), rateLimitBody(admission.refused_by, message));
}

void FakeLlm::onControl(const net::ServerRequest& request, const net::Responder& responder) {
  if (request.method != "POST") {
    sendError(responder, 405, "use POST");
    return;
  }
  if (!isLoopback(request.peer_address)) {
    sendError(responder, 403, "control is loopback only");
    return;
  }
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    sendError(responder, 400, "control body must be a JSON object");
    return;
  }
  std::vector<Fault> faults = config_.faults;
  if (const auto it = body.find("faults"); it != body.end()) {
    if (!it->is_array()) {
      sendError(responder, 400, "\"faults\" must be an array of fault specs");
      return;
    }
    faults.clear();
    for (const json& spec : *it) {
      auto fault = parseFault(spec.is_string() ? spec.get<std::string>() : spec.dump());
      if (!fault) {
        sendError(responder, 400, fault.error().message());
        return;
      }
      faults.push_back(std::move(*fault));
    }
  }
  auto latency = config_.latency;
  if (const auto it = body.find("latency"); it != body.end()) {
    auto parsed = parseDuration(it->is_string() ? it->get<std::string>() : it->dump());
    if (!parsed) {
      sendError(responder, 400, parsed.error().message());
      return;
    }
    latency = *parsed;
  }
  RateLimits limits = limiter_.limits();
  if (!readLimit(body, "rpm", limits.rpm) || !readLimit(body, "tpm", limits.tpm)) {
    sendError(responder, 400, "\"rpm\" and \"tpm\" must be whole numbers >= 0");
    return;
  }
  config_.faults = std::move(faults);  // all or nothing: only once everything parsed
  config_.latency = latency;
  if (body.contains("rpm") || body.contains("tpm")) {
    limiter_.setLimits(limits, clock_.now());
  }
  json answer = {{"faults", json::array()},
                 {"latency_ms", latency.count()},
                 {"rpm", limits.rpm},
                 {"tpm", limits.tpm}};
  for (const Fault& f : config_.faults) {
    answer["faults"].push_back(describe(f));
  }
  responder.send(200, kJson, answer.dump());
}

void FakeLlm::logRequest(const ChatRequest& chat, int status, const std::string& fault) {
  if (config_.log) {
    config_.log->debug("fake.request status={} fault={:?} bytes={}", status, fault,
                       chat.user_content.size());
  }
  if (request_log_) {
    request_log_->write(LogEntry{clock_.wallNow(), status, fault, chat.user_content.size(),
                                 sha256Hex(chat.user_content), firstWords(chat.user_content, 8),
                                 chat.has_assistant, firstWords(chat.first_user_content, 8),
                                 std::string(toString(jsonAnswerKind(chat))), contextTokens(chat)});
  }
}

}  // namespace dropd::fake_llm
