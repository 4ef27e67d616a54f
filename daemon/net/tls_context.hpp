#pragma once

// One OpenSSL SSL_CTX: what every TLS connection of an HttpClient (trust
// store, verification) or of an HttpServer (certificate and key) shares.
// Created at startup, then used from the loop thread only. Each TlsSession
// takes its own reference on the SSL_CTX, so a session may outlive the
// TlsContext it came from.
//
// Both sides: TLS 1.2 at least, ALPN "http/1.1" (offered by the client,
// accepted by the server when offered; never required).
//
// Errors are kInvalid and name the OpenSSL call and its file, e.g.
// "SSL_CTX_load_verify_locations(/etc/x.pem): no such file".

#include <memory>
#include <string>

#include <openssl/ssl.h>

#include "dropd/base/error.hpp"
#include "dropd/net/client_options.hpp"

namespace dropd::net::detail {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

class TlsContext {
 public:
  // Verification on: the chain must lead to a CA of `options.ca_file`, or of
  // the system's store when that is empty; sessions also check the name.
  // Verification off: any certificate is accepted (tests, private networks).
  [[nodiscard]] static Result<TlsContext> forClient(const TlsOptions& options);
  // `cert_file` is a PEM chain (leaf first), `key_file` its PEM private key.
  // Clients are not asked for certificates.
  [[nodiscard]] static Result<TlsContext> forServer(const std::string& cert_file,
                                                    const std::string& key_file);

  [[nodiscard]] SSL_CTX* raw() const noexcept { return ctx_.get(); }
  [[nodiscard]] bool verifies() const noexcept { return verify_; }

 private:
  TlsContext(SslCtxPtr ctx, bool verify) noexcept;

  SslCtxPtr ctx_;
  bool verify_ = false;
};

// Empties OpenSSL's (thread-local) error queue and returns the reason of
// its oldest entry, e.g. "certificate verify failed"; empty if none.
[[nodiscard]] std::string takeOpensslError();

}  // namespace dropd::net::detail
