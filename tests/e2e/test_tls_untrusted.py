#!/usr/bin/python3
"""A certificate that does not verify pauses the endpoint with the reason, at
once and at warning level, like a bad key (issue 13).

dropd-fake-llm serves https with a certificate made here by openssl:
(a) signed by a CA dropd was not told about ("unable to get local issuer
    certificate");
(b) signed by a CA given in tls.ca_file, but for "localhost" only, while
    the URL names 127.0.0.1 ("IP address mismatch").
Each run is `dropd --once --give-up-after 3000ms` on a few files. It must
log `endpoint.paused ... reason="TLS handshake with ...: certificate verify
failed: REASON"` at warning level within 2 s of starting (so within 2 s of
the first attempt, which comes later), exit 1 through the once give-up with
state=paused, leave every file in the inbox and write no record.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401

GIVE_UP_AFTER_MS = 3000
WARN_WITHIN_S = 2.0



def untrusted_run(tmp, label, leaf_san, trust_ca, reason):
    root = os.path.join(tmp, label)
    os.makedirs(root)
    certs = make_certs(os.path.join(root, "certs"), leaf_san)
    fake = Fake(root, extra=["--tls-cert", certs["leaf.pem"], "--tls-key", certs["leaf.key"]])
    try:
        url = fake.url.replace("http://", "https://")
        cfg = os.path.join(root, "dropd.yaml")
        dirs = write_config(cfg, root, url, max_in_flight=4, retry=("3", "50ms", "200ms"))
        if trust_ca:
            with open(cfg, encoding="utf-8") as f:
                text = f.read()
            text = text.replace("    model: e2e-model\n", "    model: e2e-model\n"
                                f"    tls: {{ ca_file: {yq(certs['ca.pem'])} }}\n")
            with open(cfg, "w", encoding="utf-8") as f:
                f.write(text)
        os.makedirs(dirs["inbox"])
        files = {f"f{i}.txt": f"file {i}\n".encode() for i in range(5)}
        write_files(dirs["inbox"], files)
        # No SSL_CERT_FILE/SSL_CERT_DIR from the caller: the system store knows none of ours.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SSL_CERT")}
        started = time.monotonic()
        proc = start_dropd(["--once", "--config", cfg, "--give-up-after", f"{GIVE_UP_AFTER_MS}ms"],
                           cwd=root, env=env)
        try:
            pattern = (r"\bwarn(ing)?\b.*endpoint\.paused endpoint=fake reason=\"TLS handshake with "
                       r"127\.0\.0\.1:\d+: certificate verify failed: " + re.escape(reason) + r"\"")
            try:
                at = proc.stderr.wait_for(pattern, WARN_WITHIN_S)
            except TestFailure:
                raise TestFailure(f"[{label}] no endpoint.paused warning naming {reason!r} within "
                                  f"{WARN_WITHIN_S} s:\n{proc.stderr.text()[-2000:]}")
            warned_after = time.monotonic() - started
            rc = proc.wait(30)
        finally:
            proc.kill()
        err = proc.stderr.text()
        check(rc == 1, f"[{label}] exit {rc}, want 1:\n{err[-2000:]}")
        give_up = [l for l in err.splitlines() if "once.give_up" in l]
        check(len(give_up) == 1 and "state=paused" in give_up[0],
              f"[{label}] want one once.give_up with state=paused:\n{err[-2000:]}")
        check("certificate verify failed" in give_up[0],
              f"[{label}] the give-up line does not say why: {give_up[0]!r}")
        check("breaker_open" not in err, f"[{label}] the breaker opened instead:\n{err[-2000:]}")
        paused = [l for l in err.splitlines() if "endpoint.paused" in l]
        check(len(paused) == 1, f"[{label}] {len(paused)} endpoint.paused lines, want 1")
        check(list_files(dirs["inbox"]) == set(files),
              f"[{label}] inbox changed: {sorted(set(files) ^ list_files(dirs['inbox']))}")
        for folder in ("outbox", "done", "failed"):
            check(not list_files(dirs[folder]),
                  f"[{label}] {folder} not empty: {sorted(list_files(dirs[folder]))[:5]}")
        check(not fake.requests(), f"[{label}] a request got through the handshake")
        note(f"({label}) warned after {warned_after:.2f} s: {proc.stderr.lines[at][-110:]!r}; "
             f"exit 1, {len(files)} files still in the inbox, no records")
    finally:
        fake.stop()


def main():
    require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-tls-") as tmp:
        untrusted_run(tmp, "unknown-ca", "IP:127.0.0.1", False,
                      "unable to get local issuer certificate")
        untrusted_run(tmp, "wrong-address", "DNS:localhost", True, "IP address mismatch")


if __name__ == "__main__":
    run_main("test_tls_untrusted", main)
