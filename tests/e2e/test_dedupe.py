"""dedupe: sha256 — content already answered is not sent again.

A first --once run sends `a.txt`. A second run gets `copy.txt` (same bytes,
another name) and `other.txt`: `copy.txt`'s result says `duplicate_of` the
first result and has no `llm` section, and only `other.txt` is sent. The
hashes came from the ledger at start, so this holds across runs; within one
daemon run a later copy is recognised too. Without dedupe the same copy is
sent. After a prompt edit the same content is sent once more (dedupe
keys on content and prompt version), and later copies point at that new
result.
"""

import json
import os
import signal
import tempfile

import dropd_e2e as e2e


def config_with_dedupe(config, root, url, dedupe, prompt_user="{{path}}\n{{content}}"):
    dirs = e2e.write_config(config, root, url, rescan="0", prompt_user=prompt_user)
    if dedupe:
        with open(config, "a", encoding="utf-8") as f:
            f.write("    dedupe: sha256\n")
    return dirs


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-dedupe-") as work:
        fake = e2e.Fake(work)
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = config_with_dedupe(config, os.path.join(work, "on"), fake.url, True)
            body = b"the same quarterly report\n"
            e2e.write_files(dirs["inbox"], {"a.txt": body})
            first = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(first.returncode == 0, f"first run exit {first.returncode}")
            e2e.check(len(fake.requests()) == 1, f"{len(fake.requests())} requests")

            e2e.write_files(dirs["inbox"], {"sub/copy.txt": body, "other.txt": b"something else\n"})
            second = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(second.returncode == 0, f"second run exit {second.returncode}")
            e2e.check(len(fake.requests()) == 2, f"{len(fake.requests())} requests: a copy was sent")
            ok, bad = e2e.check_outcomes(dirs, {"a.txt", "sub/copy.txt", "other.txt"})
            e2e.check(len(ok) == 3 and not bad, f"{len(ok)} ok, {len(bad)} failed")
            copy = e2e.load_json(os.path.join(dirs["outbox"], "sub/copy.txt.json"))
            e2e.check(copy.get("duplicate_of") == os.path.join(dirs["outbox"], "a.txt.json"),
                      f"duplicate_of {copy.get('duplicate_of')!r}")
            e2e.check("llm" not in copy, "a duplicate's result has an llm section")
            e2e.check(copy["source"]["sha256"] == e2e.sha256(body), "wrong source hash")
            e2e.check("duplicate=true" in second.stderr.decode(), "job.done without duplicate=true")
            e2e.note("a copy in a later run points at the first result, without a request")

            dropd = e2e.start_dropd(["--config", config])
            try:
                dropd.stderr.wait_for(r"daemon\.ready", 10)
                e2e.write_files(dirs["inbox"], {"late.txt": b"new in this run\n"})
                dropd.stderr.wait_for(r'job\.done .*file="late\.txt"', 20)
                e2e.write_files(dirs["inbox"], {"late-copy.txt": b"new in this run\n"})
                line = dropd.stderr.lines[dropd.stderr.wait_for(r'job\.done .*late-copy', 20)]
                e2e.check("duplicate=true" in line, f"not a duplicate: {line!r}")
                e2e.check(len(fake.requests()) == 3, f"{len(fake.requests())} requests")
                dropd.signal(signal.SIGTERM)
                e2e.check(dropd.wait(30) == 0, "dropd did not exit 0")
            finally:
                dropd.kill()
            e2e.note("within one daemon run a later copy is a duplicate too")

            # Another prompt: the earlier answer is no answer to it, so the
            # same content is sent again (dedupe keys on content + version).
            config_with_dedupe(config, os.path.join(work, "on"), fake.url, True,
                               prompt_user="Summarise {{path}}:\n{{content}}")
            e2e.write_files(dirs["inbox"], {"again.txt": body})
            third = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(third.returncode == 0, f"third run exit {third.returncode}")
            e2e.check(len(fake.requests()) == 4,
                      f"{len(fake.requests())} requests: the copy under a new prompt was not sent")
            again = e2e.load_json(os.path.join(dirs["outbox"], "again.txt.json"))
            first_doc = e2e.load_json(os.path.join(dirs["outbox"], "a.txt.json"))
            e2e.check("duplicate_of" not in again and "llm" in again, json.dumps(again)[:200])
            e2e.check(again["prompt_version"] != first_doc["prompt_version"],
                      "the new prompt has the old version")
            e2e.write_files(dirs["inbox"], {"again-copy.txt": body})
            fourth = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(fourth.returncode == 0, f"fourth run exit {fourth.returncode}")
            e2e.check(len(fake.requests()) == 4, f"{len(fake.requests())} requests")
            copy2 = e2e.load_json(os.path.join(dirs["outbox"], "again-copy.txt.json"))
            e2e.check(copy2.get("duplicate_of") == os.path.join(dirs["outbox"], "again.txt.json"),
                      f"duplicate_of {copy2.get('duplicate_of')!r}: not the new version's result")
            e2e.note("a prompt edit: the same content is sent once more, then deduped on it")

            plain = os.path.join(work, "plain.yaml")
            pdirs = config_with_dedupe(plain, os.path.join(work, "off"), fake.url, False)
            e2e.write_files(pdirs["inbox"], {"a.txt": body, "b.txt": body})
            off = e2e.run_dropd(["--config", plain, "--once"])
            e2e.check(off.returncode == 0, f"run without dedupe exit {off.returncode}")
            e2e.check(len(fake.requests()) == 6, f"{len(fake.requests())} requests without dedupe")
            doc = e2e.load_json(os.path.join(pdirs["outbox"], "b.txt.json"))
            e2e.check("duplicate_of" not in doc and "llm" in doc, json.dumps(doc)[:200])
            e2e.note("without dedupe both copies are sent")
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_dedupe", main)
