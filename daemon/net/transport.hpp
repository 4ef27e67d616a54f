#pragma once

// The byte stream under one HTTP connection (client or server side): a
// uv::TcpStream carrying plaintext, or carrying TLS through a TlsSession.
// Same contract as uv::TcpStream (loop thread only; every callback may
// destroy the Transport; no user callback after close), so the connection
// code is the same either way. Without a session every call passes
// straight through.
//
// With TLS:
//   - startRead() also starts the handshake (a client sends its hello);
//   - the read callback gets decrypted bytes; handshake, certificate and
//     record failures arrive there as kProtocol errors (tls_session.hpp);
//     a close_notify arrives as UV_EOF after the data before it;
//   - write() before the handshake is done is held and sent once it is;
//     head and body are encrypted into one buffer for one uv_write (the
//     body is read in place, never copied as plaintext);
//   - close() sends close_notify first when the session is healthy.
//
// With TLS that starts later (a CONNECT tunnel through a proxy first), the
// Transport is plaintext both ways until startTls(), and TLS as above from
// there on, over the same connection and the same read callback.

#include <sys/socket.h>

#include <memory>
#include <optional>
#include <string>

#include "dropd/base/error.hpp"
#include "dropd/uv/tcp_stream.hpp"

#include "net/tls_session.hpp"

namespace dropd::net::detail {

struct TransportState;

class Transport {
 public:
  using ReadFn = uv::TcpStream::ReadFn;
  using DoneFn = uv::TcpStream::DoneFn;

  enum class TlsStart { kAtRead, kLater };
  // `tls` empty: plaintext. kLater: plaintext until startTls().
  Transport(uv::TcpStream stream, std::optional<TlsSession> tls,
            TlsStart start = TlsStart::kAtRead);
  Transport(Transport&& other) noexcept;
  Transport& operator=(Transport&& other) noexcept;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  ~Transport();  // close()

  [[nodiscard]] Status connect(const sockaddr& addr, DoneFn cb);
  [[nodiscard]] Status startRead(ReadFn cb);
  [[nodiscard]] Status write(std::string head, std::shared_ptr<const std::string> body, DoneFn cb);
  // TlsStart::kLater only, once: sends the hello; writes from now on wait
  // for the handshake. May be called from inside the read callback.
  [[nodiscard]] Status startTls();
  [[nodiscard]] Status setNoDelay(bool enable) noexcept;
  [[nodiscard]] std::string peerAddress() const;
  // Bytes written but not yet taken by the kernel (ciphertext with TLS).
  [[nodiscard]] std::size_t writeQueueSize() const noexcept;
  // After UV_EOF: true if nothing can have been cut off (plaintext, or the
  // peer sent close_notify). A TLS peer that just drops the connection
  // could be an attacker truncating a response whose end is the EOF.
  [[nodiscard]] bool eofIsClean() const noexcept;

  void close() noexcept;
  void closeReset() noexcept;  // no close_notify: the peer sees a reset

 private:
  std::unique_ptr<TransportState> state_;  // null once moved from or closed
};

}  // namespace dropd::net::detail
