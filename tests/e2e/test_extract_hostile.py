#!/usr/bin/python3
"""Hostile documents through the running daemon (issue 14, "Hostile input").

test_extract_formats feeds each hostile file to dropd-extract alone; this
one drops them all at once into the inbox of a running dropd (daemon mode,
`extract:` with OCR on) next to one good text file, and checks what an operator
sees: each file ends as exactly one record (`extract` or `skipped`, with a
reason) or, for the good one, a result; dropd is still running and
answering afterwards; and its own memory did not follow the files' sizes.

The set: a truncated PDF; a zip bomb as DOCX (80 MiB inflated); billion
laughs in a DOCX; a PNG header claiming 30,000 x 30,000 pixels; MIME nested
100 deep; two PDFs that loop (a page tree that is its own kid, and one
whose /Pages claim two billion pages through kids that point back up; the
xref's /Prev pointing at itself too); and 64 MiB of random bytes (no
extractor reads it: skipped), which dropd must measure (sha256 in the
record) without holding it: its peak RSS may grow by 24 MiB at most over
the idle daemon's.
"""

import os
import random
import signal
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dropd_e2e as e2e  # noqa: E402
import make_documents as md  # noqa: E402

EXTRACT_BIN = os.path.join(e2e.BINARY_DIR, "daemon", "dropd-extract")
BIG_BYTES = 64 << 20
GROWTH_LIMIT = 24 << 20
KIB = 1024


def looping_pdfs():
    stream = b"BT /F1 18 Tf 72 720 Td (loop text) Tj ET"
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>")
    content = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    own_kid = md.pdf_of([catalog, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", page, content,
                      font], prev_self=True)
    upward = md.pdf_of([catalog, b"<< /Type /Pages /Kids [6 0 R 6 0 R] /Count 2000000000 >>", page,
                     content, font,
                     b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 6 0 R 3 0 R] /Count 1000000000 >>"])
    return own_kid, upward


def hostile_files(tmp):
    files = md.hostile_documents(tmp)
    files["loop-kids.pdf"], files["loop-up.pdf"] = looping_pdfs()
    files["random.bin"] = random.Random(5).randbytes(BIG_BYTES)
    return files


EXPECTED_KIND = {"truncated.pdf": "extract", "bomb.docx": "extract", "laughs.docx": "extract",
                 "huge.png": "extract", "deep.eml": "extract", "loop-up.pdf": "extract",
                 "random.bin": "skipped"}
# A page tree that is its own kid: poppler notices the loop and reads the
# one real page, so the text is there and the file is done, sent once.
EXPECTED_DONE = {"good.txt", "loop-kids.pdf"}


def main():
    e2e.require_binaries()
    e2e.check(os.access(EXTRACT_BIN, os.X_OK), f"not executable: {EXTRACT_BIN}")
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-hostile-") as work:
        fake = e2e.Fake(work, extra=["--echo-content"])
        dropd = None
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, prompt_user="{{content}}",
                                    max_file_size="96MiB")
            with open(config, "a", encoding="utf-8") as f:
                f.write("    extract: { helpers: 2, ocr: true, timeout: 30s, memory: 512MiB }\n")
            os.makedirs(dirs["inbox"])
            staging = os.path.join(work, "staging")
            files = hostile_files(work)
            files["good.txt"] = b"A good file among hostile ones.\n"
            e2e.write_files(staging, files)

            env = dict(os.environ, DROPD_EXTRACT_PROGRAM=EXTRACT_BIN)
            dropd = e2e.start_dropd(["--config", config], cwd=work, env=env)
            dropd.stderr.wait_for(r"daemon\.ready", 20)
            idle = e2e.proc_status(dropd.pid)["VmHWM"]
            for name in files:  # renamed in whole: never seen half-written
                os.rename(os.path.join(staging, name), os.path.join(dirs["inbox"], name))

            def finished():  # the record and the source's move, for every file
                failed = e2e.list_files(dirs["failed"])
                outbox = e2e.list_files(dirs["outbox"])
                done = e2e.list_files(dirs["done"])
                return (all(n + ".error.json" in failed and n in failed for n in EXPECTED_KIND) and
                        all(n + ".json" in outbox and n in done for n in EXPECTED_DONE))
            e2e.wait_until(finished, 120, "an outcome for every file")
            e2e.check(dropd.popen.poll() is None, "dropd exited: " + dropd.stderr.text()[-2000:])
            peak = e2e.proc_status(dropd.pid)["VmHWM"]

            ok, bad = e2e.check_outcomes(dirs, files)
            e2e.check(ok == EXPECTED_DONE and bad == set(EXPECTED_KIND), f"ok {ok}, failed {bad}")
            for name, kind in EXPECTED_KIND.items():
                record = e2e.load_json(os.path.join(dirs["failed"], name + ".error.json"))
                error = record["error"]
                e2e.check(error["kind"] == kind and error["message"],
                          f"{name}: want kind {kind}, got {error}")
                e2e.note(f"{name}: {error['kind']}: {error['message']}")
            big = e2e.load_json(os.path.join(dirs["failed"], "random.bin.error.json"))
            e2e.check(big["source"]["sha256"] == e2e.sha256(files["random.bin"]),
                      f"random.bin: sha256 {big['source']}")
            sent = [e2e.load_json(os.path.join(dirs["outbox"], n + ".json")) for n in EXPECTED_DONE]
            e2e.check(all(r["llm"]["content"].strip() for r in sent), f"empty content sent: {sent}")
            e2e.check(len(fake.requests()) == len(EXPECTED_DONE),
                      f"{len(fake.requests())} requests, want {len(EXPECTED_DONE)}")

            growth = (peak - idle) * KIB
            e2e.check(growth < GROWTH_LIMIT,
                      f"dropd's peak RSS grew by {growth / (1 << 20):.1f} MiB over idle "
                      f"({idle / KIB:.1f} -> {peak / KIB:.1f} MiB) with a {BIG_BYTES >> 20} MiB "
                      f"file to measure; want < {GROWTH_LIMIT >> 20} MiB")
            e2e.note(f"dropd VmHWM idle {idle / KIB:.1f} MiB, after the hostile set "
                     f"{peak / KIB:.1f} MiB (a {BIG_BYTES >> 20} MiB binary measured, not held)")

            # Still answering: a new file after the storm is done.
            e2e.write_files(staging, {"after.txt": b"Still here.\n"})
            os.rename(os.path.join(staging, "after.txt"), os.path.join(dirs["inbox"], "after.txt"))
            e2e.wait_until(lambda: "after.txt.json" in e2e.list_files(dirs["outbox"]), 30,
                           "a result for a file dropped after the hostile ones")
            dropd.signal(signal.SIGTERM)
            e2e.check(dropd.wait(20) == 0, "dropd did not exit 0 on SIGTERM")
            e2e.note("every hostile file ended as one record with a reason; dropd kept running")
        finally:
            if dropd is not None:
                dropd.kill()
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("test_extract_hostile", main)
