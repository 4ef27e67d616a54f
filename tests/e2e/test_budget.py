"""budget: { tokens_per_day } — sending stops when the day's tokens are
used, files wait (none fails), and a reload that raises the budget lets
them go.

The endpoint's budget is 300 tokens; 20 files of ~100 bytes each cost
~60 tokens a request with the fake's usage. dropd sends a few, logs
budget.spent once, and /status and /metrics show the budget spent, with
the day's count at most one request over the limit, and what it cost at
budget.cost_per_1k_tokens, and systemd's STATUS= says which budget is
spent. A restart restores the day's count from
state_dir/budgets.json and sends nothing more. SIGHUP with a budget
of 1,000,000 sends the rest: every file ends with a result.

Then `--once` on the same budget: a spent budget heals only at 00:00 UTC,
so --once gives up after --give-up-after like on a paused endpoint: exit
1, once.give_up names the budget, the unsent files stay in the inbox and
none fails.
"""

import http.client
import json
import os
import re
import signal
import tempfile

import dropd_e2e as e2e

LIMIT = 300
PRICE = 0.25  # per 1k tokens: reported, never a limit


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def write(config, root, url, tokens):
    dirs = e2e.write_config(config, root, url, max_in_flight=1)
    with open(config, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("    model: e2e-model\n",
                        f"    model: e2e-model\n    budget: {{ tokens_per_day: {tokens},"
                        f" cost_per_1k_tokens: {PRICE} }}\n")
    text += "status:\n  listen: \"127.0.0.1:0\"\n"
    with open(config, "w", encoding="utf-8") as f:
        f.write(text)
    return dirs


def once_gives_up(work, fake):
    config = os.path.join(work, "once.yaml")
    dirs = write(config, os.path.join(work, "once"), fake.url, LIMIT)
    files = {f"g{i:02}.txt": (f"file {i} " + "words " * 14 + "\n").encode() for i in range(20)}
    e2e.write_files(dirs["inbox"], files)
    res = e2e.run_dropd(["--once", "--config", config, "--give-up-after", "300ms"], timeout=60)
    err = res.stderr.decode("utf-8", "replace")
    e2e.check(res.returncode == 1, f"--once exit {res.returncode}, want 1:\n{err[-2000:]}")
    lines = [l for l in err.splitlines() if "once.give_up" in l]
    e2e.check(len(lines) == 1 and "budget.tokens_per_day" in lines[0],
              f"once.give_up lines: {lines}\n{err[-2000:]}")
    left = e2e.list_files(dirs["inbox"])
    e2e.check(0 < len(left) < len(files), f"{len(left)} files left in the inbox")
    failed = e2e.list_files(dirs["failed"]) if os.path.isdir(dirs["failed"]) else set()
    e2e.check(not failed, f"files failed: {sorted(failed)[:5]}")
    e2e.note(f"--once gave up on the spent budget: {len(left)} files left, none failed")


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-budget-") as work:
        fake = e2e.Fake(work)
        notify = e2e.NotifySocket(work)
        try:
            config = os.path.join(work, "dropd.yaml")
            root = os.path.join(work, "b")
            dirs = write(config, root, fake.url, LIMIT)
            files = {f"f{i:02}.txt": (f"file {i} " + "words " * 14 + "\n").encode()
                     for i in range(20)}
            e2e.write_files(dirs["inbox"], files)
            dropd = e2e.start_dropd(["--config", config], env=dict(os.environ, **notify.env()))
            try:
                line = dropd.stderr.lines[dropd.stderr.wait_for(r"status\.listening address=", 20)]
                port = int(re.search(r":(\d+)", line.split("address=")[1]).group(1))
                dropd.stderr.wait_for(r"budget\.spent scope=endpoint name=fake", 20)
                sent = len(fake.requests())
                e2e.check(0 < sent < len(files), f"{sent} requests before the budget stopped them")
                status, body = get(port, "/status")
                e2e.check(status == 200, f"/status {status}")
                budgets = json.loads(body)["endpoints"][0]["budgets"]
                e2e.check(len(budgets) == 1 and budgets[0]["spent"], f"budgets {budgets}")
                used = budgets[0]["used_today"]
                e2e.check(LIMIT <= used < LIMIT + 120, f"used_today {used}")
                e2e.check(budgets[0]["cost_per_1k_tokens"] == PRICE and
                          abs(budgets[0]["cost_today"] - used / 1000 * PRICE) < 1e-9,
                          f"cost in /status {budgets[0]}")
                status, body = get(port, "/readyz")
                e2e.check(status == 503 and "budget.tokens_per_day" in body,
                          f"/readyz {status} {body}")
                _, metrics = get(port, "/metrics")
                e2e.check('dropd_budget_spent{scope="endpoint",name="fake"} 1' in metrics,
                          "dropd_budget_spent is not 1")
                cost = re.search(r'^dropd_budget_cost\{scope="endpoint",name="fake"\} (\S+)$',
                                 metrics, re.M)
                e2e.check(cost is not None and abs(float(cost.group(1)) - used / 1000 * PRICE) < 1e-6,
                          f"dropd_budget_cost {cost.group(0) if cost else None}")
                e2e.check(not os.listdir(dirs["failed"]) if os.path.isdir(dirs["failed"]) else True,
                          "a file failed while the budget was spent")
                e2e.check(len(fake.requests()) == sent, "sent more while the budget was spent")
                e2e.check(len([l for l in dropd.stderr.lines if "budget.spent" in l]) == 1,
                          "budget.spent logged more than once")
                notify.wait_for(r"^STATUS=.*; budget spent: endpoint fake$", 10)
                e2e.note(f"{sent} requests, then none; {used} tokens used of {LIMIT}")

                # A restart counts on from the saved count: nothing more is sent.
                dropd.signal(signal.SIGTERM)
                e2e.check(dropd.wait(30) == 0, "dropd did not exit 0")
                saved = e2e.load_json(os.path.join(dirs["state"], "budgets.json"))
                e2e.check(saved["used"].get("endpoint:fake") == used, f"budgets.json {saved}")
                dropd = e2e.start_dropd(["--config", config])
                line = dropd.stderr.lines[dropd.stderr.wait_for(r"status\.listening address=", 20)]
                port = int(re.search(r":(\d+)", line.split("address=")[1]).group(1))
                dropd.stderr.wait_for(r"budget\.restored .*tokens=\d+", 20)
                dropd.stderr.wait_for(r"budget\.spent scope=endpoint name=fake", 20)
                e2e.check(len(fake.requests()) == sent,
                          f"{len(fake.requests()) - sent} sent after a restart on a spent budget")
                _, body = get(port, "/status")
                again = json.loads(body)["endpoints"][0]["budgets"][0]
                e2e.check(again["used_today"] == used and again["spent"], f"after restart {again}")
                e2e.note(f"a restart restored {used} tokens from budgets.json and sent nothing")

                write(config, root, fake.url, 1_000_000)
                dropd.signal(signal.SIGHUP)
                e2e.wait_until(lambda: len(e2e.list_files(dirs["done"])) == len(files), 30,
                               "every file done after the reload")
                ok, bad = e2e.check_outcomes(dirs, set(files))
                e2e.check(len(ok) == len(files) and not bad, f"{len(ok)} ok, {len(bad)} failed")
                e2e.note("a reload that raises the budget sends the rest; none failed")
                dropd.signal(signal.SIGTERM)
                e2e.check(dropd.wait(30) == 0, "dropd did not exit 0")
            finally:
                dropd.kill()
            once_gives_up(work, fake)
        finally:
            fake.stop()
            notify.close()


if __name__ == "__main__":
    e2e.run_main("budget", main)
