#include "net/tls_session.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <climits>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "dropd/uv/check.hpp"

namespace dropd::net::detail {

namespace {

// The most plaintext handed to one SSL_write / read by one SSL_read. Small
// pieces keep the outbound BIO small: it is drained after each one.
constexpr std::size_t kPieceBytes = 64 * 1024;
// Worst-case record overhead (header, tag, padding) per 16 KiB record.
constexpr std::size_t kRecordOverheadBytes = 64;

bool isIpLiteral(const std::string& host) {
  std::array<unsigned char, sizeof(in6_addr)> addr{};
  return inet_pton(AF_INET, host.c_str(), addr.data()) == 1 ||
         inet_pton(AF_INET6, host.c_str(), addr.data()) == 1;
}

}  // namespace

TlsSession::TlsSession(const TlsContext& ctx, std::string peer, bool server)
    : ssl_(SSL_new(ctx.raw())), peer_(std::move(peer)) {
  DROPD_CHECK(ssl_ != nullptr, "SSL_new: out of memory");
  BIO* inbound = BIO_new(BIO_s_mem());
  outbound_ = BIO_new(BIO_s_mem());
  DROPD_CHECK(inbound != nullptr && outbound_ != nullptr, "BIO_new: out of memory");
  // An empty memory BIO reports "retry", which SSL turns into WANT_READ:
  // the end of the connection is Transport's news, not the BIO's.
  SSL_set_bio(ssl_.get(), inbound, outbound_);  // the SSL owns both from here
  if (server) {
    SSL_set_accept_state(ssl_.get());
  } else {
    SSL_set_connect_state(ssl_.get());
  }
}

Result<TlsSession> TlsSession::client(const TlsContext& ctx, const std::string& host,
                                      std::string peer) {
  ERR_clear_error();
  TlsSession session{ctx, std::move(peer), false};
  SSL* ssl = session.ssl_.get();
  const bool ip = isIpLiteral(host);
  // RFC 6066: SNI carries host names only, never addresses.
  // SSL_set_tlsext_host_name() is a macro with a C cast; this is what it does.
  if (!ip && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                      const_cast<char*>(host.c_str())) != 1) {
    return makeError(ErrorCode::kInvalid,
                     "SSL_set_tlsext_host_name(" + host + "): " + takeOpensslError());
  }
  if (ctx.verifies()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const bool set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                        : SSL_set1_host(ssl, host.c_str()) == 1;
    if (!set) {
      return makeError(ErrorCode::kInvalid, "SSL_set1_host(" + host + "): " + takeOpensslError());
    }
  }
  return session;
}

Result<TlsSession> TlsSession::server(const TlsContext& ctx, std::string peer) {
  ERR_clear_error();
  return TlsSession{ctx, std::move(peer), true};
}

Status TlsSession::start() { return handshake(); }

Status TlsSession::receive(std::string_view wire, std::string& plaintext) {
  if (failed_) {
    return makeError(ErrorCode::kProtocol, "TLS read from " + peer_ + ": session failed before");
  }
  BIO* inbound = SSL_get_rbio(ssl_.get());
  while (!wire.empty()) {
    const int n = std::min<std::size_t>(wire.size(), INT_MAX);
    const int written = BIO_write(inbound, wire.data(), n);
    DROPD_CHECK(written > 0, "BIO_write to a memory BIO: out of memory");
    wire.remove_prefix(static_cast<std::size_t>(written));
  }
  if (!established_) {
    if (auto moved = handshake(); !moved || !established_) {
      return moved;
    }
  }
  return readPlaintext(plaintext);
}

Status TlsSession::handshake() {
  ERR_clear_error();  // the queue is per thread: stale entries would mislead SSL_get_error
  const int rc = SSL_do_handshake(ssl_.get());
  if (rc == 1) {
    established_ = true;
    return {};
  }
  const int ssl_error = SSL_get_error(ssl_.get(), rc);
  if (ssl_error == SSL_ERROR_WANT_READ) {
    return {};  // the peer's next flight is still on its way
  }
  return failure("handshake with", ssl_error);
}

Status TlsSession::readPlaintext(std::string& plaintext) {
  for (;;) {
    const std::size_t old_size = plaintext.size();
    plaintext.resize(old_size + kPieceBytes);  // decrypt straight into the caller's buffer
    ERR_clear_error();
    const int n = SSL_read(ssl_.get(), plaintext.data() + old_size, static_cast<int>(kPieceBytes));
    plaintext.resize(old_size + static_cast<std::size_t>(std::max(n, 0)));
    if (n > 0) {
      continue;
    }
    const int ssl_error = SSL_get_error(ssl_.get(), n);
    if (ssl_error == SSL_ERROR_WANT_READ) {
      return {};
    }
    if (ssl_error == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;  // close_notify: no more data, none lost
      return {};
    }
    return failure("read from", ssl_error);
  }
}

Status TlsSession::seal(std::string_view plaintext, std::string& wire) {
  assert(established_);
  if (failed_) {
    return makeError(ErrorCode::kProtocol, "TLS write to " + peer_ + ": session failed before");
  }
  flush(wire);
  wire.reserve(wire.size() + plaintext.size() + plaintext.size() / 16384 * kRecordOverheadBytes +
               kRecordOverheadBytes);
  while (!plaintext.empty()) {
    const int n = static_cast<int>(std::min(plaintext.size(), kPieceBytes));
    ERR_clear_error();
    const int written = SSL_write(ssl_.get(), plaintext.data(), n);
    if (written <= 0) {
      return failure("write to", SSL_get_error(ssl_.get(), written));
    }
    plaintext.remove_prefix(static_cast<std::size_t>(written));
    flush(wire);
  }
  return {};
}

void TlsSession::flush(std::string& wire) {
  const std::size_t pending = BIO_ctrl_pending(outbound_);
  if (pending == 0) {
    return;
  }
  const std::size_t old_size = wire.size();
  wire.resize(old_size + pending);
  const int n = BIO_read(outbound_, wire.data() + old_size, static_cast<int>(pending));
  wire.resize(old_size + static_cast<std::size_t>(std::max(n, 0)));
}

void TlsSession::closeNotify(std::string& wire) {
  if (!established_ || failed_ || peer_closed_) {
    return;  // OpenSSL forbids SSL_shutdown after a fatal error
  }
  ERR_clear_error();
  (void)SSL_shutdown(ssl_.get());  // 0: ours sent, theirs not awaited
  ERR_clear_error();
  flush(wire);
}

tl::unexpected<Error> TlsSession::failure(std::string_view what, int ssl_error) {
  failed_ = true;
  std::string context = "TLS " + std::string(what) + " " + peer_ + ": ";
  const long verify = SSL_get_verify_result(ssl_.get());
  std::string reason = takeOpensslError();
  if (verify != X509_V_OK) {
    context += "certificate verify failed: ";
    context += X509_verify_cert_error_string(verify);
    return makeError(ErrorCode::kUntrusted, std::move(context));
  }
  if (!reason.empty()) {
    context += reason;
  } else if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    context += "peer closed the session";
  } else {
    context += "SSL error " + std::to_string(ssl_error);
  }
  return makeError(ErrorCode::kProtocol, std::move(context));
}

}  // namespace dropd::net::detail
