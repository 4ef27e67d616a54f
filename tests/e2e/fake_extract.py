#!/usr/bin/python3
"""A stand-in for dropd-extract that speaks its protocol (docs/extract.md).

Each message is a 4-byte big-endian length and that many bytes of JSON.
It "extracts" any file by decoding its bytes as UTF-8 (NUL bytes dropped,
bad bytes replaced) and prefixing "EXTRACTED: ". A file's name makes it
misbehave, so tests can break a helper on purpose:

  crash      the helper kills itself with SIGSEGV
  exit3      the helper exits with code 3
  cpuhog     the helper kills itself with SIGXCPU (as RLIMIT_CPU would)
  hang       the helper never answers
  garbage    the helper answers a frame that is not JSON
  closeout   the helper closes its stdout and sleeps
  wait       the helper writes its pid to <marks>/<name>.pid and waits
             for <marks>/<name>.go to exist (a test kills it meanwhile);
             if the .pid file exists already it answers at once. <marks>
             is $FAKE_EXTRACT_MARKS, else the file's folder
  flaky      with $FAKE_EXTRACT_HANG set: writes <marks>/<name>.pid and
             never answers; else as crash
  skipme     a Failure of kind "skipped"
  broken     a Failure of kind "extract"

Flags: --memory BYTES --cpu-seconds N are accepted and, with
FAKE_EXTRACT_LOG set, written to that file with the pid (one line per
start: "<pid> <args>"), as is each request ("req <pid> <name>").
"""
import json
import os
import signal
import struct
import sys
import time


def read_exact(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def write_frame(payload):
    out = sys.stdout.buffer
    out.write(struct.pack(">I", len(payload)) + payload)
    out.flush()


def document(req_id, path, text):
    return {"id": req_id, "ok": True, "mime": "application/x-fake", "method": "fake",
            "text": text, "title": "Title of " + os.path.basename(path), "author": "",
            "language": "", "pages": 1, "chars": len(text), "truncated": False, "ocr": False}


def mark_pid(path):
    marks = os.environ.get("FAKE_EXTRACT_MARKS") or os.path.dirname(path)
    mark = os.path.join(marks, os.path.basename(path) + ".pid")
    with open(mark + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(mark + ".tmp", mark)
    return mark


def answer(req):
    path = bytes.fromhex(req["path_hex"]).decode("utf-8", "surrogateescape")
    name = os.path.basename(path)
    req_id = req["id"]
    log = os.environ.get("FAKE_EXTRACT_LOG")
    if log:
        with open(log, "a") as f:
            f.write("req %d %s\n" % (os.getpid(), name))
    if "flaky" in name and os.environ.get("FAKE_EXTRACT_HANG"):
        mark_pid(path)
        while True:
            time.sleep(60)
    if "crash" in name or "flaky" in name:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "cpuhog" in name:
        os.kill(os.getpid(), signal.SIGXCPU)
    if "exit3" in name:
        os._exit(3)
    if "hang" in name:
        while True:
            time.sleep(60)
    if "garbage" in name:
        write_frame(b"this is not json")
        return
    if "closeout" in name:
        os.close(1)
        while True:
            time.sleep(60)
    marks = os.environ.get("FAKE_EXTRACT_MARKS") or os.path.dirname(path)
    if "wait" in name and not os.path.exists(os.path.join(marks, name + ".pid")):
        mark = mark_pid(path)
        go = mark[:-len(".pid")] + ".go"
        while not os.path.exists(go):
            time.sleep(0.02)
    if "skipme" in name or "broken" in name:
        kind = "skipped" if "skipme" in name else "extract"
        write_frame(json.dumps({"id": req_id, "ok": False, "kind": kind,
                                "mime": "application/x-fake",
                                "reason": "the stand-in refuses " + name}).encode())
        return
    with open(path, "rb") as f:
        data = f.read().replace(b"\0", b"")
    text = "EXTRACTED: " + data.decode("utf-8", "replace")
    max_chars = req.get("max_chars", 0)
    doc = document(req_id, path, text[:max_chars] if max_chars else text)
    doc["truncated"] = bool(max_chars) and len(text) > max_chars
    write_frame(json.dumps(doc).encode())


def main():
    log = os.environ.get("FAKE_EXTRACT_LOG")
    if log:
        with open(log, "a") as f:
            f.write("%d %s\n" % (os.getpid(), " ".join(sys.argv[1:])))
    stdin = sys.stdin.buffer
    while True:
        header = read_exact(stdin, 4)
        if header is None:
            return 0
        (n,) = struct.unpack(">I", header)
        payload = read_exact(stdin, n)
        if payload is None:
            return 0
        answer(json.loads(payload))


if __name__ == "__main__":
    sys.exit(main())
