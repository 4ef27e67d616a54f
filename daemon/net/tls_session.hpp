#pragma once

// The TLS state machine of one connection, in memory only: ciphertext from
// the socket goes in through receive(), ciphertext for the socket comes out
// of seal() and flush(). No libuv and no socket here (Transport does the
// I/O), so the session never blocks and never calls back. Loop thread only.
//
// Two OpenSSL memory BIOs stand in for the socket: SSL reads what receive()
// wrote into the inbound BIO and writes records into the outbound BIO,
// which seal()/flush() drain into the caller's buffer.
//
// Errors, and once the session has failed it stays failed:
//   kUntrusted "TLS handshake with PEER: certificate verify failed: REASON"
//       where REASON is OpenSSL's verify result, e.g. "self-signed
//       certificate", "unable to get local issuer certificate", "hostname
//       mismatch", "IP address mismatch", "certificate has expired";
//   kProtocol "TLS handshake with PEER: REASON" for the rest, e.g. "wrong
//       version number" (a plain-HTTP peer), "unsupported protocol";
//   kProtocol "TLS read from PEER: REASON" / "TLS write to PEER: REASON"
//       afterwards.
// Neither is the keep-alive race, so neither is retried on a fresh
// connection. kUntrusted has its own code because a certificate that does
// not verify will not fix itself with a retry: the LLM client pauses the
// endpoint on it, as on a bad key (llm/status_class.hpp).

#include <memory>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "dropd/base/error.hpp"

#include "net/tls_context.hpp"

namespace dropd::net::detail {

class TlsSession {
 public:
  // `host` is sent as SNI unless it is an IP literal, and checked against
  // the certificate's names (or IP addresses) when `ctx` verifies. `peer`
  // names the other side in error messages ("api.example.com:443").
  [[nodiscard]] static Result<TlsSession> client(const TlsContext& ctx, const std::string& host,
                                                 std::string peer);
  [[nodiscard]] static Result<TlsSession> server(const TlsContext& ctx, std::string peer);

  // Starts the handshake: a client queues its ClientHello (see flush()).
  [[nodiscard]] Status start();
  // Feeds bytes read from the socket. Moves the handshake on, appends the
  // application data they carried to `plaintext`, and notes a close_notify
  // (peerClosed()). Call flush() afterwards: the session may have answers.
  [[nodiscard]] Status receive(std::string_view wire, std::string& plaintext);
  // Encrypts `plaintext` and appends the records to `wire`, after anything
  // flush() would have returned. Only once established().
  [[nodiscard]] Status seal(std::string_view plaintext, std::string& wire);
  // Appends what the session itself has to send (handshake, alerts,
  // session tickets) to `wire`.
  void flush(std::string& wire);
  // Appends our close_notify to `wire` when that still makes sense: the
  // session is established, has not failed, and the peer has not closed.
  void closeNotify(std::string& wire);

  [[nodiscard]] bool established() const noexcept { return established_; }
  // The peer sent close_notify: the data before it is complete.
  [[nodiscard]] bool peerClosed() const noexcept { return peer_closed_; }

 private:
  struct SslFree {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
  };
  TlsSession(const TlsContext& ctx, std::string peer, bool server);

  [[nodiscard]] Status handshake();
  [[nodiscard]] Status readPlaintext(std::string& plaintext);
  [[nodiscard]] tl::unexpected<Error> failure(std::string_view what, int ssl_error);

  std::unique_ptr<SSL, SslFree> ssl_;
  BIO* outbound_ = nullptr;  // owned by ssl_
  std::string peer_;
  bool established_ = false;
  bool peer_closed_ = false;
  bool failed_ = false;
};

}  // namespace dropd::net::detail
