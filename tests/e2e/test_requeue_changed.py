#!/usr/bin/python3
"""dropd requeue --changed: after a prompt edit, exactly the files it affects run again.

Two pipelines on one fake endpoint: `moved` (on_success: move, 6 files) and
`kept` (on_success: keep, 4 files). A first --once answers all ten; each
result carries the pipeline's `prompt_version`. Then:

1. without an edit, `requeue --changed` finds nothing and the next run
   sends nothing;
2. the `moved` pipeline's user prompt is edited: `--dry-run` says 6 for
   `moved`, 0 for `kept`, and moves nothing; `requeue --changed moved`
   brings the 6 back from done/; the next run sends exactly those 6, each
   once (the fake's request log), under the new version;
3. the endpoint's params change (both pipelines' version): `requeue
   --changed kept` touches the 4 kept sources in place and only they run
   again; `moved` still waits for its own requeue.
"""

import os
import tempfile

import dropd_e2e as e2e

MOVED = {f"m{i}.txt": f"moved file {i}\n".encode() for i in range(6)}
KEPT = {f"k{i}.txt": f"kept file {i}\n".encode() for i in range(4)}


def write_config(path, work, url, moved_prompt, temperature):
    d = {name: os.path.join(work, name) for name in
         ("in-moved", "in-kept", "out", "done", "failed", "state")}
    text = f"""state_dir: {e2e.yq(d['state'])}
log: {{ level: info, format: text }}
endpoints:
  fake:
    url: {e2e.yq(url)}
    model: e2e-model
    params: {{ temperature: {temperature} }}
    limits: {{ max_in_flight: 4 }}
pipelines:
  - name: moved
    watch: [ {e2e.yq(d['in-moved'])} ]
    settle: 0ms
    rescan_interval: 0
    endpoint: fake
    prompt: {{ user: {e2e.yq(moved_prompt)} }}
    output: {{ dir: {e2e.yq(os.path.join(d['out'], 'moved'))} }}
    on_success: {{ action: move, dir: {e2e.yq(d['done'])} }}
    on_failure: {{ action: move, dir: {e2e.yq(d['failed'])} }}
  - name: kept
    watch: [ {e2e.yq(d['in-kept'])} ]
    settle: 0ms
    rescan_interval: 0
    endpoint: fake
    prompt: {{ user: "kept {{{{path}}}}\\n{{{{content}}}}" }}
    output: {{ dir: {e2e.yq(os.path.join(d['out'], 'kept'))} }}
    on_success: {{ action: keep }}
    on_failure: {{ action: move, dir: {e2e.yq(d['failed'])} }}
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return d


def sent_paths(fake, before):
    """The paths of the requests after the first `before` (the prompt starts with them)."""
    return sorted(r["first_words"].split()[1] for r in fake.requests()[before:])


def versions(folder):
    return {e2e.load_json(os.path.join(folder, rel))["prompt_version"]
            for rel in e2e.list_files(folder)}


def run_once(config):
    res = e2e.run_dropd(["--config", config, "--once"])
    e2e.check(res.returncode == 0, f"--once exit {res.returncode}: {res.stderr[-2000:]!r}")


def requeue(config, *args):
    res = e2e.run_dropd(["requeue", "--config", config, "--changed", *args])
    e2e.check(res.returncode == 0, f"requeue {args} exit {res.returncode}: {res.stderr!r}")
    return res.stdout.decode()


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-requeue-changed-") as work:
        fake = e2e.Fake(work)
        try:
            config = os.path.join(work, "dropd.yaml")
            d = write_config(config, work, fake.url, "moved {{path}}\n{{content}}", 0.2)
            e2e.write_files(d["in-moved"], MOVED)
            e2e.write_files(d["in-kept"], KEPT)
            run_once(config)
            e2e.check(len(fake.requests()) == 10, f"{len(fake.requests())} requests, want 10")
            out_moved, out_kept = os.path.join(d["out"], "moved"), os.path.join(d["out"], "kept")
            first_moved, first_kept = versions(out_moved), versions(out_kept)
            e2e.check(len(first_moved) == 1 and len(first_kept) == 1 and first_moved != first_kept,
                      f"one version per pipeline: {first_moved} {first_kept}")

            said = requeue(config)
            e2e.check("pipeline moved: 0 files" in said and "pipeline kept: 0 files" in said, said)
            run_once(config)
            e2e.check(len(fake.requests()) == 10, "a run with no prompt change sent requests")
            e2e.note("no edit: requeue --changed finds 0, the next run sends nothing")

            write_config(config, work, fake.url, "moved2 {{path}}\n{{content}}", 0.2)
            said = requeue(config, "--dry-run")
            e2e.check("pipeline moved: 6 files" in said and "pipeline kept: 0 files" in said and
                      "dry run" in said, said)
            e2e.check(e2e.list_files(d["done"]) == set(MOVED), "--dry-run moved files")
            said = requeue(config, "moved")
            e2e.check("pipeline moved: requeued 6 files" in said and "kept" not in said, said)
            e2e.check(e2e.list_files(d["in-moved"]) == set(MOVED), "not all 6 back in the inbox")
            run_once(config)
            e2e.check(sent_paths(fake, 10) == sorted(MOVED),
                      f"sent after the edit: {sent_paths(fake, 10)}")
            second_moved = versions(out_moved)
            e2e.check(len(second_moved) == 1 and second_moved != first_moved,
                      f"moved's results: {second_moved} (before {first_moved})")
            e2e.check(versions(out_kept) == first_kept, "kept's results changed")
            e2e.note(f"prompt edit: --dry-run says 6/0; the 6 moved files ran again, each once, "
                     f"{first_moved.pop()} -> {second_moved.pop()}")

            write_config(config, work, fake.url, "moved2 {{path}}\n{{content}}", 0.7)
            said = requeue(config, "kept")
            e2e.check("pipeline kept: requeued 4 files" in said, said)
            run_once(config)
            e2e.check(sent_paths(fake, 16) == sorted(KEPT), f"sent: {sent_paths(fake, 16)}")
            e2e.check(len(versions(out_kept)) == 1 and versions(out_kept) != first_kept,
                      "kept's results were not remade")
            said = requeue(config, "--dry-run")
            e2e.check("pipeline moved: 6 files" in said and "pipeline kept: 0 files" in said, said)
            e2e.note("params change: requeue --changed kept re-ran the 4 kept files in place; "
                     "moved still says 6")
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_requeue_changed", main)
