#!/usr/bin/python3
"""dropd's command line through the real binary.

Checks: --version, --help, --check-config on the example config (from a
temporary working directory), broken configs (exit 2, one
`FILE:LINE:COL: KEY: message` line per problem, every problem of a file),
a missing config file, $DROPD_CONFIG, an unknown flag, that an API key never
appears in any output or file of a run even when the endpoint answers 401
(and that it was sent as the bearer token), and `dropd stats` against
Python's computation, including a missing file among others.
"""

import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

SECRET = "sk-e2e-7f3a9c1d-DO-NOT-LEAK-5b2e"


def out(res):
    return res.stdout.decode("utf-8", "replace"), res.stderr.decode("utf-8", "replace")


def test_version_help(tmp):
    res = run_dropd(["--version"], cwd=tmp)
    so, se = out(res)
    check(res.returncode == 0 and re.search(r"\bdropd \d+\.\d+\.\d+", so + se),
          f"--version: exit {res.returncode}, output {so + se!r}")
    version = (so + se).strip()
    res = run_dropd(["--help"], cwd=tmp)
    so, se = out(res)
    for word in ("--once", "--check-config", "stats", "--config", "--log-level"):
        check(word in so + se, f"--help does not mention {word}")
    check(res.returncode == 0, f"--help exit {res.returncode}")
    note(f"--version prints {version!r}; --help mentions --once, --check-config, stats")


def test_check_config(tmp):
    example = os.path.join(SOURCE_DIR, "config", "dropd.example.yaml")
    cwd = os.path.join(tmp, "cwd")
    os.makedirs(cwd)
    res = run_dropd(["--check-config", "--config", example], cwd=cwd)
    so, se = out(res)
    check(res.returncode == 0 and so.strip() == "config OK: 1 pipelines, 1 endpoints",
          f"--check-config on the example: exit {res.returncode}, stdout {so!r}, stderr {se!r}")
    check(os.listdir(cwd) == [], f"--check-config created files in the cwd: {os.listdir(cwd)}")
    note("--check-config on config/dropd.example.yaml: 'config OK: 1 pipelines, 1 endpoints', exit 0")

    # Each broken config: its text and the (line, col, key) of every error.
    broken = {
        "duration-and-unknown-key": (
            "endpoints:\n"
            "  local:\n"
            "    url: http://127.0.0.1:1/v1/chat/completions\n"
            "pipelines:\n"
            "  - name: x\n"
            "    watch: [ ./in ]\n"
            "    endpoint: local\n"
            "    settle: 5 seconds\n"
            "    output: { dir: ./out }\n"
            "    bogus_key: 1\n",
            [(8, 13, "pipelines[0].settle"), (10, 5, "pipelines[0].bogus_key")]),
        "many": (
            "endpoints:\n"
            "  local:\n"
            "    model: x\n"
            f"    api_key: {SECRET}\n"
            "pipelines:\n"
            "  - watch: [ ./in ]\n"
            "    endpoint: lcoal\n"
            "    max_file_size: 8MB\n"
            "    prompt: { user: \"hi {{nope}}\" }\n"
            "    output: { dir: ./out }\n",
            [(3, 5, "endpoints.local.url"), (4, 14, "endpoints.local.api_key"),
             (7, 15, "pipelines[0].endpoint"), (8, 20, "pipelines[0].max_file_size"),
             (9, 21, "pipelines[0].prompt.user")]),
        "bad-enum-and-type": (
            "endpoints:\n"
            "  local:\n"
            "    url: http://127.0.0.1:1/v1/chat/completions\n"
            "    limits: { max_in_flight: lots }\n"
            "pipelines:\n"
            "  - watch: [ ./in ]\n"
            "    endpoint: local\n"
            "    binary: maybe\n"
            "    output: { dir: ./out }\n",
            [(4, 30, "endpoints.local.limits.max_in_flight"), (8, 13, "pipelines[0].binary")]),
        "not-yaml": (
            "endpoints: [\n  unclosed: {\n",
            [(None, None, None)]),
    }
    for name, (text, want) in broken.items():
        path = os.path.join(tmp, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(text)
        res = run_dropd(["--check-config", "--config", path], cwd=cwd)
        so, se = out(res)
        check(res.returncode == 2, f"broken config {name}: exit {res.returncode}, want 2")
        lines = [l for l in (so + se).splitlines() if l.startswith(path + ":")]
        check(lines, f"broken config {name}: no line starting with its path; output {so + se!r}")
        check(SECRET not in so + se, f"broken config {name}: the inline api_key was echoed")
        check("Traceback" not in se and "terminate called" not in se, f"{name}: a stack trace")
        for line_no, col, key in want:
            if line_no is None:
                check(any(re.match(re.escape(path) + r":\d+:\d+: ", l) for l in lines),
                      f"broken config {name}: no FILE:LINE:COL position in {lines}")
                continue
            prefix = f"{path}:{line_no}:{col}: {key}: "
            check(any(l.startswith(prefix) for l in lines),
                  f"broken config {name}: no line starting {prefix!r}; got:\n" + "\n".join(lines))
        if want[0][0] is not None:
            check(len(lines) == len(want), f"broken config {name}: {len(lines)} error lines, want {len(want)}:\n"
                  + "\n".join(lines))
    note(f"{len(broken)} broken configs: exit 2, every error as FILE:LINE:COL: KEY (all of a file reported, "
         "inline api_key not echoed)")

    missing = os.path.join(tmp, "no-such-dir", "dropd.yaml")
    res = run_dropd(["--check-config", "--config", missing], cwd=cwd)
    so, se = out(res)
    check(res.returncode == 2 and missing in so + se,
          f"missing config: exit {res.returncode}, output {so + se!r}")
    note("missing config file: exit 2, the path named")

    good = os.path.join(tmp, "env-good.yaml")
    write_config(good, tmp, "http://127.0.0.1:1/v1/chat/completions")
    env = dict(os.environ, DROPD_CONFIG=good)
    res = run_dropd(["--check-config"], cwd=cwd, env=env)
    so, se = out(res)
    check(res.returncode == 0 and "config OK: 1 pipelines, 1 endpoints" in so,
          f"$DROPD_CONFIG (valid): exit {res.returncode}, {so + se!r}")
    bad = os.path.join(tmp, "duration-and-unknown-key.yaml")
    res = run_dropd(["--check-config"], cwd=cwd, env=dict(os.environ, DROPD_CONFIG=bad))
    so, se = out(res)
    check(res.returncode == 2 and f"{bad}:8:13: pipelines[0].settle" in so + se,
          f"$DROPD_CONFIG (broken): exit {res.returncode}, {so + se!r}")
    res = run_dropd(["--check-config", "--config", good], cwd=cwd, env=dict(os.environ, DROPD_CONFIG=bad))
    check(res.returncode == 0, "--config does not win over $DROPD_CONFIG")
    note("$DROPD_CONFIG is read (a valid one passes, a broken one is reported by name); --config wins")

    res = run_dropd(["--frobnicate"], cwd=cwd)
    so, se = out(res)
    check(res.returncode == 2 and "frobnicate" in so + se, f"unknown flag: exit {res.returncode}, {so + se!r}")
    note("unknown flag: exit 2, named")

    res = run_dropd(["--give-up-after", "1s", "--config", good], cwd=cwd)
    so, se = out(res)
    check(res.returncode == 2 and "--once" in so + se,
          f"--give-up-after without --once: exit {res.returncode}, {so + se!r}")
    note("--give-up-after without --once: refused (exit 2), naming --once")


class _Refuser(http.server.BaseHTTPRequestHandler):
    """Answers every POST with 401 and records the Authorization headers seen."""
    seen = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        _Refuser.seen.append(self.headers.get("Authorization"))
        body = json.dumps({"error": {"message": "invalid api key", "type": "authentication_error",
                                     "code": "invalid_api_key"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def grep_tree(root, needle):
    hits = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                if needle in f.read():
                    hits.append(path)
    return hits


def test_secret(tmp):
    root = os.path.join(tmp, "secret")
    os.makedirs(root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dropd = None
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
        cfg = os.path.join(root, "dropd.yaml")
        dirs = write_config(cfg, root, url, api_key_env="DROPD_E2E_API_KEY", log_level="trace",
                            retry=("2", "50ms", "200ms"), max_in_flight=2)
        os.makedirs(dirs["inbox"])
        for i in range(3):
            with open(os.path.join(dirs["inbox"], f"f{i}.txt"), "wb") as f:
                f.write(b"some text to send\n")
        env = dict(os.environ, DROPD_E2E_API_KEY=SECRET)
        dropd = start_dropd(["--config", cfg, "--log-level", "trace"], cwd=root, env=env)
        dropd.stderr.wait_for(r"endpoint\.paused", 10)
        wait_until(lambda: len(_Refuser.seen) >= 3, 10, "requests after the pause")
        dropd.signal(signal.SIGTERM)
        rc = dropd.wait(10)
        check(rc == 0, f"[secret] exit {rc} after SIGTERM")
        check(all(h == f"Bearer {SECRET}" for h in _Refuser.seen),
              f"[secret] the key was not sent as the bearer token: {_Refuser.seen[:2]}")
        text = dropd.stdout.text() + dropd.stderr.text()
        check(len(dropd.stderr.lines) > 5, "[secret] expected trace logs to grep")
        for needle in (SECRET, SECRET[8:24]):
            check(needle not in text, f"[secret] the API key appears in dropd's output")
            hits = grep_tree(root, needle.encode())
            check(not hits, f"[secret] the API key appears in files: {hits}")
        # The --once path with a key, then check-config at trace level.
        res = run_dropd(["--check-config", "--config", cfg, "--log-level", "trace"], cwd=root, env=env)
        so, se = out(res)
        check(res.returncode == 0 and SECRET not in so + se, "[secret] --check-config leaked the key")
        bad_env = dict(env, DROPD_E2E_API_KEY=SECRET + "\x01")
        res = run_dropd(["--check-config", "--config", cfg], cwd=root, env=bad_env)
        so, se = out(res)
        check(res.returncode == 2 and "DROPD_E2E_API_KEY" in so + se and SECRET not in so + se,
              f"[secret] a key with a control character: exit {res.returncode}, {so + se!r}")
        note(f"API key sent as bearer ({len(_Refuser.seen)} requests answered 401), absent from "
             f"{len(dropd.stderr.lines)} trace log lines, stdout and every file under the run's folder; "
             "a bad key value is refused naming the variable only")
    finally:
        if dropd:
            dropd.kill()
        server.shutdown()
        server.server_close()


def test_stats(tmp):
    files = {
        "ascii.txt": b"hello world\nsecond line here\n",
        "utf8.txt": "café 日本語 naïve\nStraße\n".encode(),
        "invalid.txt": b"ok \xff\xfe then \xe6\x97 cut\n\xc3",
        "empty.txt": b"",
        "crlf.txt": b"a\r\nb\r\n\x0bvt\x0cff\tz",
        "nul.bin": b"a\x00b\x00 c\n",
        "no-newline.txt": b"last line without newline",
    }
    paths = []
    for name, data in files.items():
        path = os.path.join(tmp, "stats", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    res = run_dropd(["stats"] + paths, cwd=tmp)
    so, se = out(res)
    check(res.returncode == 0, f"stats: exit {res.returncode}: {se}")
    lines = so.splitlines()
    check(len(lines) == len(paths), f"stats: {len(lines)} lines for {len(paths)} files")
    for path, line in zip(paths, lines):
        doc = json.loads(line)
        data = files[os.path.basename(path)]
        want = stats_of(data)
        want["sha256"] = sha256(data)
        got = {k: doc.get(k) for k in want}
        check(got == want, f"stats of {os.path.basename(path)}: {got}, want {want}")
        check(doc.get("path") == path, f"stats line names {doc.get('path')!r}, want {path!r}")
    missing = os.path.join(tmp, "stats", "no-such-file.txt")
    res = run_dropd(["stats", paths[0], missing, paths[1]], cwd=tmp)
    so, se = out(res)
    check(res.returncode == 1, f"stats with a missing file: exit {res.returncode}, want 1")
    check(missing in se, f"stats: the missing path is not on stderr: {se!r}")
    got_paths = [json.loads(l)["path"] for l in so.splitlines()]
    check(got_paths == [paths[0], paths[1]], f"stats with a missing file printed {got_paths}")
    note(f"dropd stats on {len(files)} files equals Python (bytes, lines, words, chars, utf8_valid, "
         "sha256); a missing file: exit 1, path on stderr, others still printed")


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-cli-") as tmp:
        test_version_help(tmp)
        test_check_config(tmp)
        test_secret(tmp)
        test_stats(tmp)


if __name__ == "__main__":
    run_main("test_cli", main)
