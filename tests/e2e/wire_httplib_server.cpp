// A chat-completions endpoint on cpp-httplib (Debian's libcpp-httplib-dev,
// built with OpenSSL, zlib and brotli; its pkg-config defines the macros),
// the HTTP library llama.cpp's server is built on, for
// tests/e2e/test_wire_compat.py. Usage:
//
//   wire_httplib_server [--tls CERT KEY]
//
// The first path segment picks the answer, as llama.cpp answers:
//   /cl/...   Response::set_content: a JSON answer with Content-Length;
//   /sse/...  set_chunked_content_provider: a text/event-stream, one event
//             per sink write, usage in the last event (chunked).
// The answer's content is "httplib MODE: " + the last message's content.
// httplib's own defaults stay as they are: 5 requests per connection (the
// fifth answer says Connection: close), 5 s of keep-alive, and a JSON
// answer gzipped (with its Content-Length) for a client that accepts gzip.
//
// Binds 127.0.0.1 on a free port and prints "listening on 127.0.0.1:PORT",
// then "conn N" the first time a connection (the client's address and
// port) brings a request, "req N" per request and "sent ENCODING" per
// answer (its Content-Encoding, "-" for none), flushed. With --tls it
// serves https (httplib::SSLServer, OpenSSL).
#include <httplib.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;

std::mutex print_mutex;
std::map<std::pair<std::string, int>, int> connections;

void countRequest(const httplib::Request& request) {
  const std::lock_guard<std::mutex> lock(print_mutex);
  const auto peer = std::make_pair(request.remote_addr, request.remote_port);
  auto [it, fresh] = connections.emplace(peer, static_cast<int>(connections.size()) + 1);
  if (fresh) {
    std::printf("conn %d\n", it->second);
  }
  std::printf("req %d\n", it->second);
  std::fflush(stdout);
}

json usage() { return {{"prompt_tokens", 7}, {"completion_tokens", 5}, {"total_tokens", 12}}; }

json completion(const std::string& model, const std::string& content) {
  return {{"id", "chatcmpl-httplib"},
          {"object", "chat.completion"},
          {"created", 1700000000},
          {"model", model},
          {"choices", json::array({{{"index", 0},
                                    {"message", {{"role", "assistant"}, {"content", content}}},
                                    {"finish_reason", "stop"}}})},
          {"usage", usage()}};
}

// OpenAI's shape: role, the content in thirds, finish_reason, usage, [DONE].
std::vector<std::string> sseEvents(const std::string& model, const std::string& content) {
  auto chunk = [&](json choices, bool with_usage) {
    json body = {{"id", "chatcmpl-httplib"},
                 {"object", "chat.completion.chunk"},
                 {"created", 1700000000},
                 {"model", model},
                 {"choices", std::move(choices)}};
    if (with_usage) {
      body["usage"] = usage();
    }
    return "data: " + body.dump() + "\n\n";
  };
  auto delta = [](json d, json finish) {
    return json::array({{{"index", 0}, {"delta", std::move(d)}, {"finish_reason", finish}}});
  };
  // Thirds by code point, not byte: a piece must stay valid UTF-8 for dump().
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < content.size(); ++i) {
    if ((static_cast<unsigned char>(content[i]) & 0xC0) != 0x80) {
      starts.push_back(i);
    }
  }
  const std::size_t n = starts.size();
  auto at = [&](std::size_t k) { return k >= n ? content.size() : starts[k]; };
  std::vector<std::string> events{
      chunk(delta({{"role", "assistant"}, {"content", ""}}, nullptr), false)};
  for (std::size_t part = 0; part < 3; ++part) {
    const std::size_t from = at(n / 3 * part);
    const std::size_t to = part == 2 ? content.size() : at(n / 3 * (part + 1));
    events.push_back(chunk(delta({{"content", content.substr(from, to - from)}}, nullptr), false));
  }
  events.push_back(chunk(delta(json::object(), "stop"), false));
  events.push_back(chunk(json::array(), true));
  events.push_back("data: [DONE]\n\n");
  return events;
}

void onChat(const httplib::Request& request, httplib::Response& response) {
  countRequest(request);
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.contains("messages")) {
    response.status = 400;
    response.set_content(R"({"error":{"message":"not a chat request"}})", "application/json");
    return;
  }
  const std::string mode = request.matches[1];
  const std::string model = body.value("model", "?");
  const std::string content =
      "httplib " + mode + ": " + body["messages"].back().value("content", "");
  if (mode == "cl") {
    response.set_content(completion(model, content).dump(), "application/json");
    return;
  }
  auto events = std::make_shared<std::vector<std::string>>(sseEvents(model, content));
  response.set_header("Cache-Control", "no-cache");
  response.set_chunked_content_provider("text/event-stream",
                                        [events](std::size_t, httplib::DataSink& sink) {
                                          for (const auto& event : *events) {
                                            if (!sink.write(event.data(), event.size())) {
                                              return false;
                                            }
                                          }
                                          sink.done();
                                          return true;
                                        });
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<httplib::Server> server;
  if (argc == 4 && std::strcmp(argv[1], "--tls") == 0) {
    server = std::make_unique<httplib::SSLServer>(argv[2], argv[3]);
  } else if (argc == 1) {
    server = std::make_unique<httplib::Server>();
  } else {
    std::fprintf(stderr, "usage: %s [--tls CERT KEY]\n", argv[0]);
    return 2;
  }
  if (!server->is_valid()) {
    std::fprintf(stderr, "wire_httplib_server: the certificate or key did not load\n");
    return 1;
  }
  server->Post(R"(/(cl|sse)/v1/chat/completions)", onChat);
  server->set_logger([](const httplib::Request&, const httplib::Response& response) {
    const std::string encoding = response.get_header_value("Content-Encoding");
    const std::lock_guard<std::mutex> lock(print_mutex);
    std::printf("sent %s\n", encoding.empty() ? "-" : encoding.c_str());
    std::fflush(stdout);
  });
  const int port = server->bind_to_any_port("127.0.0.1");
  if (port < 0) {
    std::fprintf(stderr, "wire_httplib_server: bind failed\n");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  return server->listen_after_bind() ? 0 : 1;
}
