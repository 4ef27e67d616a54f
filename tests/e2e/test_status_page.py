#!/usr/bin/python3
"""The status page (GET /) in a real browser while files are processed.

dropd runs as a daemon with `status.listen` on a free loopback port;
dropd-fake-llm answers every request after 300 ms and refuses the one
file mentioning BADFILE with a 400. Headless Chromium (chromium_cdp.py,
started here and stopped by pid) opens / before the files are written.
Checks: #done-e2e counts up live (several values seen on the way) to
the number of good files, #failed-e2e reaches 1, #failures holds the
400's reason, #endpoints names the endpoint, no script error; then with
a token the page opened as /?token=T still gets its counts, and a
request without the token gets 401. The screenshot goes to
$DROPD_BINARY_DIR/status_page.png.
"""

import json
import os
import signal
import sys
import tempfile
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401
from chromium_cdp import Chromium  # noqa: E402

GOOD = 16
READ_PAGE = """JSON.stringify({
  done: (document.getElementById("done-e2e") || {}).textContent || null,
  failed: (document.getElementById("failed-e2e") || {}).textContent || null,
  failures: document.getElementById("failures").textContent,
  endpoints: document.getElementById("endpoints").textContent,
  latency: document.querySelectorAll("#chart-latency circle").length,
  conn: document.getElementById("conn").textContent})"""


def status_config(tmp, url, port, token_env=None):
    cfg = os.path.join(tmp, "dropd.yaml")
    # One at a time and slow: the page polls /status every 2 s and counts
    # /events' done and failed between polls; it must see the count on its way up.
    dirs = write_config(cfg, tmp, url, max_in_flight=1)
    token = f", token: {{ env: {token_env} }}" if token_env else ""
    with open(cfg, "a", encoding="utf-8") as f:
        f.write(f'status: {{ listen: "127.0.0.1:{port}"{token} }}\n')
    os.makedirs(dirs["inbox"])
    return cfg, dirs


def get(port, path, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None, b""


def wait_healthy(port, token=None):
    wait_until(lambda: get(port, "/healthz", token)[0] == 200, 15, f"/healthz on port {port}")


def stop_all(browser, dropd, fake):
    """Ends what a scenario started (any may be None but the fake), by pid."""
    if browser:
        browser.close()
    if dropd:
        dropd.signal(signal.SIGTERM)
        dropd.wait(15)
        dropd.kill()
    fake.stop()


def read_page(browser):
    # None until the page has loaded (the elements are not there yet).
    value = browser.eval(READ_PAGE)
    return json.loads(value) if value else {"done": None, "failed": None, "failures": "",
                                            "endpoints": "", "latency": 0, "conn": ""}


def scenario_live(tmp):
    fake = Fake(tmp, faults=["delay=500ms", "status=400,match=BADFILE"])
    port = closed_port()
    cfg, dirs = status_config(tmp, fake.url, port)
    dropd = browser = None
    try:
        dropd = start_dropd(["--config", cfg], cwd=tmp)
        wait_healthy(port)
        browser = Chromium(os.path.join(tmp, "chromium"))
        browser.open(f"http://127.0.0.1:{port}/")
        wait_until(lambda: read_page(browser)["done"] == "0", 15, "the page's first /status")
        note("the page shows done 0 before any file")
        files = {f"f{i:02}.txt": english_text(random.Random(i), 80) for i in range(GOOD)}
        files["bad.txt"] = b"this file mentions BADFILE so the endpoint refuses it\n"
        write_files(dirs["inbox"], files)
        seen = set()

        def finished():
            page = read_page(browser)
            seen.add(page["done"])
            return page["done"] == str(GOOD) and page["failed"] == "1" and "400" in page["failures"]
        wait_until(finished, 60, f"the page to show done {GOOD}, failed 1 and the 400", interval=0.1)
        page = read_page(browser)
        live = sorted(int(v) for v in seen if v and v.isdigit() and 0 < int(v) < GOOD)
        check(len(live) >= 2, f"done counts seen on the way: {sorted(seen)}: the page is not live")
        check("fake fault: status 400" in page["failures"] and "bad.txt" in page["failures"],
              f"#failures lacks the reason: {page['failures']!r}")
        check("fake" in page["endpoints"], f"#endpoints lacks the endpoint: {page['endpoints']!r}")
        # Each file's time in `sending` (from /events) is one dot of the
        # latency chart, drawn at the next poll.
        wait_until(lambda: read_page(browser)["latency"] >= GOOD + 1, 10,
                   f"{GOOD + 1} requests on the latency chart")
        check("live" in read_page(browser)["conn"], f"conn: {read_page(browser)['conn']!r}")
        check(not browser.exceptions(), f"script errors: {browser.exceptions()}")
        shot = os.path.join(BINARY_DIR, "status_page.png")
        browser.screenshot(shot)
        check(os.path.getsize(shot) > 1000, f"screenshot {shot} is empty")
        note(f"done counted up live through {live}, failure reason shown; screenshot {shot}")
    finally:
        stop_all(browser, dropd, fake)


def scenario_token(tmp):
    fake = Fake(tmp)
    port = closed_port()
    cfg, dirs = status_config(tmp, fake.url, port, token_env="DROPD_E2E_STATUS_TOKEN")
    token = "t0k3n-e2e"
    dropd = browser = None
    try:
        dropd = start_dropd(["--config", cfg], cwd=tmp,
                            env=dict(os.environ, DROPD_E2E_STATUS_TOKEN=token))
        wait_healthy(port, token)
        check(get(port, "/")[0] == 401, "GET / without the token was not refused with 401")
        write_files(dirs["inbox"], {f"t{i}.txt": b"token run\n" for i in range(3)})
        browser = Chromium(os.path.join(tmp, "chromium-token"))
        browser.open(f"http://127.0.0.1:{port}/?token={token}")
        wait_until(lambda: read_page(browser)["done"] == "3", 30, "the page with ?token= to show done 3")
        wait_until(lambda: "live" in read_page(browser)["conn"], 10, "/events live with ?token=")
        note("with a token: 401 without it, the page with ?token= shows its counts, live")
    finally:
        stop_all(browser, dropd, fake)


def main():
    require_binaries()
    check(os.access("/usr/bin/chromium", os.X_OK), "chromium is not installed (scripts/bootstrap)")
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-page-") as tmp:
        for name, scenario in (("live", scenario_live), ("token", scenario_token)):
            os.makedirs(os.path.join(tmp, name))
            scenario(os.path.join(tmp, name))


if __name__ == "__main__":
    run_main("test_status_page", main)
