"""The servers tests/e2e/test_wire_compat.py runs dropd against, as Python
objects that start one process each on 127.0.0.1 (a free port) and stop it
by its pid: LineServer for the scripts and programs that report their
connections on stdout (wire_*_server.*), Nginx, and the npm mock MockLlm
(docs/wire.md)."""

import os
import re
import socket
import subprocess

from dropd_e2e import *  # noqa: F401,F403

NGINX = "/usr/sbin/nginx"
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"
MOCK_PACKAGE = "@dwmkerr/mock-llm"
MOCK_VERSION = "0.1.29"
NGINX_ANSWER = ('{"id":"chatcmpl-nginx","object":"chat.completion","created":1700000000,'
                '"model":"m","choices":[{"index":0,"message":{"role":"assistant",'
                '"content":"nginx %s: a fixed answer"},"finish_reason":"stop"}],'
                '"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}')
CONN_LINE = re.compile(r"^conn (\d+)$")
REQ_LINE = re.compile(r"^req (\d+)$")


def stop_process(proc):
    """SIGTERM to our own child, by its pid; its output read to the end
    (the readers joined before the pipes close, so no reader is cut off
    mid-read), then SIGKILL if it is still there."""
    proc.signal(15)
    try:
        proc.wait(5)
    except TestFailure:
        pass
    proc.kill()


class LineServer:
    """A server process that prints "listening on 127.0.0.1:PORT", then
    "conn N" / "req N" lines (wire_py_server.py, wire_node_server.js,
    wire_async_server.py, wire_httplib_server)."""

    def __init__(self, argv, name):
        self.name = name
        self.proc = Proc(argv)
        try:
            line = self.proc.stdout.lines[self.proc.stdout.wait_for(r"^listening on ", 10)]
        except TestFailure:
            self.stop()
            raise TestFailure(f"{name} did not start: {self.proc.stderr.text()[-1000:]}")
        self.port = int(line.rsplit(":", 1)[1])

    def counts(self, start):
        """(connections, requests) from output line `start` on."""
        lines = self.proc.stdout.lines[start:]
        return (sum(1 for l in lines if CONN_LINE.match(l)),
                sum(1 for l in lines if REQ_LINE.match(l)))

    def await_lines(self, start, pattern, n, timeout=5):
        """Waits until `n` lines from `start` on match `pattern`: the server
        prints its line before (or, for "sent", after) it answers, and its
        stdout is read by a thread, so dropd may be done before the reader
        has the last one. Returns quietly if they do not come: the caller's
        count check then says what was seen."""
        i = start
        try:
            for _ in range(n):
                i = self.proc.stdout.wait_for(pattern, timeout, start=i) + 1
        except TestFailure:
            pass

    def counts_of(self, start, requests):
        """counts(start), once `requests` "req" lines are in."""
        self.await_lines(start, REQ_LINE.pattern, requests)
        return self.counts(start)

    def mark(self):
        return len(self.proc.stdout.lines)

    def stop(self):
        stop_process(self.proc)


class Nginx:
    """nginx -g 'daemon off; master_process off;' on a free port, and with
    `certs` a second server on another serving https with the same
    locations; its access log has one line "CONNECTION URI STATUS
    SESSION_REUSED CONTENT_ENCODING" per request (SESSION_REUSED is "-"
    over plain http, "." for a full TLS handshake, "r" for a resumed
    session; CONTENT_ENCODING is that of nginx's answer, "-" for none)."""

    def __init__(self, folder, upstream, certs=None):
        os.makedirs(os.path.join(folder, "logs"))
        self.port = closed_port()
        self.tls_port = closed_port() if certs else None
        self.access_log = os.path.join(folder, "logs", "access.log")
        # /gzip/: nginx's gzip filter on `return` (chunked, Content-Encoding:
        # gzip). /proxy/ and /proxy-gzip/: nginx as a reverse proxy in front
        # of `upstream` (Node's server), as vLLM and others are deployed;
        # the second also gzips the SSE stream as it passes. /down/: a proxy
        # whose upstream is not there (nginx's 502).
        upstream = f"""proxy_pass http://127.0.0.1:{upstream}/; proxy_http_version 1.1;
      proxy_set_header Connection "";"""
        locations = f"""    default_type application/json;
    location /return/ {{ return 200 '{NGINX_ANSWER % "return"}'; }}
    location /echo/ {{ echo '{NGINX_ANSWER % "echo"}'; }}
    location /gzip/ {{
      gzip on; gzip_types application/json; gzip_min_length 0;
      return 200 '{NGINX_ANSWER % "gzip"}';
    }}
    location /proxy/ {{ {upstream} }}
    location /proxy-gzip/ {{
      gzip on; gzip_types text/event-stream; gzip_min_length 0;
      {upstream}
    }}
    location /down/ {{ proxy_pass http://127.0.0.1:{closed_port()}/; }}"""
        tls_server = f"""  server {{
    listen 127.0.0.1:{self.tls_port} ssl;
    ssl_certificate {certs["leaf.pem"]}; ssl_certificate_key {certs["leaf.key"]};
{locations}
  }}""" if certs else ""
        conf = os.path.join(folder, "nginx.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(f"""load_module {ECHO_MODULE};
pid {folder}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  log_format wire '$connection $request_uri $status $ssl_session_reused '
                  '$sent_http_content_encoding';
  access_log {self.access_log} wire;
  server {{
    listen 127.0.0.1:{self.port};
{locations}
  }}
{tls_server}
}}
""")
        self.proc = Proc([NGINX, "-p", folder, "-e", os.path.join(folder, "logs", "error.log"),
                          "-c", conf, "-g", "daemon off; master_process off;"])
        try:
            wait_until(self._listening, 10, "nginx to listen")
        except TestFailure:
            self.stop()
            raise TestFailure("nginx did not start: " + self.proc.stderr.text()[-1000:])

    def _listening(self):
        try:
            for port in filter(None, (self.port, self.tls_port)):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def log_lines(self):
        try:
            with open(self.access_log, encoding="utf-8") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def stop(self):
        stop_process(self.proc)


def mock_llm_main():
    """The installed mock-llm's main.js, installing it with npm if needed."""
    cache = os.environ.get("DROPD_NPM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                              "dropd", "npm")
    prefix = os.path.join(cache, f"mock-llm-{MOCK_VERSION}")
    main_js = os.path.join(prefix, "node_modules", "@dwmkerr", "mock-llm", "dist", "main.js")
    if not os.path.exists(main_js):
        os.makedirs(prefix, exist_ok=True)
        res = subprocess.run(["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund",
                              "--ignore-scripts", f"{MOCK_PACKAGE}@{MOCK_VERSION}"],
                             capture_output=True, timeout=300)
        check(res.returncode == 0 and os.path.exists(main_js),
              f"npm could not install {MOCK_PACKAGE}@{MOCK_VERSION} into {prefix} (it needs "
              f"the npm registry once): {res.stderr.decode(errors='replace')[-1500:]}")
    return main_js


class MockLlm:
    """@dwmkerr/mock-llm on 127.0.0.1, its streaming sped up by mock-llm.yaml."""

    def __init__(self, folder):
        os.makedirs(folder)
        with open(os.path.join(folder, "mock-llm.yaml"), "w", encoding="utf-8") as f:
            f.write('{"streaming": {"chunkSize": 16, "chunkIntervalMs": 5}}\n')
        self.port = closed_port()
        env = dict(os.environ, HOST="127.0.0.1", PORT=str(self.port))
        self.proc = Proc(["node", mock_llm_main()], cwd=folder, env=env)
        try:
            self.proc.stdout.wait_for(r"server running on 127\.0\.0\.1:", 20)
        except TestFailure:
            self.stop()
            raise TestFailure("mock-llm did not start: " + self.proc.stderr.text()[-1000:])

    def stop(self):
        stop_process(self.proc)
