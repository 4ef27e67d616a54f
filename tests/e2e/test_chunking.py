"""chunking: { max_tokens, map, reduce } — a document longer than the model's context.

A 2 MB text goes to dropd-fake-llm with --context-tokens 4096, through a
pipeline with chunking max_tokens 3000: every request the fake logged is
within 4096 tokens (the fake's own count, dropd's estimate over all
messages plus OpenAI's per-message tokens) and none got a 400; the result's
llm.content is the fake's answer to a REDUCE request and llm.chunks lists
every map and reduce request with its usage.

Crash and restart: the document holds a marker word in one chunk, about
40% in, and the first fake hangs the request that carries it (`--fault
hang,match=...`). When that request shows in the fake's log, dropd is
SIGKILLed (every chunk before the marker has been answered by then), and
started again against a second fake without the fault. Asserted from the
two request logs: the second run sends no map request whose content the
first run got an answer for, except at most the last one answered before
the kill (its ledger write runs beside the next request and may have been
cut off); the hung chunk is sent again; the result lists the chunks
answered before as reused.

The crash and restart run twice: with the SQLite ledger and with
PostgreSQL (a throwaway cluster, tests/e2e/pg_cluster.py); after the
record no chunk answer is left in either.

Also: an HTML page through dropd-extract is chunked by its text; with
output.schema only the final reduce is asked for JSON (the
fake's log marks what it answered in JSON) and llm.json is its value; and
the same document through a pipeline without chunking fails with kind
context_length, its message saying to set chunking.
"""

import collections
import json
import os
import random
import signal
import sqlite3
import tempfile
import time

import dropd_e2e as e2e
from pg_cluster import PgCluster

CONTEXT = 4096
MAX_TOKENS = 3000
MARKER = "zqxmarkerzqx"


def make_document(rng, target_bytes):
    paragraphs = []
    size = 0
    while size < target_bytes:
        p = e2e.english_text(rng, rng.randint(40, 160)).decode("utf-8").strip()
        paragraphs.append(p)
        size += len(p.encode("utf-8")) + 2
    at = len(paragraphs) * 2 // 5
    paragraphs[at] = paragraphs[at] + " " + MARKER
    return "\n\n".join(paragraphs).encode("utf-8")


def chunk_config(path, root, url, chunking=True, ledger_yaml="", schema=None, extra=""):
    dirs = e2e.write_config(path, root, url, max_in_flight=4, max_file_size="8MiB",
                            prompt_user="{{content}}")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if schema:
        outbox = e2e.yq(dirs["outbox"])
        text = text.replace(f"output: {{ dir: {outbox} }}",
                            f"output: {{ dir: {outbox}, schema: {e2e.yq(schema)} }}")
    text += extra
    if chunking:
        text += (f"    chunking:\n"
                 f"      max_tokens: {MAX_TOKENS}\n"
                 f"      map: {{ system: \"Summarize this part.\", user: \"MAP {{{{content}}}}\" }}\n"
                 f"      reduce: {{ system: \"Combine.\", user: \"REDUCE {{{{content}}}}\" }}\n")
    text += ledger_yaml
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return dirs


def kind_of(entry):
    words = entry.get("first_words", "")
    return words.split(" ", 1)[0] if words else ""


def check_within_context(entries, tag):
    over = [e for e in entries if e.get("tokens", 0) > CONTEXT or e["status"] == 400]
    e2e.check(not over, f"[{tag}] {len(over)} requests over the context: {over[:2]}")
    return max(e["tokens"] for e in entries)


def run_unchunked(work, fake, document):
    config = os.path.join(work, "plain.yaml")
    dirs = chunk_config(config, os.path.join(work, "plain"), fake.url, chunking=False)
    e2e.write_files(dirs["inbox"], {"long.txt": document[:200_000]})
    res = e2e.run_dropd(["--config", config, "--once"], timeout=60)
    e2e.check(res.returncode == 3, f"unchunked: exit {res.returncode}: {res.stderr.decode()[-1500:]}")
    record = e2e.load_json(os.path.join(dirs["failed"], "long.txt.error.json"))
    error = record["error"]
    e2e.check(error["kind"] == "context_length", f"unchunked: error {error}")
    e2e.check("set chunking, docs/chunking.md" in error["message"], f"unchunked: {error['message']}")
    e2e.note(f"unchunked: failed with context_length: {error['message'][:120]}...")


def crash_and_restart(work, document, tag, ledger_yaml="", chunks_left=None, env=None):
    """Run 1 hangs on the marker's chunk and is SIGKILLed; run 2 finishes.
    Returns the note to print."""
    root = os.path.join(work, tag)
    fake1 = e2e.Fake(work, faults=[f"hang,match={MARKER}"], extra=["--context-tokens", str(CONTEXT)])
    fake2 = None
    proc = None
    try:
        config1 = os.path.join(work, f"{tag}-run1.yaml")
        dirs = chunk_config(config1, root, fake1.url, ledger_yaml=ledger_yaml)
        e2e.write_files(dirs["inbox"], {"big.txt": document})
        proc = e2e.start_dropd(["--config", config1, "--once"], env=env)
        hung = e2e.wait_until(lambda: [e for e in fake1.requests() if e["status"] == 0], 60,
                              f"[{tag}] the request with the marker to reach the fake")
        proc.signal(signal.SIGKILL)
        proc.popen.wait(10)
        first = fake1.requests()
        e2e.check(len(hung) == 1 and kind_of(hung[0]) == "MAP", f"[{tag}] hung: {hung}")
        answered = [e for e in first if e["status"] == 200]
        e2e.check(all(kind_of(e) == "MAP" for e in answered),
                  f"[{tag}] run 1 sent a reduce before the map was done: "
                  f"{collections.Counter(kind_of(e) for e in answered)}")
        e2e.check(len(answered) >= 10, f"[{tag}] only {len(answered)} chunks answered before the kill")
        max1 = check_within_context(first, f"{tag} run 1")

        fake2 = e2e.Fake(work, extra=["--context-tokens", str(CONTEXT)])
        config2 = os.path.join(work, f"{tag}-run2.yaml")
        chunk_config(config2, root, fake2.url, ledger_yaml=ledger_yaml)
        res = e2e.run_dropd(["--config", config2, "--once"], env=env, timeout=60)
        e2e.check(res.returncode == 0,
                  f"[{tag}] run 2: exit {res.returncode}: {res.stderr.decode()[-2000:]}")
        second = fake2.requests()
        max2 = check_within_context(second, f"{tag} run 2")
        maps2 = [e for e in second if kind_of(e) == "MAP"]
        reduces2 = [e for e in second if kind_of(e) == "REDUCE"]
        answered_shas = [e["sha256"] for e in answered]
        again = [s for s in (e["sha256"] for e in maps2) if s in set(answered_shas)]
        # Only the last chunk answered before the kill may go again: its
        # ledger write runs beside the next request and may have been cut.
        e2e.check(set(again) <= {answered_shas[-1]},
                  f"[{tag}] run 2 sent {len(again)} chunks answered in run 1")
        e2e.check(hung[0]["sha256"] in {e["sha256"] for e in maps2},
                  f"[{tag}] run 2 did not send the chunk that hung")
        e2e.check(len({e["sha256"] for e in maps2}) == len(maps2), f"[{tag}] a chunk went twice")

        result = e2e.load_json(os.path.join(dirs["outbox"], "big.txt.json"))
        llm = result["llm"]
        e2e.check(llm["content"].startswith("fake: REDUCE "), f"[{tag}] content {llm['content']!r}")
        chunks = llm["chunks"]
        levels = collections.Counter(c["level"] for c in chunks)
        n_chunks = levels[0]
        e2e.check(n_chunks == len(answered) - len(again) + len(maps2),
                  f"[{tag}] {n_chunks} chunks in the record; run 1 answered {len(answered)}, "
                  f"run 2 sent {len(maps2)} map requests ({len(again)} again)")
        reused = sum(1 for c in chunks if c["reused"])
        e2e.check(reused == len(answered) - len(again), f"[{tag}] {reused} chunks marked reused")
        e2e.check(len(reduces2) == len(chunks) - n_chunks and len(reduces2) >= 1,
                  f"[{tag}] {len(reduces2)} reduce requests, record lists {dict(levels)}")
        total_p = sum(c["prompt_tokens"] for c in chunks)
        total_c = sum(c["completion_tokens"] for c in chunks)
        e2e.check(llm["usage"] == {"prompt_tokens": total_p, "completion_tokens": total_c},
                  f"[{tag}] usage {llm['usage']} vs chunks' sum {total_p}/{total_c}")
        left = chunks_left(dirs)
        e2e.check(left == 0, f"[{tag}] {left} chunk answers left in the ledger after the record")
        return (f"[{tag}] 2 MB: {n_chunks} chunks, requests per level "
                f"{dict(sorted(levels.items()))}; SIGKILL after {len(answered)} answered; run 2 "
                f"sent {len(maps2)} map + {len(reduces2)} reduce requests, {len(again)} chunk(s) "
                f"answered in run 1 sent again; max request {max(max1, max2)} tokens "
                f"(context {CONTEXT})")
    finally:
        if proc is not None:
            proc.kill()
        fake1.stop()
        if fake2 is not None:
            fake2.stop()


def sqlite_chunks_left(dirs):
    with sqlite3.connect(os.path.join(dirs["state"], "ledger.db")) as db:
        return db.execute("SELECT count(*) FROM chunk_answers").fetchone()[0]


SCHEMA = {"type": "object", "required": ["summary", "bytes"],
          "properties": {"summary": {"type": "string"}, "bytes": {"type": "integer"}}}


def run_json(work, fake, document):
    """With a schema only the final reduce asks for JSON and is checked."""
    schema = os.path.join(work, "answer.schema.json")
    with open(schema, "w", encoding="utf-8") as f:
        json.dump(SCHEMA, f)
    config = os.path.join(work, "json.yaml")
    dirs = chunk_config(config, os.path.join(work, "json"), fake.url, schema=schema)
    e2e.write_files(dirs["inbox"], {"mid.txt": document[:60_000]})
    before = len(fake.requests())
    res = e2e.run_dropd(["--config", config, "--once"], timeout=60)
    e2e.check(res.returncode == 0, f"json: exit {res.returncode}: {res.stderr.decode()[-1500:]}")
    sent = fake.requests()[before:]
    asked_json = [kind_of(e) for e in sent if e.get("answer")]
    e2e.check(asked_json == ["REDUCE"], f"json: requests answered in JSON: {asked_json}")
    llm = e2e.load_json(os.path.join(dirs["outbox"], "mid.txt.json"))["llm"]
    e2e.check(llm["json"]["summary"].startswith("fake: REDUCE "), f"json: {llm.get('json')}")
    e2e.note(f"json: {len(sent) - 1} map requests in text, the final reduce in JSON: {llm['json']}")


def run_extracted(work, fake, document):
    """An HTML page through dropd-extract is chunked by its extracted text."""
    if not os.access(os.path.join(e2e.BINARY_DIR, "daemon", "dropd-extract"), os.X_OK):
        e2e.note("extracted: skipped, dropd-extract is not built")
        return
    config = os.path.join(work, "html.yaml")
    dirs = chunk_config(config, os.path.join(work, "html"), fake.url,
                        extra="    extract: { formats: [html] }\n")
    paragraphs = document[:120_000].decode("utf-8", "ignore").split("\n\n")
    page = ("<!DOCTYPE html><html><head><title>Big page</title></head><body>"
            + "".join(f"<p>{p}</p>\n" for p in paragraphs) + "</body></html>").encode()
    e2e.write_files(dirs["inbox"], {"page.html": page})
    before = len(fake.requests())
    res = e2e.run_dropd(["--config", config, "--once"], timeout=60)
    e2e.check(res.returncode == 0, f"extracted: exit {res.returncode}: {res.stderr.decode()[-1500:]}")
    sent = fake.requests()[before:]
    maps = [e for e in sent if kind_of(e) == "MAP"]
    e2e.check(len(maps) >= 5 and not any("<" in e["first_words"] for e in maps),
              f"extracted: {len(maps)} map requests, first words {[e['first_words'] for e in maps[:2]]}")
    result = e2e.load_json(os.path.join(dirs["outbox"], "page.html.json"))
    e2e.check(result["extract"]["method"] != "" and result["llm"]["content"].startswith("fake: REDUCE"),
              f"extracted: {result.get('extract')} {result['llm']['content'][:60]!r}")
    levels = collections.Counter(c["level"] for c in result["llm"]["chunks"])
    e2e.check(levels[0] == len(maps), f"extracted: record lists {dict(levels)}, {len(maps)} sent")
    e2e.note(f"extracted: a {len(page) // 1000} kB HTML page as {len(maps)} chunks of its text")


def main():
    e2e.require_binaries()
    rng = random.Random(15)
    document = make_document(rng, 2 * 1024 * 1024)
    with tempfile.TemporaryDirectory(prefix="dropd-chunking-") as work:
        started = time.monotonic()
        e2e.note(crash_and_restart(work, document, "sqlite", chunks_left=sqlite_chunks_left)
                 + f" ({time.monotonic() - started:.1f} s)")
        with PgCluster() as pg:
            started = time.monotonic()
            url = pg.create_database("dropd_chunks")
            e2e.note(crash_and_restart(
                work, document, "postgres",
                ledger_yaml=(f"ledger:\n  backend: postgres\n  url: {e2e.yq(url)}\n"
                             "  lease: 2s\n"),  # run 1's claim of the file ends 2 s after the kill
                chunks_left=lambda dirs: int(pg.psql("dropd_chunks",
                                                     "SELECT count(*) FROM dropd_chunks")))
                + f" ({time.monotonic() - started:.1f} s)")
        fake = e2e.Fake(work, extra=["--context-tokens", str(CONTEXT)])
        try:
            run_json(work, fake, document)
            run_extracted(work, fake, document)
            run_unchunked(work, fake, document)
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("chunking", main)
