#include "dropd/llm/http_llm_client.hpp"

#include "dropd/llm/stream_assembler.hpp"
#include "dropd/version.hpp"

namespace dropd::llm {
namespace {

net::ClientOptions clientOptions(const config::Endpoint& endpoint) {
  net::ClientOptions options;
  options.connect_timeout = endpoint.timeouts.connect;
  options.request_timeout = endpoint.timeouts.request;
  options.idle_timeout = endpoint.timeouts.idle;
  options.read_idle_timeout = endpoint.timeouts.idle;
  options.max_connections = endpoint.limits.max_in_flight;
  options.tls.verify = endpoint.tls.verify;
  options.tls.ca_file = endpoint.tls.ca_file.string();
  if (endpoint.proxy) {
    options.proxy.host = endpoint.proxy->host;
    options.proxy.port = endpoint.proxy->port;
    const std::string credentials = endpoint.proxy->basicCredentials();
    options.proxy.authorization = credentials.empty() ? "" : "Basic " + credentials;
  }
  return options;
}

std::optional<std::string_view> headerValue(const net::HttpResponse& response,
                                            std::string_view name) {
  if (const std::string* value = response.header(name)) {
    return std::string_view(*value);
  }
  return std::nullopt;
}

// Replaces the first header named `name` (any case), else appends one.
void setHeader(std::vector<net::Header>& headers, const std::string& name,
               const std::string& value) {
  for (net::Header& header : headers) {
    if (net::equalsIgnoreCase(header.name, name)) {
      header = {name, value};
      return;
    }
  }
  headers.push_back({name, value});
}

throttle::RateLimitHints rateLimitHints(const net::HttpResponse& response) {
  return throttle::parseRateLimitHeaders(headerValue(response, "x-ratelimit-remaining-requests"),
                                         headerValue(response, "x-ratelimit-remaining-tokens"),
                                         headerValue(response, "x-ratelimit-reset-requests"),
                                         headerValue(response, "x-ratelimit-reset-tokens"));
}

}  // namespace

// Shared by the request's on_body and its completion callback (both on the
// loop thread, the first always before the second): a shared_ptr because
// the two std::functions are separate copies net::HttpClient keeps.
struct HttpLlmClient::Streamed {
  StreamAssembler assembler;
  MonoTime started;
  std::optional<std::chrono::milliseconds> ttft;
};

Result<std::unique_ptr<HttpLlmClient>> HttpLlmClient::create(uv_loop_t& loop,
                                                             const config::Endpoint& endpoint,
                                                             const Clock& clock) {
  auto url = net::Url::parse(endpoint.url.text);
  if (!url) {
    return tl::unexpected(url.error());
  }
  auto http = net::HttpClient::create(loop, *url, clientOptions(endpoint));
  if (!http) {
    return tl::unexpected(http.error());
  }
  return std::make_unique<HttpLlmClient>(std::move(*http), endpoint, clock);
}

HttpLlmClient::HttpLlmClient(std::unique_ptr<net::HttpClient> http,
                             const config::Endpoint& endpoint, const Clock& clock)
    : http_(std::move(http)),
      url_(endpoint.url),
      api_key_(endpoint.api_key),
      auth_(endpoint.auth),
      headers_(endpoint.headers),
      clock_(clock),
      stream_(endpoint.stream) {}

net::HttpRequest HttpLlmClient::requestFor(std::shared_ptr<const std::string> body) const {
  net::HttpRequest req;
  req.method = "POST";
  req.target = url_.target;
  req.headers = {{"Content-Type", "application/json"},
                 {"Accept", stream_ ? "text/event-stream" : "application/json"},
                 {"Accept-Encoding", "gzip"},  // net inflates it, capped (gzip_decoder.hpp)
                 {"User-Agent", std::string("dropd/") + kVersion}};
  if (api_key_ && auth_ == config::Auth::kBearer) {
    req.headers.push_back({"Authorization", "Bearer " + api_key_->reveal()});
  } else if (api_key_ && auth_ == config::Auth::kApiKey) {
    req.headers.push_back({"api-key", api_key_->reveal()});
  }
  for (const config::Header& header : headers_) {
    setHeader(req.headers, header.name, header.value());
  }
  req.shared_body = std::move(body);  // shared, not copied: a retry sends the same bytes
  return req;
}

void HttpLlmClient::send(std::shared_ptr<const std::string> body, AttemptFn done) {
  const MonoTime started = clock_.now();
  net::HttpRequest request = requestFor(std::move(body));
  std::shared_ptr<Streamed> streamed;
  if (stream_) {
    streamed = std::make_shared<Streamed>(Streamed{{}, started, std::nullopt});
    request.on_body = [this, streamed](std::string_view bytes) {
      const bool had_content = streamed->assembler.hasContent();
      streamed->assembler.feed(bytes);
      if (!had_content && streamed->assembler.hasContent()) {
        streamed->ttft =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - streamed->started);
      }
    };
  }
  http_->send(std::move(request),
              [this, started, streamed, done = std::move(done)](Result<net::HttpResponse> answer) {
                Attempt attempt = attemptFrom(std::move(answer), streamed.get());
                attempt.latency = clock_.now() - started;
                done(std::move(attempt));  // may destroy this client: nothing after it
              });
}

Attempt HttpLlmClient::attemptFrom(Result<net::HttpResponse> answer, Streamed* streamed) const {
  Attempt attempt;
  if (!answer) {
    attempt.cancelled = answer.error().code == ErrorCode::kCancelled;
    Answer read = readTransportError(answer.error());
    attempt.result = std::move(read.result);
    attempt.outcome = read.outcome;
    return attempt;
  }
  // Hints come with every answer, a success's too: the limiter wants them all.
  attempt.retry_after =
      throttle::pickRetryAfter(headerValue(*answer, "retry-after-ms"),
                               headerValue(*answer, "Retry-After"), clock_.wallNow());
  attempt.rate_limits = rateLimitHints(*answer);
  const bool assembled = streamed != nullptr && answer->status >= 200 && answer->status <= 299;
  Answer read = assembled ? streamed->assembler.finish(answer->status)
                          : readAnswer(answer->status, answer->body);
  if (assembled && read.result) {
    read.result->ttft = streamed->ttft;
  }
  attempt.result = std::move(read.result);
  attempt.outcome = read.outcome;
  return attempt;
}

void HttpLlmClient::close() { http_->close(); }

}  // namespace dropd::llm
