#pragma once

// The status server (/work/ops-contract.md, INTERFACE.md "Status
// endpoint"): /healthz, /readyz, /status, /metrics, /events and /files over
// net::HttpServer, on `status.listen`. Loop thread only.
//
// With `status.token` set every request must carry `Authorization: Bearer
// TOKEN` or `?token=TOKEN` (compared in constant time), whatever the
// address; else 401 with `WWW-Authenticate: Bearer`. GET and HEAD only
// (405 otherwise), no bodies, request heads up to 16 KiB, at most 64
// connections.
//
// /events streams are handed to `parts.events`, the Daemon's EventHub,
// which outlives this server: a server rebuilt for a new address or token
// serves the same ring and ids (the Daemon ends the old streams first).
//
// The Daemon owns it (and keeps it across reloads unless the listen address
// or token changed); `model` and what `parts` references must outlive it.

#include <memory>
#include <string>

#include <spdlog/logger.h>
#include <uv.h>

#include "dropd/base/error.hpp"
#include "dropd/config/config.hpp"
#include "dropd/net/http_server.hpp"
#include "dropd/ops/status_model.hpp"
#include "dropd/ops/status_parts.hpp"

namespace dropd::ops {

class StatusServer {
 public:
  static constexpr std::size_t kMaxConnections = 64;
  static constexpr std::size_t kMaxHeaderBytes = 16u << 10;

  // Binds cfg.address; fails as net::HttpServer::listen() does (address in
  // use, not available).
  [[nodiscard]] static Result<std::unique_ptr<StatusServer>> start(uv_loop_t& loop,
                                                                   const config::StatusConfig& cfg,
                                                                   StatusModel& model,
                                                                   StatusParts parts,
                                                                   spdlog::logger& log);
  StatusServer(config::StatusConfig cfg, StatusModel& model, StatusParts parts,
               spdlog::logger& log);
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  [[nodiscard]] int port() const { return http_->port(); }
  // Same address and token: a reload can keep this server.
  [[nodiscard]] bool serves(const config::StatusConfig& cfg) const;

 private:
  void handle(net::ServerRequest&& request, net::Responder responder);
  [[nodiscard]] bool authorized(const net::ServerRequest& request, std::string_view query) const;
  void answerJson(const net::Responder& responder, int status, const std::string& body) const;
  // /files?path=REL[&pipeline=NAME]: a live job's answer at once, else the
  // ledger's, read on the pool through parts_.lookup.
  void answerFile(std::string_view query, net::Responder responder);
  // GET /events: 503 past the subscriber bound, else the stream, handed to
  // the EventHub (resuming from Last-Event-ID or ?last_event_id=).
  void answerEvents(const net::ServerRequest& request, std::string_view query,
                    net::Responder responder);

  const config::StatusConfig cfg_;
  StatusModel& model_;
  const StatusParts parts_;
  spdlog::logger& log_;
  std::unique_ptr<net::HttpServer> http_;
  // Shared only to hand out weak_ptrs: a ledger look-up that answers after
  // this server is gone finds it expired and touches nothing.
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace dropd::ops
