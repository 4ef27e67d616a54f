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

Also: the same document through a pipeline without chunking fails with
kind context_length, its message saying to set chunking.
"""

import collections
import json
import os
import random
import signal
import sqlite3
import tempfile

import dropd_e2e as e2e

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


def chunk_config(path, root, url, chunking=True):
    dirs = e2e.write_config(path, root, url, max_in_flight=4, max_file_size="8MiB",
                            prompt_user="{{content}}")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if chunking:
        text += (f"    chunking:\n"
                 f"      max_tokens: {MAX_TOKENS}\n"
                 f"      map: {{ system: \"Summarize this part.\", user: \"MAP {{{{content}}}}\" }}\n"
                 f"      reduce: {{ system: \"Combine.\", user: \"REDUCE {{{{content}}}}\" }}\n")
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


def main():
    e2e.require_binaries()
    rng = random.Random(15)
    document = make_document(rng, 2 * 1024 * 1024)
    with tempfile.TemporaryDirectory(prefix="dropd-chunking-") as work:
        fake1 = e2e.Fake(work, faults=[f"hang,match={MARKER}"],
                         extra=["--context-tokens", str(CONTEXT)])
        fake2 = None
        proc = None
        try:
            config1 = os.path.join(work, "run1.yaml")
            dirs = chunk_config(config1, os.path.join(work, "chunked"), fake1.url)
            e2e.write_files(dirs["inbox"], {"big.txt": document})
            proc = e2e.start_dropd(["--config", config1, "--once"])
            hung = e2e.wait_until(
                lambda: [e for e in fake1.requests() if e["status"] == 0], 60,
                "the request with the marker to reach the fake")
            proc.signal(signal.SIGKILL)
            proc.popen.wait(10)
            first = fake1.requests()
            e2e.check(len(hung) == 1 and kind_of(hung[0]) == "MAP", f"hung: {hung}")
            answered = [e for e in first if e["status"] == 200]
            e2e.check(all(kind_of(e) == "MAP" for e in answered),
                      f"run 1 sent a reduce before the map was done: "
                      f"{collections.Counter(kind_of(e) for e in answered)}")
            e2e.check(len(answered) >= 10, f"only {len(answered)} chunks answered before the kill")
            max1 = check_within_context(first, "run 1")
            e2e.note(f"run 1: {len(answered)} chunks answered, then SIGKILL with chunk "
                     f"{len(answered) + 1} in flight (max request {max1} tokens)")

            fake2 = e2e.Fake(work, extra=["--context-tokens", str(CONTEXT)])
            config2 = os.path.join(work, "run2.yaml")
            chunk_config(config2, os.path.join(work, "chunked"), fake2.url)
            res = e2e.run_dropd(["--config", config2, "--once"], timeout=60)
            e2e.check(res.returncode == 0,
                      f"run 2: exit {res.returncode}: {res.stderr.decode()[-2000:]}")
            second = fake2.requests()
            max2 = check_within_context(second, "run 2")
            maps2 = [e for e in second if kind_of(e) == "MAP"]
            reduces2 = [e for e in second if kind_of(e) == "REDUCE"]
            answered_shas = [e["sha256"] for e in answered]
            again = [s for s in (e["sha256"] for e in maps2) if s in set(answered_shas)]
            e2e.check(set(again) <= {answered_shas[-1]},
                      f"run 2 sent {len(again)} chunks answered in run 1 "
                      f"(allowed: only the last one answered)")
            e2e.check(hung[0]["sha256"] in {e["sha256"] for e in maps2},
                      "run 2 did not send the chunk that hung")
            e2e.check(len({e["sha256"] for e in maps2}) == len(maps2), "run 2 sent a chunk twice")

            result = e2e.load_json(os.path.join(dirs["outbox"], "big.txt.json"))
            llm = result["llm"]
            e2e.check(llm["content"].startswith("fake: REDUCE "), f"content {llm['content']!r}")
            chunks = llm["chunks"]
            levels = collections.Counter(c["level"] for c in chunks)
            n_chunks = levels[0]
            e2e.check(n_chunks == len(answered) - len(again) + len(maps2),
                      f"{n_chunks} chunks in the record; run 1 answered {len(answered)}, "
                      f"run 2 sent {len(maps2)} map requests ({len(again)} again)")
            reused = sum(1 for c in chunks if c["reused"])
            e2e.check(reused == len(answered) - len(again), f"{reused} chunks marked reused")
            e2e.check(len(reduces2) == len(chunks) - n_chunks and len(reduces2) >= 1,
                      f"{len(reduces2)} reduce requests, record lists {dict(levels)}")
            total_p = sum(c["prompt_tokens"] for c in chunks)
            total_c = sum(c["completion_tokens"] for c in chunks)
            e2e.check(llm["usage"] == {"prompt_tokens": total_p, "completion_tokens": total_c},
                      f"usage {llm['usage']} vs chunks' sum {total_p}/{total_c}")
            with sqlite3.connect(os.path.join(dirs["state"], "ledger.db")) as db:
                left = db.execute("SELECT count(*) FROM chunk_answers").fetchone()[0]
            e2e.check(left == 0, f"{left} chunk answers left in the ledger after the record")
            e2e.note(f"2 MB: {n_chunks} chunks, levels {dict(sorted(levels.items()))}; run 2 sent "
                     f"{len(maps2)} map + {len(reduces2)} reduce requests, {len(again)} chunk(s) "
                     f"answered in run 1 sent again; max request {max(max1, max2)} tokens "
                     f"(context {CONTEXT})")

            run_unchunked(work, fake2, document)
        finally:
            if proc is not None:
                proc.kill()
            fake1.stop()
            if fake2 is not None:
                fake2.stop()


if __name__ == "__main__":
    e2e.run_main("chunking", main)
