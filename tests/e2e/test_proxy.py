#!/usr/bin/python3
"""dropd through a real HTTP proxy (issue 13): Debian's tinyproxy, started
here on 127.0.0.1 with a config file written here, stopped by its pid.

- dropd-fake-llm over http (absolute-form requests through the proxy) and
  over https (a CONNECT tunnel, TLS with the fake's certificate from a CA
  made here and given in tls.ca_file), each with `proxy:` in the config
  and with the environment (HTTPS_PROXY, http_proxy); tinyproxy's log
  shows each run's requests ("Request (file descriptor N): CONNECT
  127.0.0.1:PORT" / "POST http://127.0.0.1:PORT/..."), dropd's log names
  the proxy it uses;
- HTTP_PROXY alone is not used for an http endpoint (httpoxy), and
  NO_PROXY=127.0.0.1 sends the endpoint direct: tinyproxy's log gets
  nothing;
- with tinyproxy's BasicAuth: the right password (proxy.password from
  {env:}) works for https (CONNECT) and http (absolute-form) endpoints;
  a wrong one pauses the endpoint with a warning naming the refusal and
  leaves the files in the inbox: no credentials get "proxy auth required
  (407)", to a CONNECT and to an absolute-form request alike; wrong ones
  (userinfo in HTTPS_PROXY) "proxy auth refused (401)" (tinyproxy answers
  a CONNECT with a wrong password 401; to an absolute-form request its
  401 reads as the endpoint's, which pauses it too);
- neither password, nor its base64 Proxy-Authorization form, appears in
  dropd's output, the records, done/failed or the ledger (sqlite).
Every dropd run gets its environment built here: no proxy variable of
the caller's reaches it.
"""

import base64
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
PROXY_USER = "dropd"
PROXY_PASSWORD = "pw-" + secrets.token_hex(10)
WRONG_PASSWORD = "wrong-" + secrets.token_hex(10)
TINYPROXY = next((p for p in ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy") if os.access(p, os.X_OK)),
                 None)



class Tinyproxy:
    """tinyproxy -d on 127.0.0.1:<free port>, logging at Info to .log_path."""

    def __init__(self, folder, basic_auth=None):
        os.makedirs(folder)
        self.port = closed_port()
        self.log_path = os.path.join(folder, "tinyproxy.log")
        conf = os.path.join(folder, "tinyproxy.conf")
        lines = [f"Port {self.port}", "Listen 127.0.0.1", "Allow 127.0.0.1",
                 f'LogFile "{self.log_path}"', "LogLevel Info", "MaxClients 64", "Timeout 60"]
        if basic_auth:
            lines.append(f"BasicAuth {basic_auth[0]} {basic_auth[1]}")
        with open(conf, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = Proc([TINYPROXY, "-d", "-c", conf])
        try:
            wait_until(lambda: "Accepting connections" in self.log(), 10, "tinyproxy to listen")
        except TestFailure:
            self.stop()
            raise TestFailure("tinyproxy did not start: " + self.proc.stderr.text()[-1000:])
        self.url = f"http://127.0.0.1:{self.port}"

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def requests_since(self, offset):
        """The request lines tinyproxy logged after byte `offset` of its log."""
        return re.findall(r"Request \(file descriptor \d+\): (.*)", self.log()[offset:])

    def stop(self):
        self.proc.signal(15)  # SIGTERM to our own child, by its pid
        try:
            self.proc.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc.kill()


def clean_env(**extra):
    """The caller's environment without any proxy variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in PROXY_VARS and not k.startswith("SSL_CERT")}
    env.update(extra)
    return env


def run_once(tmp, label, url, env, endpoint_extra=(), give_up_ms=None, files=3):
    """dropd --once on `files` files; returns (rc, stderr+stdout text, dirs, files)."""
    root = os.path.join(tmp, label)
    os.makedirs(root)
    cfg = os.path.join(root, "dropd.yaml")
    dirs = write_config(cfg, os.path.join(root, "run"), url, max_in_flight=2,
                        retry=("3", "50ms", "200ms"))
    if endpoint_extra:
        with open(cfg, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("    model: e2e-model\n",
                            "    model: e2e-model\n" + "".join(f"    {l}\n" for l in endpoint_extra))
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(text)
    os.makedirs(dirs["inbox"])
    inputs = {f"{label}-{i}.txt": f"{label} file {i}\n".encode() for i in range(files)}
    write_files(dirs["inbox"], inputs)
    args = ["--once", "--config", cfg]
    if give_up_ms:
        args += ["--give-up-after", f"{give_up_ms}ms"]
    res = run_dropd(args, cwd=root, env=env, timeout=60)
    out = res.stderr.decode("utf-8", "replace") + res.stdout.decode("utf-8", "replace")
    return res.returncode, out, dirs, inputs


def expect_through(tmp, label, proxy, url, env, extra, want_request, want_from):
    offset = len(proxy.log())
    rc, out, dirs, inputs = run_once(tmp, label, url, env, extra)
    check(rc == 0, f"[{label}] exit {rc}:\n{out[-3000:]}")
    ok, _ = check_outcomes(dirs, set(inputs))
    check(len(ok) == len(inputs), f"[{label}] {len(ok)} of {len(inputs)} files done")
    seen = proxy.requests_since(offset)
    check(seen and all(want_request in r for r in seen),
          f"[{label}] tinyproxy logged {seen!r}, want requests like {want_request!r}")
    check(re.search(r"endpoint\.proxy endpoint=fake proxy=" + re.escape(proxy.url) + r" from=" +
                    re.escape(f'"{want_from}"'), out),
          f"[{label}] no endpoint.proxy line naming {proxy.url} from {want_from}:\n{out[-2000:]}")
    note(f"({label}) {len(ok)} files through the proxy; tinyproxy saw {len(seen)} x {seen[0]!r}")
    return out, dirs


def expect_direct(tmp, label, proxy, url, env, why):
    offset = len(proxy.log())
    rc, out, dirs, inputs = run_once(tmp, label, url, env)
    check(rc == 0, f"[{label}] exit {rc}:\n{out[-3000:]}")
    check_outcomes(dirs, set(inputs))
    seen = proxy.requests_since(offset)
    check(not seen, f"[{label}] went through the proxy: {seen!r}")
    check(re.search(r"endpoint\.proxy endpoint=fake proxy=none why=" + re.escape(f'"{why}"'), out),
          f"[{label}] no endpoint.proxy line saying {why!r}:\n{out[-2000:]}")
    note(f"({label}) direct, tinyproxy saw nothing ({why})")


def secret_forms(value):
    token = base64.b64encode(f"{PROXY_USER}:{value}".encode()).decode()
    return [value, token]


def search_for_secrets(outputs, dirs_list):
    """Neither password (nor its base64 token) in any output, file or ledger row."""
    needles = secret_forms(PROXY_PASSWORD) + secret_forms(WRONG_PASSWORD)
    for label, text in outputs:
        for n in needles:
            check(n not in text, f"[{label}] dropd's output holds a proxy credential")
    for dirs in dirs_list:
        for key in ("outbox", "done", "failed", "state"):
            for folder, _, names in os.walk(dirs[key]):
                for name in names:
                    path = os.path.join(folder, name)
                    with open(path, "rb") as f:
                        data = f.read()
                    for n in needles:
                        check(n.encode() not in data, f"{path} holds a proxy credential")
        ledger = os.path.join(dirs["state"], "ledger.db")
        if os.path.exists(ledger):
            db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
            try:
                dump = "\n".join(db.iterdump())
            finally:
                db.close()
            for n in needles:
                check(n not in dump, f"{ledger} holds a proxy credential")


def open_proxy_runs(tmp, certs, http_fake, https_fake):
    proxy = Tinyproxy(os.path.join(tmp, "tinyproxy-open"))
    outs = []
    try:
        https_url = https_fake.url.replace("http://", "https://")
        ca = f"tls: {{ ca_file: {yq(certs['ca.pem'])} }}"
        authority = f"127.0.0.1:{https_fake.port}"
        outs.append(expect_through(tmp, "http-config", proxy, http_fake.url, clean_env(),
                                   [f"proxy: {yq(proxy.url)}"],
                                   f"POST http://127.0.0.1:{http_fake.port}/v1/chat/completions",
                                   "endpoints.fake.proxy"))
        outs.append(expect_through(tmp, "https-config", proxy, https_url, clean_env(),
                                   [ca, f"proxy: {yq(proxy.url)}"], f"CONNECT {authority}",
                                   "endpoints.fake.proxy"))
        outs.append(expect_through(tmp, "https-env", proxy, https_url,
                                   clean_env(HTTPS_PROXY=proxy.url), [ca], f"CONNECT {authority}",
                                   "env HTTPS_PROXY"))
        outs.append(expect_through(tmp, "http-env", proxy, http_fake.url,
                                   clean_env(http_proxy=proxy.url), [],
                                   f"POST http://127.0.0.1:{http_fake.port}/", "env http_proxy"))
        expect_direct(tmp, "http-uppercase-ignored", proxy, http_fake.url,
                      clean_env(HTTP_PROXY=proxy.url), "no proxy variable set")
        # NO_PROXY needs the endpoint's tls too: write_config gives none, so the http fake.
        expect_direct(tmp, "no-proxy", proxy, http_fake.url,
                      clean_env(http_proxy=proxy.url, HTTPS_PROXY=proxy.url, NO_PROXY="127.0.0.1"),
                      "NO_PROXY matches 127.0.0.1")
    finally:
        proxy.stop()
    return outs


def expect_paused(tmp, label, url, env, extra, reason):
    """dropd --once gives up with the endpoint paused, naming `reason`;
    returns (output, dirs)."""
    rc, out, dirs, inputs = run_once(tmp, label, url, env, extra, give_up_ms=2000)
    check(rc == 1, f"[{label}] exit {rc}, want 1 (once give-up):\n{out[-3000:]}")
    paused = [l for l in out.splitlines() if "endpoint.paused" in l]
    check(len(paused) == 1 and re.search(r"\bwarn", paused[0]) and reason in paused[0],
          f"[{label}] want one endpoint.paused warning naming {reason!r}:\n{out[-3000:]}")
    check("breaker_open" not in out, f"[{label}] the breaker opened instead:\n{out[-3000:]}")
    check(list_files(dirs["inbox"]) == set(inputs), f"[{label}] the inbox changed")
    check(not list_files(dirs["failed"]), f"[{label}] a file failed")
    note(f"({label}) paused: {paused[0][-90:]!r}; files still in the inbox")
    return out, dirs


def auth_proxy_runs(tmp, certs, http_fake, https_fake):
    proxy = Tinyproxy(os.path.join(tmp, "tinyproxy-auth"), (PROXY_USER, PROXY_PASSWORD))
    outputs, dirs_list = [], []
    try:
        https_url = https_fake.url.replace("http://", "https://")
        ca = f"tls: {{ ca_file: {yq(certs['ca.pem'])} }}"
        auth = (f"proxy: {{ url: {yq(proxy.url)}, username: {PROXY_USER}, "
                "password: { env: DROPD_E2E_PROXY_PW } }")
        for label, url, extra, want in (
                ("auth-right", https_url, [ca, auth], f"CONNECT 127.0.0.1:{https_fake.port}"),
                ("auth-right-http", http_fake.url, [auth],
                 f"POST http://127.0.0.1:{http_fake.port}/v1/chat/completions")):
            out, dirs = expect_through(tmp, label, proxy, url,
                                       clean_env(DROPD_E2E_PROXY_PW=PROXY_PASSWORD), extra, want,
                                       "endpoints.fake.proxy")
            outputs.append((label, out))
            dirs_list.append(dirs)
        wrong = f"http://{PROXY_USER}:{WRONG_PASSWORD}@127.0.0.1:{proxy.port}"
        # tinyproxy answers a request without credentials 407, one with
        # wrong credentials 401 (CONNECT or absolute-form alike). To an
        # absolute-form request (an http endpoint) that 401 looks like the
        # endpoint's own: dropd pauses as for a bad key.
        for label, url, env, extra, reason in (
                ("auth-missing", https_url, clean_env(HTTPS_PROXY=proxy.url), [ca],
                 "proxy auth required (407)"),
                ("auth-wrong", https_url, clean_env(HTTPS_PROXY=wrong), [ca],
                 "proxy auth refused (401)"),
                ("auth-missing-http", http_fake.url, clean_env(http_proxy=proxy.url), [],
                 "proxy auth required (407)"),
                ("auth-wrong-http", http_fake.url, clean_env(DROPD_E2E_PROXY_PW=WRONG_PASSWORD),
                 [auth], "401")):
            out, dirs = expect_paused(tmp, label, url, env, extra, reason)
            outputs.append((label, out))
            dirs_list.append(dirs)
    finally:
        proxy.stop()
    search_for_secrets(outputs, dirs_list)
    note("no proxy password, raw or base64, in dropd's output, records, folders or ledger")


def main():
    require_binaries()
    check(TINYPROXY is not None, "tinyproxy is not installed (scripts/bootstrap installs it)")
    with tempfile.TemporaryDirectory(prefix="dropd-proxy-") as tmp:
        certs = make_certs(os.path.join(tmp, "certs"))
        http_fake = Fake(tmp)
        https_fake = Fake(tmp, extra=["--tls-cert", certs["leaf.pem"], "--tls-key", certs["leaf.key"]])
        try:
            open_proxy_runs(tmp, certs, http_fake, https_fake)
            auth_proxy_runs(tmp, certs, http_fake, https_fake)
        finally:
            http_fake.stop()
            https_fake.stop()


if __name__ == "__main__":
    run_main("test_proxy", main)
