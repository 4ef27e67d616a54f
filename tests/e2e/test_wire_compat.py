#!/usr/bin/python3
"""dropd against OpenAI-style endpoints served by servers no one on this
project wrote (issue 13; docs/wire.md says what each one showed).

Each variant below is one `dropd --once` on a handful of files, max_in_flight
2, against one server on 127.0.0.1 (free port, started here, stopped by its
pid). Every file must get a result whose content is exactly what that server
answered for it, at the first attempt; the servers' own connection counts
check dropd's keep-alive: at most max_in_flight connections where the server
keeps them open, one per request where it closes them.

nginx, Node and Python run each variant a second time over https (the
label's "-tls"; certificates from make_certs, the endpoint's tls.ca_file),
each with its own TLS stack (nginx and Node on OpenSSL, Python's ssl
module). There the servers count a connection once its handshake is done,
so the counts are TLS handshakes, and nginx's $ssl_session_reused shows
each one is full (dropd keeps no sessions to resume).

- nginx (Debian's, with libnginx-mod-http-echo): `return 200 '...'` (a
  fixed answer with Content-Length), the echo module's `echo` (chunked),
  `return` through nginx's gzip filter, and nginx as a reverse proxy in
  front of Node's SSE stream, as it comes and gzipped by nginx; and its
  413 to a body over client_max_body_size, sent before it reads the body,
  and its 502 when the upstream is not there;
- Node's `http` module (wire_node_server.js): Content-Length, chunked in
  three writes, `Connection: close`, and an SSE stream (stream: true);
- Python's http.server (wire_py_server.py): HTTP/1.0 as it comes (closes
  after each answer) and protocol_version HTTP/1.1 (keep-alive);
- an HTTP/1.0 server with no Content-Length: the body ends at the close
  (over TLS after close_notify); and, over TLS only, the same closed
  without close_notify, which dropd must not take as a whole answer;
- uvicorn (Debian's python3-uvicorn, h11) serving a bare ASGI app, and
  aiohttp's web server (wire_async_server.py): a JSON answer with a
  length and an SSE stream;
- cpp-httplib as Debian builds it (wire_httplib_server.cpp; llama.cpp's
  server's HTTP library): a JSON answer gzipped with its Content-Length,
  an SSE stream, and one connection at a time closed by httplib after its
  fifth request;
- http.server whose first answer stops halfway through its Content-Length
  body: cut after timeouts.idle, retried, the file's result whole;
- @dwmkerr/mock-llm from the npm registry (an Express app that echoes the
  last message), plain and streamed (it sends no usage: dropd estimates it).
  npm installs it on first use into ~/.cache/dropd/npm (or
  $DROPD_NPM_CACHE): this needs the npm registry once per machine.
"""

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from dropd_e2e import *  # noqa: E402,F401
from wire_servers import ECHO_MODULE, NGINX, LineServer, MockLlm, Nginx  # noqa: E402

N_FILES = 6
MAX_IN_FLIGHT = 2
def variant_config(tmp, label, url, stream, timeouts, ca_file, max_in_flight=MAX_IN_FLIGHT):
    """A config for one variant and its inbox; returns (config path, folders)."""
    root = os.path.join(tmp, label)
    os.makedirs(root)
    cfg = os.path.join(root, "dropd.yaml")
    dirs = write_config(cfg, root, url, max_in_flight=max_in_flight, retry=("3", "50ms", "200ms"),
                        prompt_user="{{path}} {{content}}", timeouts=timeouts)
    extra = ("    stream: true\n" if stream else "") + (
        f"    tls: {{ ca_file: {yq(ca_file)} }}\n" if ca_file else "")
    with open(cfg, encoding="utf-8") as f:
        text = f.read()
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text.replace("    model: e2e-model\n", "    model: e2e-model\n" + extra))
    os.makedirs(dirs["inbox"])
    return cfg, dirs


def variant_files(label):
    rng = random.Random(zlib.crc32(label.encode()))
    # One line, no quote or backslash: mock-llm pastes the message into its
    # JSON template unescaped (docs/wire.md).
    return {f"{label}-{i}.txt": (" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30)))
                                 + " café 日本").encode() for i in range(N_FILES)}


def run_variant(tmp, label, url, expected, stream=False, idle="5s", first_try=True,
                request="10s", ca_file=None, max_in_flight=MAX_IN_FLIGHT):
    """dropd --once on N_FILES files against `url` (https: trusting
    `ca_file`); checks each result's content is expected(user message), at
    the first attempt unless first_try is False; returns the docs."""
    cfg, dirs = variant_config(tmp, label, url, stream,
                               {"connect": "2s", "request": request, "idle": idle}, ca_file,
                               max_in_flight)
    files = variant_files(label)
    write_files(dirs["inbox"], files)
    started = time.monotonic()
    res = run_dropd(["--once", "--config", cfg], cwd=os.path.dirname(cfg), timeout=60)
    run_variant.seconds = time.monotonic() - started
    out = res.stderr.decode("utf-8", "replace")
    check(res.returncode == 0, f"[{label}] exit {res.returncode}:\n{out[-3000:]}")
    ok, bad = check_outcomes(dirs, set(files))
    check(not bad, f"[{label}] failed files: {sorted(bad)}")
    docs = {}
    for rel in sorted(ok):
        doc = load_json(os.path.join(dirs["outbox"], rel + ".json"))
        want = expected(f"{rel} {files[rel].decode()}")
        check(doc["llm"]["content"] == want,
              f"[{label}] content of {rel!r}: {doc['llm']['content']!r}, want {want!r}")
        check(doc["llm"]["attempts"] == 1 or not first_try,
              f"[{label}] {rel!r} took {doc['llm']['attempts']} attempts")
        docs[rel] = doc
    return docs


def check_connections(label, conns, reqs, keep_alive):
    """Over https a connection counted by the server is a TLS handshake."""
    check(reqs == N_FILES, f"[{label}] the server saw {reqs} requests for {N_FILES} files")
    if keep_alive:
        check(1 <= conns <= MAX_IN_FLIGHT,
              f"[{label}] {conns} connections for {reqs} requests: keep-alive unused")
    else:
        check(conns == reqs, f"[{label}] {conns} connections for {reqs} requests on a server "
                             f"that closes after each answer")
    note(f"({label}) {N_FILES} results as answered, {conns} connections for {reqs} requests")


def schemes(certs):
    """(label suffix, scheme, ca_file, extra server arguments) for plain
    http and, with certs, https."""
    out = [("", "http", None, [])]
    if certs:
        out.append(("-tls", "https", certs["ca.pem"], ["--tls", certs["leaf.pem"], certs["leaf.key"]]))
    return out


def nginx_too_large(tmp, nginx, suffix, scheme, ca_file):
    """Two bodies over nginx's default client_max_body_size (1 MiB) among
    small ones: nginx answers 413 with an HTML page before it has read the
    body; those two files fail at once with kind http, the rest are done."""
    label = f"nginx-413{suffix}"
    port = nginx.tls_port if scheme == "https" else nginx.port
    cfg, dirs = variant_config(tmp, label, f"{scheme}://127.0.0.1:{port}/return/v1/chat/completions",
                               False, {"connect": "2s", "request": "10s", "idle": "5s"}, ca_file)
    files = variant_files(label)
    big = {f"{label}-big-{i}.txt": b"word " * 300_000 for i in range(2)}  # 1.5 MB each
    write_files(dirs["inbox"], {**files, **big})
    res = run_dropd(["--once", "--config", cfg], cwd=os.path.dirname(cfg), timeout=60)
    out = res.stderr.decode("utf-8", "replace")
    check(res.returncode == 3, f"[{label}] exit {res.returncode}, want 3 (some failed):\n{out[-3000:]}")
    ok, bad = check_outcomes(dirs, set(files) | set(big))
    check(ok == set(files) and bad == set(big), f"[{label}] done {sorted(ok)}, failed {sorted(bad)}")
    for rel in big:
        error = load_json(os.path.join(dirs["failed"], rel + ".error.json"))["error"]
        check(error["kind"] == "http" and error["http_status"] == 413 and error["attempts"] == 1
              and "413 Request Entity Too Large" in error["message"],
              f"[{label}] {rel}: {error}")
    note(f"({label}) 2 bodies over 1 MiB failed at once with HTTP 413, "
         f"{len(files)} small ones done")


def nginx_bad_gateway(tmp, nginx):
    """nginx in front of an upstream that is not there: 502 with an HTML
    page to every request. A 5xx is retried; nothing succeeds, so the
    endpoint is down, no file fails, and --once gives up with the files
    left, the 502 named in the log."""
    label = "nginx-502"
    cfg, dirs = variant_config(tmp, label, f"http://127.0.0.1:{nginx.port}/down/v1/chat/completions",
                               False, {"connect": "2s", "request": "10s", "idle": "5s"}, None)
    files = variant_files(label)
    write_files(dirs["inbox"], files)
    res = run_dropd(["--once", "--config", cfg], cwd=os.path.dirname(cfg), timeout=60)
    out = res.stderr.decode("utf-8", "replace")
    check(res.returncode == 1, f"[{label}] exit {res.returncode}, want 1 (gave up):\n{out[-3000:]}")
    check(re.search(r"once\.give_up .*error=\"HTTP 502: <html>", out) is not None,
          f"[{label}] no once.give_up naming the 502:\n{out[-3000:]}")
    left = set(os.listdir(dirs["inbox"]))
    results = [n for folder in ("outbox", "failed") for _, _, names in os.walk(dirs[folder])
               for n in names]
    check(left == set(files) and not results,
          f"[{label}] inbox {sorted(left)}, outcomes {results}: want every file left, none done")
    note(f"({label}) every request got nginx's 502, no file failed, --once gave up")


NGINX_VARIANTS = (  # (location, stream, the answer's content, its Content-Encoding)
    ("return", False, lambda user: "nginx return: a fixed answer", "-"),
    ("echo", False, lambda user: "nginx echo: a fixed answer", "-"),
    ("gzip", False, lambda user: "nginx gzip: a fixed answer", "gzip"),
    ("proxy/sse", True, lambda user: f"node sse: {user}", "-"),
    ("proxy-gzip/sse", True, lambda user: f"node sse: {user}", "gzip"),
)


def nginx_variants(tmp, certs):
    node = LineServer(["node", os.path.join(HERE, "wire_node_server.js")], "node upstream")
    nginx = Nginx(os.path.join(tmp, "nginx"), node.port, certs)
    try:
        for suffix, scheme, ca_file, _ in schemes(certs):
            port = nginx.tls_port if scheme == "https" else nginx.port
            for where, stream, expected, encoding in NGINX_VARIANTS:
                label = f"nginx-{where.replace('/', '-')}{suffix}"
                start = len(nginx.log_lines())
                docs = run_variant(tmp, label,
                                   f"{scheme}://127.0.0.1:{port}/{where}/v1/chat/completions",
                                   expected, stream=stream, ca_file=ca_file)
                # nginx logs a request after its answer is sent: wait for all.
                wait_until(lambda: len(nginx.log_lines()) - start >= N_FILES, 5,
                           f"[{label}] {N_FILES} access log lines")
                lines = [l.split() for l in nginx.log_lines()[start:]]
                check(all(f[2] == "200" for f in lines), f"[{label}] access log: {lines}")
                # "." is a full handshake: dropd keeps no TLS sessions to resume.
                check(all(f[3] == ("." if ca_file else "-") for f in lines),
                      f"[{label}] $ssl_session_reused: {[f[3] for f in lines]}")
                check(all(f[4] == encoding for f in lines),
                      f"[{label}] Content-Encoding {[f[4] for f in lines]}, want {encoding}")
                if stream:
                    usage = {json.dumps(d["llm"].get("usage")) for d in docs.values()}
                    check(usage == {'{"prompt_tokens": 7, "completion_tokens": 5}'},
                          f"[{label}] usage from the last event not kept: {usage}")
                check_connections(label, len({f[0] for f in lines}), len(lines), True)
            nginx_too_large(tmp, nginx, suffix, scheme, ca_file)
        nginx_bad_gateway(tmp, nginx)
    finally:
        nginx.stop()
        node.stop()


def node_variants(tmp, certs):
    for suffix, scheme, ca_file, server_args in schemes(certs):
        node = LineServer(["node", os.path.join(HERE, "wire_node_server.js"), *server_args],
                          f"node{suffix}")
        try:
            for mode, keep_alive in (("cl", True), ("chunked", True), ("close", False),
                                     ("sse", True)):
                label = f"node-{mode}{suffix}"
                mark = node.mark()
                docs = run_variant(tmp, label,
                                   f"{scheme}://127.0.0.1:{node.port}/{mode}/v1/chat/completions",
                                   lambda user, mode=mode: f"node {mode}: {user}",
                                   stream=mode == "sse", ca_file=ca_file)
                if mode == "sse":
                    usage = [(d["llm"].get("usage"), d["llm"].get("usage_estimated"))
                             for d in docs.values()]
                    want = {"prompt_tokens": 7, "completion_tokens": 5}
                    check(all(u == want and not est for u, est in usage),
                          f"[{label}] usage from the last event not kept: {usage[:2]}")
                check_connections(label, *node.counts_of(mark, N_FILES), keep_alive)
        finally:
            node.stop()


def python_variants(tmp, certs):
    for suffix, scheme, ca_file, server_args in schemes(certs):
        for mode, keep_alive in (("http10", False), ("http11", True), ("close", False)):
            label = f"py-{mode}{suffix}"
            server = LineServer([sys.executable, os.path.join(HERE, "wire_py_server.py"), mode,
                                 *server_args], f"python {mode}{suffix}")
            try:
                run_variant(tmp, label, f"{scheme}://127.0.0.1:{server.port}/v1/chat/completions",
                            lambda user, mode=mode: f"{mode}: {user}", ca_file=ca_file)
                check_connections(label, *server.counts_of(0, N_FILES), keep_alive)
            finally:
                server.stop()


def cut_variant(tmp, certs):
    """A close-delimited answer over TLS whose server closes without
    close_notify: nothing tells a whole body from a cut one, so dropd takes
    none of them. Each attempt is a network error; nothing succeeds, so the
    endpoint is down, no file fails, and --once gives up with the files
    left in the inbox."""
    label = "py-cut-tls"
    server = LineServer([sys.executable, os.path.join(HERE, "wire_py_server.py"), "cut",
                         "--tls", certs["leaf.pem"], certs["leaf.key"]], "python cut")
    try:
        cfg, dirs = variant_config(tmp, label, f"https://127.0.0.1:{server.port}/v1/chat/completions",
                                   False, {"connect": "2s", "request": "10s", "idle": "5s"},
                                   certs["ca.pem"])
        files = variant_files(label)
        write_files(dirs["inbox"], files)
        res = run_dropd(["--once", "--config", cfg], cwd=os.path.dirname(cfg), timeout=60)
        out = res.stderr.decode("utf-8", "replace")
        check(res.returncode == 1, f"[{label}] exit {res.returncode}, want 1 (gave up):\n{out[-3000:]}")
        check("TLS connection closed without close_notify, response may be truncated" in out,
              f"[{label}] the reason is not in the log:\n{out[-3000:]}")
        check("once.give_up" in out, f"[{label}] no once.give_up:\n{out[-3000:]}")
        left = set(os.listdir(dirs["inbox"]))
        results = [n for _, _, names in os.walk(dirs["outbox"]) for n in names]
        check(left == set(files) and not results,
              f"[{label}] inbox {sorted(left)}, results {results}: want every file left, no result")
        conns, reqs = server.counts(0)
        check(reqs >= 1 and conns == reqs, f"[{label}] {conns} handshakes for {reqs} requests")
        note(f"({label}) every answer refused ({reqs} requests), no result written, "
             f"--once gave up with the {N_FILES} files left")
    finally:
        server.stop()


def stall_variant(tmp):
    """A Content-Length answer that stops halfway: cut after timeouts.idle,
    retried, and the file's result whole."""
    server = LineServer([sys.executable, os.path.join(HERE, "wire_py_server.py"), "stall"],
                        "python stall")
    try:
        docs = run_variant(tmp, "py-stall", f"http://127.0.0.1:{server.port}/v1/chat/completions",
                           lambda user: f"stall: {user}", idle="2s", first_try=False,
                           request="120s")
        # Without the idle cut the stalled attempt would wait out the request
        # timeout (120 s), and run_dropd gives up after 60 s. 2 s, not less:
        # a loaded CI host (ASan, two tests at once) can pause the Python
        # servers' ordinary answers for half a second.
        check(run_variant.seconds < 20, f"[py-stall] took {run_variant.seconds:.1f} s")
        attempts = sorted(d["llm"]["attempts"] for d in docs.values())
        check(attempts == [1] * (N_FILES - 1) + [2],
              f"[py-stall] attempts {attempts}, want one file retried once after the stall")
        check(any(l.startswith("stalled ") for l in server.proc.stdout.lines),
              "[py-stall] the server never stalled")
        note(f"(py-stall) the answer stalled midway was cut after timeouts.idle (2s) "
             f"and retried: attempts {attempts}, {run_variant.seconds:.1f} s")
    finally:
        server.stop()


def async_variants(tmp, certs):
    """uvicorn (an ASGI app, as vLLM and LiteLLM serve) and aiohttp's web
    server: a JSON answer with a length and an SSE stream, plain and https."""
    for framework in ("uvicorn", "aiohttp"):
        for suffix, scheme, ca_file, server_args in schemes(certs):
            server = LineServer([sys.executable, os.path.join(HERE, "wire_async_server.py"),
                                 framework, *server_args], f"{framework}{suffix}")
            try:
                for mode in ("json", "sse"):
                    label = f"{framework}-{mode}{suffix}"
                    mark = server.mark()
                    docs = run_variant(
                        tmp, label, f"{scheme}://127.0.0.1:{server.port}/{mode}/v1/chat/completions",
                        lambda user, mode=mode: f"{framework} {mode}: {user}",
                        stream=mode == "sse", ca_file=ca_file)
                    usage = {json.dumps(d["llm"].get("usage")) for d in docs.values()}
                    check(usage == {'{"prompt_tokens": 7, "completion_tokens": 5}'},
                          f"[{label}] usage not as sent: {usage}")
                    check_connections(label, *server.counts_of(mark, N_FILES), True)
            finally:
                server.stop()


HTTPLIB_SERVER = os.path.join(BINARY_DIR, "tests", "wire_httplib_server")


def httplib_variants(tmp, certs):
    """cpp-httplib as Debian builds it (llama.cpp's server's HTTP library):
    a gzipped JSON answer with its Content-Length, an SSE stream, and its
    five requests per connection."""
    for suffix, scheme, ca_file, server_args in schemes(certs):
        server = LineServer([HTTPLIB_SERVER, *server_args], f"httplib{suffix}")
        try:
            for mode, in_flight in (("cl", MAX_IN_FLIGHT), ("sse", MAX_IN_FLIGHT), ("cl", 1)):
                label = f"httplib-{mode}{'-one' if in_flight == 1 else ''}{suffix}"
                mark = server.mark()
                docs = run_variant(
                    tmp, label, f"{scheme}://127.0.0.1:{server.port}/{mode}/v1/chat/completions",
                    lambda user, mode=mode: f"httplib {mode}: {user}", stream=mode == "sse",
                    ca_file=ca_file, max_in_flight=in_flight)
                usage = {json.dumps(d["llm"].get("usage")) for d in docs.values()}
                check(usage == {'{"prompt_tokens": 7, "completion_tokens": 5}'},
                      f"[{label}] usage not as sent: {usage}")
                server.await_lines(mark, r"^sent ", N_FILES)  # printed after each answer
                sent = [l.split()[1] for l in server.proc.stdout.lines[mark:]
                        if l.startswith("sent ")]
                want = "-" if mode == "sse" else "gzip"  # httplib never compresses SSE
                check(sent == [want] * N_FILES, f"[{label}] Content-Encoding {sent}, want {want}")
                conns, reqs = server.counts_of(mark, N_FILES)
                if in_flight == 1:
                    # One connection at a time: httplib says Connection: close
                    # on its fifth answer, and dropd opens a second for the sixth.
                    check(reqs == N_FILES and conns == 2,
                          f"[{label}] {conns} connections for {reqs} requests, want 2")
                    note(f"({label}) {N_FILES} results, 2 connections: closed after 5 requests")
                else:
                    check_connections(label, conns, reqs, True)
        finally:
            server.stop()


def mock_llm_variants(tmp):
    mock = MockLlm(os.path.join(tmp, "mock-llm-server"))
    try:
        url = f"http://127.0.0.1:{mock.port}/v1/chat/completions"
        run_variant(tmp, "mock-llm", url, lambda user: user)
        note(f"(mock-llm) {N_FILES} results, each the echoed message")
        docs = run_variant(tmp, "mock-llm-stream", url, lambda user: user, stream=True)
        estimated = [d["llm"].get("usage_estimated") for d in docs.values()]
        check(all(estimated), f"[mock-llm-stream] a stream without usage, yet usage_estimated "
                              f"is {estimated}")
        note(f"(mock-llm-stream) {N_FILES} streamed results, usage estimated")
    finally:
        mock.stop()


def main():
    require_binaries()
    check(os.access(NGINX, os.X_OK) and os.path.exists(ECHO_MODULE),
          "nginx or its echo module is missing (scripts/bootstrap installs them)")
    check(os.access(HTTPLIB_SERVER, os.X_OK),
          f"{HTTPLIB_SERVER} is missing: build target wire_httplib_server (it needs "
          f"libcpp-httplib-dev, which scripts/bootstrap installs)")
    for module, package in (("uvicorn", "python3-uvicorn"), ("aiohttp", "python3-aiohttp")):
        found = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
        check(found.returncode == 0, f"{package} is missing (scripts/bootstrap installs it)")
    with tempfile.TemporaryDirectory(prefix="dropd-wire-") as tmp:
        certs = make_certs(os.path.join(tmp, "certs"))
        nginx_variants(tmp, certs)
        python_variants(tmp, certs)
        cut_variant(tmp, certs)
        stall_variant(tmp)
        node_variants(tmp, certs)
        async_variants(tmp, certs)
        httplib_variants(tmp, certs)
        mock_llm_variants(tmp)


if __name__ == "__main__":
    run_main("test_wire_compat", main)
