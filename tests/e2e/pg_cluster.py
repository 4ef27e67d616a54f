"""A throwaway PostgreSQL cluster for e2e tests (../shared/design/TEST-SERVERS.md).

initdb in a temp folder owned by the postgres user (initdb and postgres refuse
root), the server on 127.0.0.1 and a port that was free, trust authentication
for user "dropd". stop() is pg_ctl stop (the postmaster's pid file); start()
brings it back on the same port. Use as a context manager.
"""

import os
import pwd
import shutil
import subprocess
import tempfile

import dropd_e2e as e2e

BIN = "/usr/lib/postgresql/15/bin"


def _as_postgres(argv):
    return ["runuser", "-u", "postgres", "--"] + argv if os.geteuid() == 0 else argv


class PgCluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dropd-pg-")
        os.chmod(self.dir, 0o711)  # the postgres user must reach it
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.port = e2e.closed_port()
        self.running = False
        done = subprocess.run(_as_postgres([f"{BIN}/initdb", "-D", f"{self.dir}/data", "-A",
                                            "trust", "-U", "dropd", "-E", "UTF8", "--locale=C",
                                            "--no-sync"]),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        e2e.check(done.returncode == 0, f"initdb: {done.stdout[-1500:]!r}")
        self.start()

    def start(self):
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")
        done = subprocess.run(_as_postgres([f"{BIN}/pg_ctl", "-D", f"{self.dir}/data", "-l",
                                            f"{self.dir}/server.log", "-w", "-o", opts, "start"]),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        e2e.check(done.returncode == 0, f"pg_ctl start: {done.stdout[-1500:]!r}")
        self.running = True

    def stop(self):
        if self.running:
            subprocess.run(_as_postgres([f"{BIN}/pg_ctl", "-D", f"{self.dir}/data", "-m", "fast",
                                         "-w", "stop"]), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            self.running = False

    def url(self, dbname):
        return f"hostaddr=127.0.0.1 port={self.port} user=dropd dbname={dbname}"

    def psql(self, dbname, sql):
        """Runs SQL; returns its output's stripped text (unaligned, tuples only)."""
        done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                               "127.0.0.1", "-p", str(self.port), "-U", "dropd", "-d", dbname,
                               "-c", sql], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        e2e.check(done.returncode == 0, f"psql {sql!r}: {done.stderr[-500:]!r}")
        return done.stdout.decode().strip()

    def create_database(self, name):
        self.psql("postgres", f"CREATE DATABASE {name}")
        return self.url(name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
