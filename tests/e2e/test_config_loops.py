"""Pipelines that feed each other in a loop fail `dropd --check-config`.

Issue 10: pipeline a wrote into b's inbox and b into a's; the config passed
and one file became 46 requests in 5 s. Now `--check-config` exits 2 with
one error naming the loop, the key that closes it and its file:line:col:

- a two-pipeline loop written plainly;
- the same loop where a's output is a symlink to b's inbox;
- a chain (a's results are b's inbox) still passes.
"""

import os
import tempfile

import dropd_e2e as e2e


def write(path, state, pipelines):
    lines = [f"state_dir: {e2e.yq(state)}",
             "endpoints: { e: { url: \"http://127.0.0.1:9/v1/chat/completions\" } }",
             "pipelines:"]
    for name, watch, out in pipelines:
        lines.append(f"  - {{ name: {name}, endpoint: e, watch: [{e2e.yq(watch)}], "
                     f"output: {{ dir: {e2e.yq(out)} }} }}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def check_refused(name, config, closing_line, closing_key):
    out = e2e.run_dropd(["--check-config", "--config", config])
    err = out.stderr.decode()
    e2e.check(out.returncode == 2, f"[{name}] exit {out.returncode}, want 2: {err!r}")
    lines = [line for line in err.splitlines() if line.strip()]
    e2e.check(len(lines) == 1, f"[{name}] want one error line, got {lines!r}")
    e2e.check(lines[0].startswith(f"{config}:{closing_line}:"),
              f"[{name}] the error does not point at line {closing_line}: {lines[0]!r}")
    e2e.check(f": {closing_key}: " in lines[0], f"[{name}] the error does not name {closing_key}")
    e2e.check('pipelines "a" -> "b" -> "a"' in lines[0], f"[{name}] no loop named: {lines[0]!r}")
    e2e.note(f"{name}: exit 2, {lines[0][len(config):]}")


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-config-loops-") as work:
        state = os.path.join(work, "state")
        a_in, b_in = os.path.join(work, "a-in"), os.path.join(work, "b-in")
        config = os.path.join(work, "loop.yaml")

        write(config, state, [("a", a_in, b_in), ("b", b_in, a_in)])
        check_refused("plain loop", config, 5, "pipelines[1].output.dir")

        os.makedirs(b_in)
        link = os.path.join(work, "to-b")
        os.symlink(b_in, link)
        write(config, state, [("a", a_in, os.path.join(link, "results")), ("b", b_in, a_in)])
        check_refused("loop through a symlink", config, 5, "pipelines[1].output.dir")

        write(config, state, [("a", a_in, b_in), ("b", b_in, os.path.join(work, "out"))])
        out = e2e.run_dropd(["--check-config", "--config", config])
        e2e.check(out.returncode == 0, f"chain: exit {out.returncode}: {out.stderr!r}")
        e2e.check(out.stdout.decode().startswith("config OK: 2 pipelines"), out.stdout)
        e2e.check(not os.path.exists(state), "--check-config created the state_dir")
        e2e.note("a chain passes --check-config and touches no state_dir")


if __name__ == "__main__":
    e2e.run_main("test_config_loops", main)
