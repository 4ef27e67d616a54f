"""Shared helpers for dropd's end-to-end tests (Python 3 stdlib only).

The tests drive the real `dropd` and `dropd-fake-llm` binaries on 127.0.0.1
with port 0. Paths come from the environment ctest sets:

  DROPD_BIN          the dropd binary
  DROPD_BINARY_DIR   the build folder (dropd-fake-llm is in daemon/)
  DROPD_SOURCE_DIR   the source tree (config/dropd.example.yaml)

Every helper that starts a process returns a handle the caller stops in a
`finally`; nothing here sleeps to "let things happen": waits poll for an
event (a log line, a file) with a deadline.
"""

import hashlib
import json
import os
import queue
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time


class TestFailure(Exception):
    """A check failed: the message says what was expected and what was seen."""


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def run_main(name, body):
    """Runs body() and exits 0, or 1 with the failure message."""
    started = time.monotonic()
    try:
        body()
    except TestFailure as e:
        print(f"FAIL {name}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"PASS {name} ({time.monotonic() - started:.1f} s)")
    sys.exit(0)


def note(message):
    print(f"  ok: {message}", flush=True)


# --- binaries -----------------------------------------------------------------

def _env_path(name, fallback):
    value = os.environ.get(name)
    return value if value else fallback


SOURCE_DIR = _env_path("DROPD_SOURCE_DIR",
                       os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BINARY_DIR = _env_path("DROPD_BINARY_DIR", os.path.join(SOURCE_DIR, "build"))
DROPD_BIN = _env_path("DROPD_BIN", os.path.join(BINARY_DIR, "daemon", "dropd"))
FAKE_BIN = os.path.join(BINARY_DIR, "daemon", "dropd-fake-llm")


def require_binaries():
    for path in (DROPD_BIN, FAKE_BIN):
        check(os.access(path, os.X_OK), f"binary not found or not executable: {path}")


# --- processes ----------------------------------------------------------------

class Collected:
    """Items (lines, messages) gathered by a thread; wait_for() awaits a matching one."""

    def __init__(self):
        self.lines = []
        self._cond = threading.Condition()
        self._closed = False

    def _add(self, item):
        with self._cond:
            self.lines.append(item)
            self._cond.notify_all()

    def _close(self):
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def text(self):
        with self._cond:
            return "\n".join(self.lines)

    def wait_for(self, pattern, timeout, start=0):
        """Index of the first item from `start` matching regex `pattern`, or raises."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(self.lines):
                    if rx.search(self.lines[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    tail = "\n".join(self.lines[-20:])
                    raise TestFailure(f"nothing matching {pattern!r} within {timeout} s; last:\n{tail}")
                self._cond.wait(left)


class LineReader(Collected):
    """Collects a pipe's lines on a thread."""

    def __init__(self, pipe):
        super().__init__()
        self._thread = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self._thread.start()

    def _run(self, pipe):
        for raw in iter(pipe.readline, b""):
            self._add(raw.decode("utf-8", "replace").rstrip("\n"))
        self._close()

    def join(self, timeout=5):
        self._thread.join(timeout)


class Proc:
    """A started process with its stdout and stderr collected by threads."""

    def __init__(self, argv, cwd=None, env=None):
        self.argv = argv
        self.popen = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stdout = LineReader(self.popen.stdout)
        self.stderr = LineReader(self.popen.stderr)

    @property
    def pid(self):
        return self.popen.pid

    def signal(self, signum):
        if self.popen.poll() is None:
            self.popen.send_signal(signum)

    def wait(self, timeout):
        try:
            rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"{os.path.basename(self.argv[0])} did not exit within {timeout} s")
        self.stdout.join()
        self.stderr.join()
        return rc

    def kill(self):
        """Ends the process if it still runs (for `finally`)."""
        if self.popen.poll() is None:
            self.popen.kill()
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for pipe in (self.popen.stdout, self.popen.stderr):
            try:
                pipe.close()
            except OSError:
                pass


class Fake:
    """dropd-fake-llm on 127.0.0.1 (port 0 unless given); .port, .url, .log_path."""

    def __init__(self, workdir, faults=(), port=0, extra=(), request_log=True):
        self.log_path = os.path.join(workdir, f"fake-requests-{port}-{time.monotonic_ns()}.jsonl") \
            if request_log else None
        argv = [FAKE_BIN, "--listen", f"127.0.0.1:{port}"]
        for f in faults:
            argv += ["--fault", f]
        if self.log_path:
            argv += ["--request-log", self.log_path]
        argv += list(extra)
        self.proc = Proc(argv)
        try:
            line = self.proc.stdout.lines[self.proc.stdout.wait_for(r"^listening on ", 10)]
        except TestFailure:
            self.proc.kill()
            raise TestFailure("dropd-fake-llm did not print 'listening on': "
                              + self.proc.stderr.text())
        m = re.match(r"^listening on 127\.0\.0\.1:(\d+)$", line)
        check(m is not None, f"unexpected first line of dropd-fake-llm: {line!r}")
        self.port = int(m.group(1))
        check(port == 0 or self.port == port, f"fake listens on {self.port}, asked for {port}")
        self.url = f"http://127.0.0.1:{self.port}/v1/chat/completions"

    def requests(self):
        """The request log's entries so far (a partly written last line is ignored)."""
        if not self.log_path or not os.path.exists(self.log_path):
            return []
        out = []
        with open(self.log_path, "rb") as f:
            for raw in f.read().split(b"\n"):
                if raw.strip():
                    try:
                        out.append(json.loads(raw))
                    except ValueError:
                        pass
        return out

    def control(self, body):
        """POST /_fake/control with a JSON body; returns the HTTP status."""
        payload = json.dumps(body).encode()
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"POST /_fake/control HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nConnection: close\r\n"
                      + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data and b"Content-Length" not in data.split(b"\r\n\r\n")[0]:
                    break
        m = re.match(rb"HTTP/1\.[01] (\d+)", data)
        check(m is not None, f"no HTTP answer from /_fake/control: {data[:200]!r}")
        return int(m.group(1))

    def stop(self):
        self.proc.signal(signal.SIGTERM)
        try:
            self.proc.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc.kill()


class NotifySocket(Collected):
    """A systemd notification socket (sd_notify's AF_UNIX datagrams): pass
    .env() to dropd, then wait_for() a message such as READY=1 (.lines holds
    the messages)."""

    def __init__(self, workdir):
        super().__init__()
        self.path = os.path.join(workdir, f"notify-{time.monotonic_ns()}.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def env(self):
        return dict(os.environ, NOTIFY_SOCKET=self.path)

    def _run(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                break
            self._add(data.decode("utf-8", "replace"))

    def close(self):
        self.sock.close()


def closed_port():
    """A loopback port that was just bound and closed: nothing listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_dropd(args, cwd=None, env=None, timeout=60):
    """Runs dropd to completion; returns CompletedProcess with bytes output."""
    try:
        return subprocess.run([DROPD_BIN] + list(args), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise TestFailure(f"dropd {' '.join(args)} did not finish within {timeout} s: "
                          f"{(e.stderr or b'')[-2000:].decode('utf-8', 'replace')}")


def start_dropd(args, cwd=None, env=None):
    return Proc([DROPD_BIN] + list(args), cwd=cwd, env=env)


def wait_until(pred, timeout, what, interval=0.02):
    """Polls pred() until it is true; raises naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TestFailure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --- config -------------------------------------------------------------------

def yq(value):
    """A YAML scalar: JSON's double-quoted strings are valid YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))


def write_config(path, root, url, *, settle="0ms", max_in_flight=16, max_file_size="8MiB",
                 binary="skip", retry=("2", "50ms", "200ms"), rescan="0", watch=None,
                 prompt_user="{{path}}\n{{content}}", api_key_env=None, log_level="info",
                 timeouts=None, on_success="move", on_failure="move"):
    """Writes a one-pipeline config with folders under `root`; returns a dict of them."""
    dirs = {name: os.path.join(root, name) for name in ("inbox", "outbox", "done", "failed", "state")}
    watch = watch if watch is not None else [dirs["inbox"]]
    lines = [
        f"state_dir: {yq(dirs['state'])}",
        f"log: {{ level: {log_level}, format: text }}",
        "endpoints:",
        "  fake:",
        f"    url: {yq(url)}",
        "    model: e2e-model",
    ]
    if api_key_env:
        lines.append(f"    api_key: {{ env: {api_key_env} }}")
    if timeouts:
        lines.append("    timeouts: { " + ", ".join(f"{k}: {v}" for k, v in timeouts.items()) + " }")
    lines += [
        f"    limits: {{ max_in_flight: {max_in_flight} }}",
        f"    retry: {{ max_attempts: {retry[0]}, initial_backoff: {retry[1]}, max_backoff: {retry[2]} }}",
        "pipelines:",
        "  - name: e2e",
        "    watch: [ " + ", ".join(yq(w) for w in watch) + " ]",
        "    recursive: true",
        f"    settle: {settle}",
        f"    rescan_interval: {rescan}",
        f"    max_file_size: {max_file_size}",
        f"    binary: {binary}",
        "    endpoint: fake",
        "    prompt:",
        "      system: \"e2e system\"",
        f"      user: {yq(prompt_user)}",
        f"    output: {{ dir: {yq(dirs['outbox'])} }}",
    ]
    for key, action in (("on_success", on_success), ("on_failure", on_failure)):
        if action == "move":
            lines.append(f"    {key}: {{ action: move, dir: {yq(dirs['done' if key == 'on_success' else 'failed'])} }}")
        else:
            lines.append(f"    {key}: {{ action: {action} }}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return dirs


# --- TLS ----------------------------------------------------------------------

def openssl(*args, cwd):
    res = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=60)
    check(res.returncode == 0, f"openssl {' '.join(args[:2])}: {res.stderr.decode()[-500:]}")


def make_certs(folder, leaf_san="IP:127.0.0.1"):
    """A test CA (ca.pem) and a leaf for `leaf_san` it signed (leaf.pem, leaf.key)."""
    os.makedirs(folder)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=dropd e2e CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=dropd e2e leaf",
            "-keyout", "leaf.key", "-out", "leaf.csr", cwd=folder)
    with open(os.path.join(folder, "ext.cnf"), "w", encoding="utf-8") as f:
        f.write(f"subjectAltName={leaf_san}\n")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "leaf.pem", cwd=folder)
    return {name: os.path.join(folder, name) for name in ("ca.pem", "leaf.pem", "leaf.key")}


# --- expectations ---------------------------------------------------------------

def stats_of(data):
    """INTERFACE.md's stats, computed independently."""
    try:
        data.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    return {
        "bytes": len(data),
        "lines": data.count(b"\n"),
        "words": len(data.split()),
        "chars": len(data.decode("utf-8", "surrogateescape")),
        "utf8_valid": valid,
    }


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def user_message(rel, data):
    """The user message dropd sends for the template "{{path}}\\n{{content}}",
    as the endpoint decodes it (invalid UTF-8 replaced by U+FFFD)."""
    return (rel.encode("utf-8", "surrogateescape") + b"\n" + data).decode("utf-8", "replace").encode()


def fake_content(user):
    """dropd-fake-llm's answer for a user message (bytes)."""
    words = b" ".join(user.split()[:8]).decode("utf-8")
    return f"fake: {words} ({len(user)} bytes)"


# --- trees ----------------------------------------------------------------------

WORDS = ("the of and to in is was for on that with as by at from it an be this are "
         "have which or had not but were one all their there been has when who will "
         "more no if out so said what up its about into than them can only other new "
         "some could time these two may then do first any my now such like our over "
         "man me even most made after also did many before must through back years "
         "where much your way well down should because each just those people").split()
NON_ASCII = ["café", "naïve", "Straße", "日本", "déjà", "Ωmega", "façade", "niño", "Ünïcödé", "€uro"]


def write_files(root, files):
    """Writes {rel: bytes} under root, making folders as needed."""
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def english_text(rng, n_words):
    """English-like text with about 2% non-ASCII tokens and a newline every ~12 words."""
    out = []
    for i in range(n_words):
        word = rng.choice(NON_ASCII) if rng.random() < 0.02 else rng.choice(WORDS)
        out.append(word)
        out.append("\n" if rng.random() < 0.08 else " ")
    return "".join(out).encode("utf-8")


def list_files(root):
    """Relative paths of every non-directory entry under root (symlinks and fifos included)."""
    out = set()
    if not os.path.isdir(root):
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            out.add(os.path.relpath(os.path.join(dirpath, name), root))
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                out.add(os.path.relpath(full, root))
    return out


def check_outcomes(dirs, expected, excluded=()):
    """Every rel in `expected` has exactly one outcome; returns (ok_rels, failed_rels).

    ok:     <outbox>/<rel>.json and <done>/<rel>, no error record, not in inbox
    failed: <failed>/<rel>.error.json and <failed>/<rel>, no result, not in inbox
    """
    inbox = list_files(dirs["inbox"])
    outbox = list_files(dirs["outbox"])
    done = list_files(dirs["done"])
    failed = list_files(dirs["failed"])
    ok, bad = set(), set()
    problems = []
    for rel in sorted(expected):
        has_result = rel + ".json" in outbox
        has_done = rel in done
        has_error = rel + ".error.json" in failed
        has_failed = rel in failed
        if has_result and has_done and not has_error and not has_failed:
            ok.add(rel)
        elif has_error and has_failed and not has_result and not has_done:
            bad.add(rel)
        else:
            problems.append(f"{rel!r}: result={has_result} done={has_done} "
                            f"error={has_error} failed={has_failed} inbox={rel in inbox}")
        if rel in inbox:
            problems.append(f"{rel!r} still in the inbox")
    extra = sorted(inbox - set(expected) - set(excluded))
    if extra:
        problems.append(f"unexpected files in the inbox: {extra[:10]!r}")
    for rel in excluded:
        if rel not in inbox:
            problems.append(f"excluded {rel!r} is no longer in the inbox")
        if rel + ".json" in outbox or rel + ".error.json" in failed or rel in done or rel in failed:
            problems.append(f"excluded {rel!r} got an outcome")
    extra_out = sorted(r for r in outbox if r[:-5] not in expected)
    if extra_out:
        problems.append(f"results for unknown inputs: {extra_out[:10]!r}")
    extra_err = sorted(r for r in failed if r.endswith(".error.json") and r[:-11] not in expected)
    if extra_err:
        problems.append(f"error records for unknown inputs: {extra_err[:10]!r}")
    check(not problems, "outcome problems (%d):\n  " % len(problems) + "\n  ".join(problems[:30]))
    return ok, bad


def load_json(path):
    with open(path, "rb") as f:
        return json.loads(f.read())


def proc_status(pid):
    """VmRSS and VmHWM of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return out


__all__ = [name for name in dir() if not name.startswith("_")]
