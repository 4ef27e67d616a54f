#include "dropd/ops/status_server.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "ops/file_answer.hpp"
#include "ops/query_string.hpp"
#include "ops/status_page.hpp"
#include "ops/status_render.hpp"

namespace dropd::ops {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

// File names are any bytes: what is not UTF-8 becomes U+FFFD, not a throw.
std::string dumpJson(const nlohmann::ordered_json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One /events client: the hub writes to the response's stream.
class StreamSubscriber final : public EventSubscriber {
 public:
  explicit StreamSubscriber(net::ResponseStream stream) : stream_(std::move(stream)) {}
  void write(const std::shared_ptr<const net::StreamChunk>& chunk) override {
    stream_.write(chunk);
  }
  void end() override { stream_.end(); }
  void close() override { stream_.close(); }
  [[nodiscard]] bool open() const override { return stream_.open(); }
  [[nodiscard]] std::size_t queuedBytes() const override { return stream_.queuedBytes(); }

 private:
  const net::ResponseStream stream_;
};

EventCounts countsOf(EventHub* hub) {
  return hub == nullptr ? EventCounts{} : EventCounts{hub->subscribers(), hub->dropped()};
}

bool sameSecret(std::string_view given, const std::string& token) {
  // Constant time over the token's length: a wrong guess takes as long
  // wherever it differs.
  return given.size() == token.size() &&
         CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

// The pipelines a /files question names: the one asked for, else all.
struct LedgerAsk {
  std::vector<std::string> pipelines;
  std::string rel;
};
struct LedgerAnswer {
  std::string pipeline;  // of `row`
  std::optional<pipeline::LedgerLookup::History> row;
  std::string error;  // the ledger could not be read
};

// Pool thread: the newest row of the path among the pipelines asked.
LedgerAnswer lastRowOf(pipeline::LedgerLookup& lookup, LedgerAsk ask) {
  LedgerAnswer out;
  for (const std::string& name : ask.pipelines) {
    auto row = lookup.latest(name, ask.rel);
    if (!row) {
      out.error = row.error().message();
      return out;
    }
    if (*row && (!out.row || (*row)->updated_at > out.row->updated_at)) {
      out.pipeline = name;
      out.row = std::move(*row);
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<StatusServer>> StatusServer::start(uv_loop_t& loop,
                                                          const config::StatusConfig& cfg,
                                                          StatusModel& model, StatusParts parts,
                                                          spdlog::logger& log) {
  auto server = std::make_unique<StatusServer>(cfg, model, std::move(parts), log);
  StatusServer* raw = server.get();  // stable: the server never moves
  auto http =
      net::HttpServer::listen(loop, cfg.address.host, cfg.address.port,
                              [raw](net::ServerRequest&& request, net::Responder responder) {
                                raw->handle(std::move(request), std::move(responder));
                              },
                              {.max_body_bytes = 0,
                               .max_header_bytes = kMaxHeaderBytes,
                               .max_connections = kMaxConnections});
  if (!http) {
    return tl::unexpected{http.error()};
  }
  server->http_ = std::move(*http);
  log.info("status.listening address={}:{} token={}", cfg.address.host, server->port(),
           cfg.token ? "required" : "none");
  return server;
}

StatusServer::StatusServer(config::StatusConfig cfg, StatusModel& model, StatusParts parts,
                           spdlog::logger& log)
    : cfg_(std::move(cfg)), model_(model), parts_(std::move(parts)), log_(log) {}

StatusServer::~StatusServer() = default;

bool StatusServer::serves(const config::StatusConfig& cfg) const {
  const bool same_token = cfg.token.has_value() == cfg_.token.has_value() &&
                          (!cfg.token || cfg.token->reveal() == cfg_.token->reveal());
  return same_token && cfg.address.host == cfg_.address.host &&
         cfg.address.port == cfg_.address.port;
}

bool StatusServer::authorized(const net::ServerRequest& request, std::string_view query) const {
  if (!cfg_.token) {
    return true;
  }
  const std::string& token = cfg_.token->reveal();
  if (const std::string* auth = request.header("authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() > kBearer.size() &&
        net::equalsIgnoreCase(auth->substr(0, kBearer.size()), kBearer) &&
        sameSecret(std::string_view(*auth).substr(kBearer.size()), token)) {
      return true;
    }
  }
  const auto given = queryParam(query, "token");
  return given && sameSecret(*given, token);
}

void StatusServer::answerJson(const net::Responder& responder, int status,
                              const std::string& body) const {
  // Last errors and failure messages are endpoints' text: mask them here,
  // where every JSON answer leaves, as the logger and the Sink do theirs.
  std::string sent = parts_.mask != nullptr ? parts_.mask->applyToJson(body) : body;
  sent.push_back('\n');
  responder.send(status, {{"Content-Type", std::string(kJson)}, {"Cache-Control", "no-store"}},
                 std::move(sent));
}

void StatusServer::answerEvents(const net::ServerRequest& request, std::string_view query,
                                net::Responder responder) {
  EventHub& hub = *parts_.events;
  if (hub.full()) {
    answerJson(responder, 503,
               fmt::format(R"x({{"error":"too many /events subscribers ({})"}})x",
                           hub.limits().max_subscribers));
    return;
  }
  std::vector<net::Header> headers = {{"Content-Type", "text/event-stream"},
                                      {"Cache-Control", "no-store"},
                                      {"X-Accel-Buffering", "no"}};
  if (request.method == "HEAD") {
    responder.send(200, std::move(headers), "");
    return;
  }
  std::optional<std::string> last_event_id = queryParam(query, "last_event_id");
  if (const std::string* header = request.header("last-event-id")) {
    last_event_id = *header;  // what an EventSource sends when it reconnects
  }
  net::ResponseStream stream = responder.startStream(200, std::move(headers));
  if (stream.open()) {
    (void)hub.subscribe(std::make_unique<StreamSubscriber>(std::move(stream)), last_event_id);
  }
}

void StatusServer::handle(net::ServerRequest&& request, net::Responder responder) {
  const Target target = splitTarget(request.target);
  if (request.method != "GET" && request.method != "HEAD") {
    responder.send(405, {{"Allow", "GET, HEAD"}, {"Content-Type", "text/plain"}},
                   "method not allowed\n");
    return;
  }
  if (!authorized(request, target.query)) {
    responder.send(401, {{"WWW-Authenticate", "Bearer"}, {"Content-Type", "text/plain"}},
                   "a bearer token is required\n");
    return;
  }
  if (target.path == "/healthz") {
    answerJson(responder, 200, R"({"ok":true})");
  } else if (target.path == "/readyz") {
    const Readiness r = readiness(parts_);
    const nlohmann::ordered_json body =
        r.ready ? nlohmann::ordered_json{{"ready", true}}
                : nlohmann::ordered_json{{"ready", false}, {"reason", r.reason}};
    answerJson(responder, r.ready ? 200 : 503, body.dump());
  } else if (target.path == "/status") {
    answerJson(responder, 200, dumpJson(statusJson(model_, parts_)));
  } else if (target.path == "/metrics") {
    responder.send(200, {{"Content-Type", std::string(kMetricsType)}},
                   metricsText(model_, parts_, countsOf(parts_.events)));
  } else if (target.path == "/") {
    responder.send(200,
                   {{"Content-Type", "text/html; charset=utf-8"}, {"Cache-Control", "no-store"}},
                   std::string(statusPage()));
  } else if (target.path == "/files") {
    answerFile(target.query, std::move(responder));
  } else if (target.path == "/events" && parts_.events != nullptr) {
    answerEvents(request, target.query, std::move(responder));
  } else {
    answerJson(responder, 404, R"({"error":"not found"})");
  }
}

void StatusServer::answerFile(std::string_view query, net::Responder responder) {
  const auto path = queryParam(query, "path");
  if (!path || path->empty()) {
    answerJson(responder, 400, R"({"error":"/files needs ?path=REL, percent-encoded"})");
    return;
  }
  FileAsk ask{queryParam(query, "pipeline").value_or(""), *path};
  if (auto live = liveFileAnswer(model_, parts_, ask)) {
    answerJson(responder, 200, dumpJson(*live));
    return;
  }
  LedgerAsk ledger_ask{{}, ask.rel};
  for (const config::Pipeline& p : parts_.config.pipelines) {
    if (ask.pipeline.empty() || p.name == ask.pipeline) {
      ledger_ask.pipelines.push_back(p.name);
    }
  }
  if (parts_.lookup == nullptr || ledger_ask.pipelines.empty()) {
    answerJson(responder, 404, dumpJson(unknownFileAnswer(parts_, ask, "")));
    return;
  }
  // The server may be gone when the pool answers (a reload rebound it).
  std::weak_ptr<const bool> alive = alive_;
  parts_.lookup->run<LedgerAsk, LedgerAnswer>(
      std::move(ledger_ask), &lastRowOf,
      [this, alive, ask = std::move(ask), responder](LedgerAnswer found) {
        if (alive.expired() || !responder.pending()) {
          return;
        }
        if (found.row) {
          answerJson(responder, 200,
                     dumpJson(finishedFileAnswer(found.pipeline, ask.rel, *found.row)));
        } else {
          answerJson(responder, 404, dumpJson(unknownFileAnswer(parts_, ask, found.error)));
        }
      });
}

}  // namespace dropd::ops
