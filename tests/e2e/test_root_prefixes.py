"""Two watched roots with the same folder name keep their files apart.

Issue 10: a pipeline watching r1/x and r2/x gave both roots the prefix
"x/", so `same.txt` of each got the same `source.path` and the results
collided. Now each root's prefix is the shortest run of trailing folders no
other root shares ("r1/x/", "r2/x/", docs/pipeline.md):

- `--once` with one `same.txt` in each root gives two results, with
  different `source.path`s, each naming (size, sha256) the file it came from;
  the sources move to done/r1/x/ and done/r2/x/;
- a binary file of r2/x fails into failed/r2/x/, and `requeue --failed`
  moves it back to r2/x, where it came from.
"""

import os
import tempfile

import dropd_e2e as e2e


def main():
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-root-prefixes-") as work:
        fake = e2e.Fake(work)
        try:
            roots = {"r1/x": os.path.join(work, "r1", "x"), "r2/x": os.path.join(work, "r2", "x")}
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, watch=list(roots.values()))
            contents = {"r1/x": b"first root\n", "r2/x": b"the second root, longer\n"}
            for prefix, root in roots.items():
                e2e.write_files(root, {"same.txt": contents[prefix]})
            e2e.write_files(roots["r2/x"], {"bad.bin": b"a\0b"})
            run = e2e.run_dropd(["--config", config, "--once"])
            e2e.check(run.returncode == 3, f"--once exit {run.returncode}: {run.stderr[-800:]!r}")
            e2e.check(e2e.list_files(dirs["outbox"]) == {"r1/x/same.txt.json", "r2/x/same.txt.json"},
                      f"results: {sorted(e2e.list_files(dirs['outbox']))}")
            for prefix, data in contents.items():
                record = e2e.load_json(os.path.join(dirs["outbox"], prefix, "same.txt.json"))
                source = record["source"]
                e2e.check(source["path"] == f"{prefix}/same.txt", f"source.path {source['path']!r}")
                e2e.check(source["size"] == len(data), f"{prefix}: size {source['size']}")
                e2e.check(source.get("sha256", e2e.sha256(data)) == e2e.sha256(data),
                          f"{prefix}: the result names another file")
                with open(os.path.join(dirs["done"], prefix, "same.txt"), "rb") as f:
                    e2e.check(f.read() == data, f"done/{prefix}/same.txt is not that root's file")
            e2e.note("two results, source.path r1/x/same.txt and r2/x/same.txt, each its own file")

            e2e.check(e2e.list_files(dirs["failed"]) == {"r2/x/bad.bin", "r2/x/bad.bin.error.json"},
                      f"failed: {sorted(e2e.list_files(dirs['failed']))}")
            out = e2e.run_dropd(["requeue", "--config", config, "--failed"])
            e2e.check(out.returncode == 0, f"requeue exit {out.returncode}: {out.stderr!r}")
            e2e.check(e2e.list_files(roots["r2/x"]) == {"bad.bin"},
                      f"r2/x after requeue: {sorted(e2e.list_files(roots['r2/x']))}")
            e2e.check(not e2e.list_files(roots["r1/x"]), "requeue put a file into r1/x")
            e2e.note("requeue --failed moved failed/r2/x/bad.bin back to r2/x")
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_root_prefixes", main)
