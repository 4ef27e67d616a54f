// `dropd status --follow`: /events read as it arrives (status_client.hpp).
// net::HttpClient only hands over whole responses, and this one never
// ends, so the stream is read straight off a uv::TcpStream through the
// pure steps of event_stream.hpp.

#include <netinet/in.h>

#include <chrono>
#include <optional>

#include <uv.h>

#include "dropd/ops/event_stream.hpp"
#include "dropd/ops/status_format.hpp"
#include "dropd/uv/loop.hpp"
#include "dropd/uv/tcp_stream.hpp"
#include "dropd/uv/timer.hpp"

#include "status_client.hpp"

namespace dropd::ops {
namespace {

using namespace std::chrono_literals;

// Until the head of the answer is in: connect, write, first bytes.
constexpr auto kHeadTimeout = 5s;

// One /events connection, its bytes taken through head, framing and SSE.
struct Follower {
  std::ostream& out;
  const bool raw;       // print each event's data as sent, not formatEventLine()
  std::string pending;  // bytes before the head was complete
  std::optional<StreamHead> head;
  ChunkedDecoder chunked;
  SseParser sse;
  std::optional<Status> finished;  // set once: ok at a clean end, else why

  void fail(Error error) {
    if (!finished) {
      finished = tl::unexpected(std::move(error));
    }
  }

  void body(std::string_view bytes) {
    for (const SseEvent& event : sse.feed(bytes)) {
      out << (raw ? event.data : formatEventLine(event.event, event.data))
          << std::endl;  // flushed: a live view
    }
  }

  void onBytes(std::string_view bytes) {
    if (!head) {
      pending.append(bytes);
      auto parsed = parseStreamHead(pending);
      if (!parsed) {
        return fail(parsed.error());
      }
      if (!*parsed) {
        return;
      }
      head = **parsed;
      if (head->status != 200) {
        return fail(Error{ErrorCode::kProtocol, 0,
                          "GET /events: HTTP " + std::to_string(head->status) + " " +
                              pending.substr(head->size, 200)});
      }
      const std::string rest = pending.substr(head->size);
      pending.clear();
      return onBody(rest);
    }
    onBody(bytes);
  }

  void onBody(std::string_view bytes) {
    if (!head->chunked) {
      return body(bytes);
    }
    auto decoded = chunked.feed(bytes);
    if (!decoded) {
      return fail(decoded.error());
    }
    body(*decoded);
    if (chunked.finished()) {
      finished = Status{};
    }
  }
};

std::string requestFor(const StatusTarget& where) {
  std::string request =
      "GET /events HTTP/1.1\r\nHost: " + where.authority() + "\r\nAccept: text/event-stream\r\n";
  if (!where.token.empty()) {
    request += "Authorization: Bearer " + where.token + "\r\n";
  }
  return request + "\r\n";
}

Result<sockaddr_storage> addressOf(const StatusTarget& where) {
  sockaddr_storage addr{};
  const bool v6 = where.host.find(':') != std::string::npos;
  const int rc =
      v6 ? uv_ip6_addr(where.host.c_str(), where.port, reinterpret_cast<sockaddr_in6*>(&addr))
         : uv_ip4_addr(where.host.c_str(), where.port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc < 0) {
    return uvError(rc, "uv_ip_addr(" + where.host + ")");
  }
  return addr;
}

// Connects, sends the request and reads until `follower` is finished.
Status start(uv::TcpStream& stream, uv::Timer& timer, const StatusTarget& where,
             Follower& follower) {
  auto addr = addressOf(where);
  if (!addr) {
    return tl::unexpected(addr.error());
  }
  auto timed_out = [&follower, &where] {
    follower.fail(Error{ErrorCode::kTimeout, 0,
                        "GET /events from " + where.authority() + ": no answer within 5 s"});
  };
  if (auto s = timer.start(kHeadTimeout, timed_out); !s) {
    return s;
  }
  const std::string authority = where.authority();
  return stream.connect(reinterpret_cast<const sockaddr&>(*addr), [&, authority](Status s) {
    if (!s) {
      return follower.fail(Error{s.error().code, s.error().sys, "connect(" + authority + ")"});
    }
    if (auto w = stream.write(requestFor(where), nullptr, {}); !w) {
      return follower.fail(w.error());
    }
    auto r = stream.startRead([&follower, &timer](Result<std::string_view> bytes) {
      if (!bytes && bytes.error().sys == UV_EOF) {
        follower.finished = Status{};  // the daemon went away (stopped, restarted)
        return;
      }
      if (!bytes) {
        return follower.fail(bytes.error());
      }
      follower.onBytes(*bytes);
      if (follower.head) {
        timer.stop();  // the stream is live: it may stay quiet for as long as it likes
      }
    });
    if (!r) {
      follower.fail(r.error());
    }
  });
}

}  // namespace

Status followEvents(const StatusTarget& where, bool raw, std::ostream& out) {
  auto loop = uv::Loop::create();
  if (!loop) {
    return tl::unexpected(loop.error());
  }
  Follower follower{out, raw, {}, {}, {}, {}, {}};
  {
    auto stream = uv::TcpStream::create(loop->get());
    auto timer = uv::Timer::create(loop->get());
    if (!stream || !timer) {
      return tl::unexpected(!stream ? stream.error() : timer.error());
    }
    if (auto s = start(*stream, *timer, where, follower); !s) {
      return s;
    }
    while (!follower.finished && loop->run(UV_RUN_ONCE)) {
    }
  }  // the stream and timer close here; ~Loop runs the loop until they are gone
  return follower.finished ? *follower.finished : Status{};
}

}  // namespace dropd::ops
