"""Headless Chromium for the e2e tests, driven over the DevTools protocol
with Python's stdlib only.

`--dump-dom --virtual-time-budget=` cannot be used for the status page:
virtual time stands still while a fetch is pending, and the page's
EventSource never ends. `--remote-debugging-pipe` needs no websocket:
Chromium reads commands from fd 3 and writes answers to fd 4, each one
JSON message ended by a NUL byte.

Chromium is started by Chromium() and stopped by close() (Browser.close,
then its pid is killed if it did not exit). As root it needs --no-sandbox.
"""

import base64
import json
import os
import select
import subprocess
import time

CHROMIUM = "/usr/bin/chromium"


class Chromium:
    def __init__(self, profile_dir, width=1200, height=900):
        cmd_r, cmd_w = os.pipe()  # we write, Chromium reads on fd 3
        ev_r, ev_w = os.pipe()    # Chromium writes on fd 4, we read

        def child():
            a, b = os.dup(cmd_r), os.dup(ev_w)  # out of the way of fds 3 and 4 first
            os.dup2(a, 3)  # dup2 leaves them inheritable
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={profile_dir}", f"--window-size={width},{height}",
             "--no-first-run", "--no-default-browser-check", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child, close_fds=False)
        os.close(cmd_r)
        os.close(ev_w)
        self._w, self._r = cmd_w, ev_r
        self._buf = b""
        self._id = 0
        self.session = None
        self.events = []  # protocol events seen while waiting for answers

    def send(self, method, params=None, browser=False, timeout=30):
        """Sends one command and returns its result (raises RuntimeError on an error)."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if self.session and not browser:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                m = json.loads(raw)
                if m.get("id") == self._id:
                    if "error" in m:
                        raise RuntimeError(f"{method}: {m['error']}")
                    return m.get("result", {})
                if "method" in m:
                    self.events.append(m)
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"{method}: no answer from Chromium within {timeout} s")
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed its pipe")
                self._buf += chunk

    def open(self, url):
        """Opens `url` in a new tab and attaches to it."""
        target = self.send("Target.createTarget", {"url": url}, browser=True)
        attached = self.send("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, browser=True)
        self.session = attached["sessionId"]
        self.send("Runtime.enable")

    def eval(self, expression):
        """The value of a JS expression in the page (JSON-able values only)."""
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return r.get("result", {}).get("value")

    def exceptions(self):
        return [e["params"]["exceptionDetails"] for e in self.events
                if e.get("method") == "Runtime.exceptionThrown"]

    def screenshot(self, path):
        r = self.send("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.send("Browser.close", browser=True, timeout=5)
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass
