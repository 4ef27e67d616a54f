"""dropd requeue with ledger.backend: postgres: the fleet's ledger is the
one requeue forgets rows in.

A --once run over 12 files (moved to done/) leaves 12 rows in dropd_jobs,
each with the prompt version its result was made under. `requeue
--changed` without an edit finds none; after a prompt edit it brings the
12 sources back from done/ and forgets their rows, and the next run sends
each once, its rows now of the new version. Plain `requeue d1` forgets
that folder's rows (4) in PostgreSQL. With the server stopped, requeue
says why and exits 1 instead of waiting for ever.
"""

import os
import random
import re
import tempfile

import dropd_e2e as e2e
from pg_cluster import PgCluster

FILES = 12
PASSWORD = "pg-requeue-password"


def write(config, work, url, pg_url, prompt):
    dirs = e2e.write_config(config, work, url, prompt_user=prompt)
    with open(config, "a") as f:
        f.write(f"ledger:\n  backend: postgres\n  url: {e2e.yq(pg_url)}\n"
                "  password: { env: DROPD_E2E_PG_PASSWORD }\n"
                "  lease: 5s\n")
    return dirs


def main():
    e2e.require_binaries()
    rng = random.Random(15)
    env = dict(os.environ, DROPD_E2E_PG_PASSWORD=PASSWORD)
    with tempfile.TemporaryDirectory(prefix="dropd-requeue-pg-") as work, PgCluster() as pg:
        fake = e2e.Fake(work)
        try:
            pg_url = pg.create_database("dropd_requeue")
            config = os.path.join(work, "dropd.yaml")
            dirs = write(config, work, fake.url, pg_url, "{{path}}\n{{content}}")
            files = {f"d{i % 3}/f{i:02d}.txt": e2e.english_text(rng, 12) for i in range(FILES)}
            e2e.write_files(dirs["inbox"], files)

            def once():
                res = e2e.run_dropd(["--config", config, "--once"], env=env)
                e2e.check(res.returncode == 0, f"--once exit {res.returncode}: {res.stderr[-1500:]!r}")

            def requeue(*args, code=0):
                res = e2e.run_dropd(["requeue", "--config", config, *args], env=env, timeout=60)
                out = (res.stdout + res.stderr).decode("utf-8", "replace")
                e2e.check(res.returncode == code, f"requeue {args} exit {res.returncode}: {out!r}")
                e2e.check(PASSWORD not in out, "the password in requeue's output")
                return out

            once()
            e2e.check(len(fake.requests()) == FILES, f"{len(fake.requests())} requests")
            first = pg.psql("dropd_requeue", "SELECT DISTINCT prompt_version FROM dropd_jobs")
            e2e.check(re.fullmatch(r"p1-[0-9a-f]{16}", first) is not None, f"versions {first!r}")

            out = requeue("--changed")
            e2e.check(" 0 files answered under another prompt version" in out, out)
            e2e.note("without an edit requeue --changed finds none")

            write(config, work, fake.url, pg_url, "Summarise {{path}}:\n{{content}}")
            out = requeue("--changed")
            e2e.check(f" {FILES} files answered under another prompt version" in out and
                      f"requeued {FILES} files" in out, out)
            e2e.check(len(e2e.list_files(dirs["inbox"])) == FILES, "sources not back in the inbox")
            once()
            e2e.check(len(fake.requests()) == 2 * FILES,
                      f"{len(fake.requests()) - FILES} sent after the edit, want {FILES}")
            now = pg.psql("dropd_requeue", "SELECT DISTINCT prompt_version FROM dropd_jobs")
            e2e.check(re.fullmatch(r"p1-[0-9a-f]{16}", now) is not None and now != first,
                      f"versions after the re-run {now!r}")
            e2e.note(f"after a prompt edit: {FILES} sources back from done/, each sent once, "
                     "their rows of the new version")

            out = requeue(os.path.join(dirs["inbox"], "d1"))
            e2e.check("forgot 4 ledger rows" in out, out)
            rows = pg.psql("dropd_requeue", "SELECT count(*) FROM dropd_jobs")
            e2e.check(rows == str(FILES - 4), f"{rows} rows left")
            e2e.note("plain requeue forgets a folder's rows in PostgreSQL")

            pg.stop()
            out = requeue("--changed", code=1)
            e2e.check("did not answer within" in out, out)
            e2e.note("with the server stopped requeue exits 1 and says why: "
                     + out.strip().splitlines()[-1])
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_requeue_postgres", main)
