#pragma once

// One DNS lookup with uv_getaddrinfo (it runs on the threadpool). Loop thread
// only. The callback runs once with the addresses (TCP, in the resolver's
// order) or an error. Destroying the Resolver before that cancels the lookup:
// the callback then never runs. The callback may destroy the Resolver.

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "dropd/base/error.hpp"

namespace dropd::uv {

namespace detail {
struct ResolveReq;
}

class Resolver {
 public:
  using DoneFn = std::function<void(Result<std::vector<sockaddr_storage>>)>;

  [[nodiscard]] static Result<Resolver> start(uv_loop_t& loop, const std::string& host, int port,
                                              DoneFn cb);

  Resolver(Resolver&& other) noexcept;
  Resolver& operator=(Resolver&& other) noexcept;
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;
  ~Resolver();

  void cancel() noexcept;

 private:
  explicit Resolver(detail::ResolveReq* req) noexcept;
  detail::ResolveReq* req_ = nullptr;  // freed by us or by libuv, whoever is last
};

}  // namespace dropd::uv
