#!/usr/bin/python3
"""A chat-completions endpoint on servers no one on this project wrote, for
tests/e2e/test_wire_compat.py. Usage: wire_py_server.py MODE [--tls CERT KEY]

  http10  Python's http.server (ThreadingHTTPServer, BaseHTTPRequestHandler)
          as it comes: "HTTP/1.0 200 OK", Content-Length, and the
          connection closed after every answer.
  http11  the same with protocol_version = "HTTP/1.1": keep-alive.
  close   a bare socket server speaking HTTP/1.0 with no Content-Length:
          the body ends when the connection closes, written in three
          pieces.
  stall   http11, but the first answer stops halfway through its
          Content-Length body and never goes on (the connection stays
          open): for a client's idle timeout.
  cut     close, but over TLS the connection is closed without
          close_notify (Python's SSLSocket.shutdown() and close() send
          none; only unwrap() does, which close uses). Plain, it is close.

With --tls CERT KEY every mode serves https (Python's ssl module, OpenSSL
underneath); a connection is counted once its handshake is done.

Binds 127.0.0.1:0 and prints "listening on 127.0.0.1:PORT", then one line
"conn N" per accepted connection and "req N" per request (N = that
connection's number), flushed, so the test counts connections. The answer's
content is "MODE: " + the last message's content.
"""

import http.server
import itertools
import json
import socket
import socketserver
import ssl
import sys
import threading

MODE = sys.argv[1] if len(sys.argv) > 1 else ""
TLS = None  # the server's ssl.SSLContext with --tls
_counter = itertools.count(1)
_answers = itertools.count(0)
_print_lock = threading.Lock()


def say(line):
    with _print_lock:
        print(line, flush=True)


def completion(request_body):
    request = json.loads(request_body)
    user = request["messages"][-1]["content"]
    return json.dumps({
        "id": "chatcmpl-py", "object": "chat.completion", "created": 1700000000,
        "model": request.get("model", "?"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": f"{MODE}: {user}"},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12},
    }).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def setup(self):
        if TLS is not None:
            # The handshake, in this connection's own thread.
            self.request = TLS.wrap_socket(self.request, server_side=True)
        super().setup()
        self.conn_id = next(_counter)
        say(f"conn {self.conn_id}")

    def finish(self):
        super().finish()
        if TLS is not None:
            # socketserver closes only the socket it accepted, which the
            # SSLSocket took over. close() sends no close_notify, as
            # http.server over TLS does not.
            self.request.close()

    def do_POST(self):
        say(f"req {self.conn_id}")
        body = completion(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if MODE == "stall" and next(_answers) == 0:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            say(f"stalled {self.conn_id}")
            threading.Event().wait()  # this thread holds the connection until the process ends
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass  # stdout carries only the lines the test reads


def read_request(conn):
    """The body of one request read from a socket (head, then Content-Length bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return body[:length]


def end_connection(conn):
    """The end of a close-delimited answer. Over TLS, mode close sends
    close_notify first (unwrap(), which then waits up to the socket's
    timeout for the client's own); mode cut does not."""
    if TLS is not None and MODE == "close":
        try:
            conn = conn.unwrap()
        except (OSError, ValueError):
            return  # the client hung up first: nothing more to end
    conn.shutdown(socket.SHUT_WR)


def serve_close_delimited(listener):
    while True:
        conn, _ = listener.accept()
        conn.settimeout(5)  # one connection at a time: never wait for ever on one
        try:
            if TLS is not None:
                conn = TLS.wrap_socket(conn, server_side=True)
        except OSError:
            conn.close()
            continue
        conn_id = next(_counter)
        say(f"conn {conn_id}")
        with conn:
            body = read_request(conn)
            if body is None:
                continue
            say(f"req {conn_id}")
            answer = completion(body)
            third = len(answer) // 3
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n")
            for piece in (answer[:third], answer[third:2 * third], answer[2 * third:]):
                conn.sendall(piece)
            try:
                end_connection(conn)
            except OSError:
                pass


def main():
    global TLS
    if "--tls" in sys.argv:
        cert, key = sys.argv[sys.argv.index("--tls") + 1:][:2]
        TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        TLS.load_cert_chain(cert, key)
    if MODE in ("http10", "http11", "stall"):
        Handler.protocol_version = "HTTP/1.0" if MODE == "http10" else "HTTP/1.1"
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        say(f"listening on 127.0.0.1:{server.server_address[1]}")
        server.serve_forever()
    elif MODE in ("close", "cut"):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        say(f"listening on 127.0.0.1:{listener.getsockname()[1]}")
        serve_close_delimited(listener)
    else:
        sys.exit(f"usage: {sys.argv[0]} http10|http11|close|stall|cut [--tls CERT KEY]")


if __name__ == "__main__":
    socketserver.TCPServer.allow_reuse_address = True
    main()
