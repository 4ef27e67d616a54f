#pragma once

// The HTTP side of `dropd status`: one GET to the daemon's status server,
// or its /events stream followed for ever. Blocking: each call runs its own
// uv loop until it is done (the CLI has nothing else to do meanwhile).
// Only status_command.cpp uses it.

#include <ostream>
#include <string>

#include "dropd/base/error.hpp"
#include "dropd/config/config.hpp"
#include "dropd/net/http_message.hpp"

namespace dropd::ops {

// Where the status server listens, as `dropd status` reaches it.
struct StatusTarget {
  std::string host;  // an IP literal; a wildcard listen (0.0.0.0, ::) is asked on loopback
  int port = 0;
  std::string token;  // empty: none configured

  // "127.0.0.1:9464", "[::1]:9464": for messages.
  [[nodiscard]] std::string authority() const;
};

[[nodiscard]] StatusTarget statusTargetOf(const config::StatusConfig& status);

// GET `target` (with the token, if any). Errors as net::HttpClient's:
// kSystem with sys UV_ECONNREFUSED when nothing listens.
[[nodiscard]] Result<net::HttpResponse> fetchStatus(const StatusTarget& where,
                                                    const std::string& target);

// Streams /events to `out`, one formatEventLine() per event (`raw`: each
// event's JSON data as sent), until the server closes the stream (returns
// ok) or something fails (the error: connect, a non-200 answer as
// kProtocol with its status and body).
[[nodiscard]] Status followEvents(const StatusTarget& where, bool raw, std::ostream& out);

}  // namespace dropd::ops
