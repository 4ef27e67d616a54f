#include "net/tls_context.hpp"

#include <array>

#include <openssl/err.h>

#include "dropd/uv/check.hpp"

namespace dropd::net::detail {

namespace {

// ALPN wire format: one length byte, then the protocol name.
constexpr std::array<unsigned char, 9> kAlpnHttp11{8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

tl::unexpected<Error> openssl(const std::string& call) {
  std::string reason = takeOpensslError();
  return makeError(ErrorCode::kInvalid, call + ": " + (reason.empty() ? "failed" : reason));
}

// Picks "http/1.1" if the client offers it; otherwise goes on without ALPN,
// as a server that never heard of ALPN would.
int onAlpnSelect(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_len,
                 const unsigned char* in, unsigned int in_len, void* /*arg*/) noexcept {
  unsigned char* selected = nullptr;
  const int rc = SSL_select_next_proto(&selected, out_len, kAlpnHttp11.data(),
                                       static_cast<unsigned>(kAlpnHttp11.size()), in, in_len);
  if (rc != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

Result<SslCtxPtr> newContext(const SSL_METHOD* method) {
  SslCtxPtr ctx{SSL_CTX_new(method)};
  DROPD_CHECK(ctx != nullptr, "SSL_CTX_new: out of memory");
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    return openssl("SSL_CTX_set_min_proto_version(TLS1_2)");
  }
  // Every write is handed to OpenSSL whole and read back from a memory BIO,
  // so partial writes never happen; releasing idle buffers saves ~34 KiB
  // per pooled connection.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

}  // namespace

std::string takeOpensslError() {
  const unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) {
    return {};
  }
  const char* reason = ERR_reason_error_string(first);
  return reason != nullptr ? reason : "error " + std::to_string(ERR_GET_REASON(first));
}

TlsContext::TlsContext(SslCtxPtr ctx, bool verify) noexcept
    : ctx_(std::move(ctx)), verify_(verify) {}

Result<TlsContext> TlsContext::forClient(const TlsOptions& options) {
  ERR_clear_error();
  auto ctx = newContext(TLS_client_method());
  if (!ctx) {
    return tl::unexpected{ctx.error()};
  }
  SSL_CTX* raw = ctx->get();
  if (options.verify) {
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
    const bool loaded = options.ca_file.empty() ? SSL_CTX_set_default_verify_paths(raw) == 1
                                                : SSL_CTX_load_verify_locations(
                                                      raw, options.ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      return openssl(options.ca_file.empty()
                         ? "SSL_CTX_set_default_verify_paths"
                         : "SSL_CTX_load_verify_locations(" + options.ca_file + ")");
    }
  } else {
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  }
  // Returns 0 on success, unlike nearly everything else in OpenSSL.
  if (SSL_CTX_set_alpn_protos(raw, kAlpnHttp11.data(), kAlpnHttp11.size()) != 0) {
    return openssl("SSL_CTX_set_alpn_protos");
  }
  return TlsContext{std::move(*ctx), options.verify};
}

Result<TlsContext> TlsContext::forServer(const std::string& cert_file,
                                         const std::string& key_file) {
  ERR_clear_error();
  auto ctx = newContext(TLS_server_method());
  if (!ctx) {
    return tl::unexpected{ctx.error()};
  }
  SSL_CTX* raw = ctx->get();
  if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
    return openssl("SSL_CTX_use_certificate_chain_file(" + cert_file + ")");
  }
  if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return openssl("SSL_CTX_use_PrivateKey_file(" + key_file + ")");
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    return openssl("SSL_CTX_check_private_key(" + key_file + ")");
  }
  SSL_CTX_set_alpn_select_cb(raw, onAlpnSelect, nullptr);
  return TlsContext{std::move(*ctx), false};
}

}  // namespace dropd::net::detail
