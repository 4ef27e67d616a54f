"""dropd with ledger.backend: postgres, against a real server it starts.

A first --once run over kept files sends each once and leaves one row per
file in dropd_jobs; a second run sends nothing (each file is looked up in
PostgreSQL). With the server stopped, a third run waits (ledger.postgres_down)
instead of failing, and finishes the new files once the server is back; a
daemon whose server stops under it holds new files until it is back. The
password given as ledger.password never appears in dropd's output.
"""

import os
import random
import re
import signal
import tempfile

import dropd_e2e as e2e
from pg_cluster import PgCluster

FILES = 40
PASSWORD = "pg-password-never-logged"


def results(outbox):
    return {rel for rel in e2e.list_files(outbox) if rel.endswith(".json")}


def main():
    e2e.require_binaries()
    rng = random.Random(16)
    with tempfile.TemporaryDirectory(prefix="dropd-pg-e2e-") as work, PgCluster() as pg:
        fake = e2e.Fake(work)
        try:
            url = pg.create_database("dropd_e2e")
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, on_success="keep", on_failure="keep")
            with open(config, "a") as f:
                f.write(f"ledger:\n  backend: postgres\n  url: {e2e.yq(url)}\n"
                        "  password: { env: DROPD_E2E_PG_PASSWORD }\n")
            env = dict(os.environ, DROPD_E2E_PG_PASSWORD=PASSWORD)
            files = {f"d{i % 3}/f{i:03d}.txt": e2e.english_text(rng, 20) for i in range(FILES)}
            e2e.write_files(dirs["inbox"], files)

            first = e2e.run_dropd(["--config", config, "--once"], env=env)
            out = (first.stdout + first.stderr).decode("utf-8", "replace")
            e2e.check(first.returncode == 0, f"first run exit {first.returncode}: {out[-1500:]!r}")
            e2e.check(len(fake.requests()) == FILES, f"first run sent {len(fake.requests())}")
            e2e.check(len(results(dirs["outbox"])) == FILES, "one record per file")
            rows = pg.psql("dropd_e2e", "SELECT count(*) FROM dropd_jobs WHERE state = 1")
            e2e.check(rows == str(FILES), f"{rows} done rows in dropd_jobs")
            e2e.check(re.search(r"ledger\.open backend=postgres .*schema=6 instance=\S+:\d+:\d+",
                                out) is not None, "the instance's name is said")
            e2e.note(f"{FILES} files sent once, {rows} rows in PostgreSQL")

            second = e2e.run_dropd(["--config", config, "--once"], env=env)
            out += (second.stdout + second.stderr).decode("utf-8", "replace")
            e2e.check(second.returncode == 0, f"second run exit {second.returncode}")
            e2e.check(len(fake.requests()) == FILES,
                      f"second run sent {len(fake.requests()) - FILES}")
            e2e.note("a second run looks every file up in PostgreSQL and sends nothing")

            e2e.write_files(dirs["inbox"], {f"new/n{i}.txt": e2e.english_text(rng, 10)
                                            for i in range(5)})
            pg.stop()
            third = e2e.start_dropd(["--config", config, "--once"], env=env)
            try:
                third.stderr.wait_for(r"ledger\.postgres_down", 20)
                e2e.check(len(fake.requests()) == FILES, "sent while the ledger was down")
                pg.start()
                code = third.wait(30)
            finally:
                third.kill()
            out += third.stderr.text() + third.stdout.text()
            e2e.check(code == 0, f"third run exit {code}: {third.stderr.text()[-1500:]!r}")
            e2e.check(len(fake.requests()) == FILES + 5,
                      f"third run sent {len(fake.requests()) - FILES}")
            e2e.check("ledger.postgres_up" in out, "the way back is said")
            e2e.note("with the server stopped dropd waited, then sent the 5 new files")
            # Mid-run: a daemon with the server stopped under it. New files
            # wait for the ledger's word (never sent without it); once the
            # server is back they are sent, each once.
            daemon = e2e.start_dropd(["--config", config], env=env)
            try:
                daemon.stderr.wait_for(r"daemon\.ready", 20)  # its start's scan is done
                sent = len(fake.requests())
                pg.stop()
                e2e.write_files(dirs["inbox"], {f"late/l{i}.txt": e2e.english_text(rng, 10)
                                                for i in range(5)})
                at = daemon.stderr.wait_for(r"ledger\.postgres_down", 20)
                e2e.check(len(fake.requests()) == sent, "sent while the ledger was down")
                pg.start()
                daemon.stderr.wait_for(r"ledger\.postgres_up", 20, start=at)
                e2e.wait_until(lambda: len(fake.requests()) == sent + 5, 20, "the 5 late files")
                e2e.wait_until(lambda: len(results(dirs["outbox"])) == FILES + 10, 20,
                               "their records")
            finally:
                daemon.signal(signal.SIGTERM)
                code = daemon.wait(20)
                daemon.kill()
            out += daemon.stderr.text() + daemon.stdout.text()
            e2e.check(code == 0, f"daemon exit {code}")
            e2e.check(len(fake.requests()) == sent + 5, "a late file was sent twice")
            e2e.note("a daemon with the server stopped under it: the late files waited, then "
                     "went once each")
            e2e.check(PASSWORD not in out, "the password appeared in dropd's output")
            e2e.note("the password never appears in dropd's output")
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_ledger_postgres", main)
