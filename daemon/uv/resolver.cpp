#include "dropd/uv/resolver.hpp"

#include <netdb.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace dropd::uv {

namespace detail {
// Freed by whichever lets go last: libuv (onResolved) or the Resolver.
struct ResolveReq {
  uv_getaddrinfo_t req{};
  Resolver::DoneFn cb;
  std::string host;
  bool done = false;      // onResolved has run
  bool detached = false;  // the Resolver is gone
};
}  // namespace detail

namespace {

using detail::ResolveReq;

std::vector<sockaddr_storage> collect(const addrinfo* list) {
  std::vector<sockaddr_storage> out;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage addr{};
    std::memcpy(&addr, ai->ai_addr, std::min<std::size_t>(ai->ai_addrlen, sizeof(addr)));
    out.push_back(addr);
  }
  return out;
}

void onResolved(uv_getaddrinfo_t* raw, int status, addrinfo* res) noexcept {
  auto* req = static_cast<ResolveReq*>(raw->data);
  const std::unique_ptr<addrinfo, void (*)(addrinfo*)> list{res, uv_freeaddrinfo};
  if (req->detached) {
    const std::unique_ptr<ResolveReq> reclaimed{req};
    return;
  }
  req->done = true;
  const Resolver::DoneFn cb = std::move(req->cb);
  // The callback may destroy the Resolver, which then frees `req`.
  if (status < 0) {
    cb(uvError(status, "uv_getaddrinfo(" + req->host + ")"));
    return;
  }
  cb(collect(res));
}

}  // namespace

Result<Resolver> Resolver::start(uv_loop_t& loop, const std::string& host, int port, DoneFn cb) {
  auto req = std::make_unique<ResolveReq>();
  req->cb = std::move(cb);
  req->host = host;
  req->req.data = req.get();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  const std::string service = std::to_string(port);
  if (const int rc =
          uv_getaddrinfo(&loop, &req->req, onResolved, host.c_str(), service.c_str(), &hints);
      rc < 0) {
    return uvError(rc, "uv_getaddrinfo(" + host + ")");
  }
  return Resolver{req.release()};  // shared with libuv: see ResolveReq
}

Resolver::Resolver(ResolveReq* req) noexcept : req_(req) {}
Resolver::Resolver(Resolver&& other) noexcept : req_(std::exchange(other.req_, nullptr)) {}
Resolver::~Resolver() { cancel(); }

Resolver& Resolver::operator=(Resolver&& other) noexcept {
  if (this != &other) {
    cancel();
    req_ = std::exchange(other.req_, nullptr);
  }
  return *this;
}

void Resolver::cancel() noexcept {
  if (req_ == nullptr) {
    return;
  }
  ResolveReq* req = std::exchange(req_, nullptr);
  if (req->done) {
    const std::unique_ptr<ResolveReq> reclaimed{req};
    return;
  }
  // The lookup may already run on a pool thread, where uv_cancel fails;
  // onResolved then sees `detached` and frees the request.
  req->detached = true;
  req->cb = nullptr;
  uv_cancel(reinterpret_cast<uv_req_t*>(&req->req));
}

}  // namespace dropd::uv
