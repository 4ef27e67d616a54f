#!/usr/bin/python3
"""dropd-extract on documents of every format it reads, made here.

make_documents.py generates each document with the text it holds; the
extracted text must equal it exactly (text formats: docs/extract.md gives
the layout) and PDF text must equal `pdftotext`'s once whitespace is
normalised (every run of white space one space: the two lay out lines
alike but not always their spacing). OCR (PNG, a PDF of scans) passes at a
difflib ratio >= 0.9. Hostile inputs (a truncated PDF, a zip bomb as DOCX,
billion laughs in DOCX and HTML, a 30000 x 30000 PNG header, MIME nested
100 deep, random bytes, a file that is gone) each give one failure with a
reason within seconds. Serve mode answers framed requests in order, and
`dropd extract` runs the helper with its exit code. OCR is kept to two
small files: Tesseract is slow, and slower under ASan.
"""

import difflib
import json
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dropd_e2e import *  # noqa: E402,F401
import make_documents as md  # noqa: E402

EXTRACT_BIN = os.path.join(os.path.dirname(DROPD_BIN), "dropd-extract")
HOSTILE_SECONDS = 20  # generous for ASan; plain runs take well under a second each


def extract(paths, *flags, timeout=120):
    res = subprocess.run([EXTRACT_BIN, "--json", *flags, *paths], capture_output=True,
                         timeout=timeout)
    lines = [json.loads(line) for line in res.stdout.decode().splitlines()]
    check(len(lines) == len(paths), f"{len(paths)} files gave {len(lines)} lines: {res.stderr!r}")
    return res.returncode, {os.path.basename(p): line for p, line in zip(paths, lines)}


def normalise(text):
    return " ".join(text.split())


def test_text_formats(tmp):
    rng = random.Random(14)
    makers = {"doc.docx": md.make_docx, "doc.xlsx": md.make_xlsx, "doc.pptx": md.make_pptx,
              "doc.odt": md.make_odt, "doc.ods": md.make_ods, "doc.odp": md.make_odp,
              "doc.epub": md.make_epub, "page.html": md.make_html, "mail.eml": md.make_eml}
    expected = {name: make(os.path.join(tmp, name), rng) for name, make in makers.items()}
    # A mail with a document attached: named, and its text extracted below.
    with open(os.path.join(tmp, "page.html"), "rb") as f:
        page = f.read()
    expected["attached.eml"] = md.make_eml(
        os.path.join(tmp, "attached.eml"), rng,
        ("page.html", page, "text", "html", expected["page.html"]))
    texts = {"utf8.txt": "caf\u00e9 \u2014 na\u00efve \U0001F98A\nline two\n",
             "utf16.txt": "UTF-16 text: \u00e9\u00e8 \u4e2d\u6587 \U0001F600\n",
             "cp1252.txt": "Windows-1252: caf\u00e9 \u20ac5 \u201cquoted\u201d\n"}
    encoded = {"utf8.txt": texts["utf8.txt"].encode(),
               "utf16.txt": texts["utf16.txt"].encode("utf-16"),  # with its BOM
               "cp1252.txt": texts["cp1252.txt"].encode("cp1252")}
    for name, data in encoded.items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
    expected.update(texts)
    # Named .bin: the type comes from the content, never the name.
    os.rename(os.path.join(tmp, "doc.docx"), os.path.join(tmp, "docx.bin"))
    expected["docx.bin"] = expected.pop("doc.docx")
    rc, got = extract([os.path.join(tmp, n) for n in expected])
    check(rc == 0, f"exit {rc}: {[(n, g.get('reason')) for n, g in got.items() if not g['ok']]}")
    for name, want in expected.items():
        check(got[name]["text"] == want, f"{name}: text {got[name]['text']!r}, want {want!r}")
        check(got[name]["chars"] == len(want), f"{name}: chars {got[name]['chars']} != {len(want)}")
    methods = {n: g["method"] for n, g in got.items()}
    check(methods["docx.bin"] == "docx" and methods["mail.eml"] == "email" and
          methods["page.html"] == "html" and methods["cp1252.txt"] == "text", f"methods {methods}")
    check(got["docx.bin"]["title"] == "Quarterly fox report" and
          got["docx.bin"]["author"] == "Ada Lovelace", f"docx metadata {got['docx.bin']}")
    check(got["doc.pptx"]["pages"] == 3 and got["doc.xlsx"]["pages"] == 2, "slides/sheets as pages")
    check(got["mail.eml"]["title"] == "Fox news", f"mail subject {got['mail.eml']['title']!r}")
    note(f"{len(expected)} documents in {len(set(methods.values()))} formats extracted exactly")


def test_pdf_against_pdftotext(tmp):
    path = os.path.join(tmp, "report.pdf")
    want = md.make_pdf(path, pages=5, title="Fox report", author="Ada")
    rc, got = extract([path])
    doc = got["report.pdf"]
    check(rc == 0 and doc["pages"] == 5, f"pdf: exit {rc}, {doc}")
    poppler = subprocess.run(["pdftotext", "-enc", "UTF-8", path, "-"], capture_output=True,
                             check=True).stdout.decode()
    check(normalise(doc["text"]) == normalise(poppler), "pdf text differs from pdftotext")
    check(normalise(doc["text"]) == normalise(want), "pdf text differs from what was drawn")
    check(doc["text"].count("\f") == 4, f"{doc['text'].count(chr(12))} form feeds for 5 pages")
    check(doc["title"] == "Fox report" and doc["author"] == "Ada", f"pdf metadata {doc}")
    rc, got = extract([path], "--max-pages", "2", "--max-chars", "100")
    doc = got["report.pdf"]
    check(doc["pages"] == 2 and doc["truncated"] and doc["chars"] == 100 and
          doc["text"] == want[:100], f"limits: {doc}")
    note("PDF text = pdftotext's (whitespace normalised); --max-pages and --max-chars cut")


def test_ocr(tmp):
    png = os.path.join(tmp, "scan.png")
    want_png = md.make_png(png, ["The quick brown fox jumps", "over the lazy dog 2026"])
    pdf = os.path.join(tmp, "scan.pdf")
    want_pdf = md.make_scanned_pdf(pdf, [["Scanned page one of two"], ["The second page"]])
    rc, got = extract([png, pdf])
    check(rc == 1 and all(g["kind"] == "skipped" and "extract.ocr" in g["reason"]
                          for g in got.values()), f"without --ocr: {got}")
    # One value per --ocr-language: the file after it stays a file.
    rc, got = extract([png], "--ocr", "--ocr-language", "../x")
    check(rc == 1 and "malformed" in got["scan.png"]["reason"], f"bad language: {got}")
    rc, got = extract([png, pdf], "--ocr")
    for name, want in (("scan.png", want_png), ("scan.pdf", want_pdf)):
        doc = got[name]
        check(doc["ok"] and doc["ocr"], f"{name}: {doc}")
        ratio = difflib.SequenceMatcher(None, normalise(doc["text"]), normalise(want)).ratio()
        check(ratio >= 0.9, f"{name}: OCR ratio {ratio:.2f}: {doc['text']!r}")
    check(got["scan.pdf"]["pages"] == 2, "scanned pdf pages")
    note("OCR of a PNG and a 2-page scanned PDF at difflib ratio >= 0.9")
    tiff = os.path.join(tmp, "fax.tiff")
    want_tiff = md.make_tiff(tiff, [["Facsimile page one arrives"], ["Second page of the fax"],
                                    ["Third and last page"]])
    rc, got = extract([tiff], "--ocr")
    doc = got["fax.tiff"]
    ratio = difflib.SequenceMatcher(None, normalise(doc["text"]), normalise(want_tiff)).ratio()
    check(doc["ok"] and doc["pages"] == 3 and doc["text"].count("\f") == 2 and ratio >= 0.9,
          f"3-page TIFF: ratio {ratio:.2f}, {doc}")
    rc, got = extract([tiff], "--ocr", "--max-pages", "2")
    doc = got["fax.tiff"]
    check(doc["pages"] == 2 and doc["truncated"] and "Third" not in doc["text"],
          f"TIFF --max-pages 2: {doc}")
    note("a 3-page TIFF: every page OCRed, form feeds between; --max-pages 2 cuts")


def hostile_files(tmp):
    files = md.hostile_documents(tmp)
    files["random.bin"] = random.Random(5).randbytes(64 << 10)
    files["zip.bin"] = b"PK\x03\x04" + random.Random(6).randbytes(4000)
    for name, data in files.items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
    return list(files)


def test_hostile(tmp):
    names = hostile_files(tmp)
    expected_kind = {"truncated.pdf": "extract", "bomb.docx": "extract", "laughs.docx": "extract",
                     "huge.png": "extract", "deep.eml": "extract", "random.bin": "skipped",
                     "zip.bin": "skipped"}
    for name in names:
        started = time.monotonic()
        rc, got = extract([os.path.join(tmp, name)], "--ocr", timeout=HOSTILE_SECONDS * 3)
        seconds = time.monotonic() - started
        doc = got[name]
        check(rc == 1 and not doc["ok"] and doc["kind"] == expected_kind[name] and doc["reason"],
              f"{name}: exit {rc}, {doc}")
        check(seconds < HOSTILE_SECONDS, f"{name} took {seconds:.1f} s")
        note(f"{name}: {doc['kind']}: {doc['reason']} ({seconds:.2f} s)")
    # HTML has no DTDs: a billion-laughs page stays text, bounded.
    page = os.path.join(tmp, "laughs.html")
    with open(page, "w") as f:
        f.write(md.billion_laughs_html())
    rc, got = extract([page])
    doc = got["laughs.html"]
    check(rc == 0 and doc["chars"] < 10000 and "after" in doc["text"], f"laughs.html: {doc}")
    rc, got = extract([os.path.join(tmp, "missing.pdf")])
    check(rc == 1 and "open" in got["missing.pdf"]["reason"], f"missing: {got}")
    note("billion laughs in HTML stays bounded text; a missing file fails at open")


def frame(message):
    payload = json.dumps(message).encode()
    return struct.pack(">I", len(payload)) + payload


def read_frames(data):
    out = []
    while data:
        (n,) = struct.unpack(">I", data[:4])
        out.append(json.loads(data[4:4 + n]))
        data = data[4 + n:]
    return out


def test_serve(tmp):
    rng = random.Random(3)
    docx = os.path.join(tmp, "s.docx")
    want = md.make_docx(docx, rng)
    html = os.path.join(tmp, "s.html")
    md.make_html(html, rng)
    options = {"max_pages": 0, "max_chars": 0, "ocr": False, "ocr_languages": ["eng"]}
    requests = [{"id": 7, "path_hex": docx.encode().hex(), **options, "formats": []},
                {"id": 8, "path_hex": html.encode().hex(), **options, "formats": ["pdf", "docx"]},
                {"id": 9, "path_hex": b"/nonexistent\xff".hex(), **options, "formats": []}]
    stdin = b"".join(frame(r) for r in requests)
    # Split mid-frame on purpose: the helper must wait for the rest.
    proc = subprocess.Popen([EXTRACT_BIN, "--cpu-seconds", "30", "--memory", str(2 << 30)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(stdin[:10])
    proc.stdin.flush()
    out, err = proc.communicate(stdin[10:], timeout=60)
    check(proc.returncode == 0, f"serve exit {proc.returncode}: {err!r}")
    replies = read_frames(out)
    check([r["id"] for r in replies] == [7, 8, 9], f"reply ids {[r['id'] for r in replies]}")
    check(replies[0]["ok"] and replies[0]["text"] == want, f"reply 7 {replies[0]}")
    check(not replies[1]["ok"] and replies[1]["kind"] == "skipped" and
          replies[1]["reason"] == "format html not accepted by this pipeline", f"8 {replies[1]}")
    check(not replies[2]["ok"] and replies[2]["kind"] == "extract", f"reply 9 {replies[2]}")
    proc = subprocess.run([EXTRACT_BIN], input=struct.pack(">I", 5) + b"{bad}", capture_output=True,
                          timeout=30)
    check(proc.returncode == 2 and proc.stdout == b"", f"bad frame: exit {proc.returncode}")
    note("serve: replies in order, formats filter, bad path; a bad frame exits 2")
    # A file that needs more CPU than --cpu-seconds: SIGXCPU ends the helper
    # before it answers (dropd replaces it).
    big = os.path.join(tmp, "big.png")
    md.text_image([md.sentence(rng, 6) for _ in range(40)], size=(1400, 80)).save(big)
    request = {"id": 1, "path_hex": big.encode().hex(), **options, "ocr": True, "formats": []}
    proc = subprocess.run([EXTRACT_BIN, "--cpu-seconds", "1"], input=frame(request),
                          capture_output=True, timeout=120)
    check(proc.returncode == -signal.SIGXCPU and proc.stdout == b"",
          f"over --cpu-seconds: exit {proc.returncode}, {len(proc.stdout)} bytes out")
    note("a file over --cpu-seconds ends the helper with SIGXCPU, no reply")


def test_dropd_extract_command(tmp):
    path = os.path.join(tmp, "c.odt")
    want = md.make_odt(path, random.Random(9))
    res = subprocess.run([DROPD_BIN, "extract", path], capture_output=True, timeout=60)
    check(res.returncode == 0 and res.stdout.decode() == want, f"dropd extract: {res}")
    res = subprocess.run([DROPD_BIN, "extract", "--json", "--max-chars", "5", path,
                          os.path.join(tmp, "missing")], capture_output=True, timeout=60)
    lines = [json.loads(line) for line in res.stdout.decode().splitlines()]
    check(res.returncode == 1 and len(lines) == 2 and lines[0]["text"] == want[:5] and
          lines[0]["truncated"] and not lines[1]["ok"], f"dropd extract --json: {res}")
    res = subprocess.run([DROPD_BIN, "--help"], capture_output=True, timeout=60)
    check(b"extract" in res.stdout, "--help does not mention extract")
    note("dropd extract prints the helper's text and passes its exit code")


def main():
    check(os.access(EXTRACT_BIN, os.X_OK), f"not executable: {EXTRACT_BIN}")
    with tempfile.TemporaryDirectory(prefix="dropd-extract-") as tmp:
        for test in (test_text_formats, test_pdf_against_pdftotext, test_ocr, test_hostile,
                     test_serve, test_dropd_extract_command):
            folder = os.path.join(tmp, test.__name__)
            os.mkdir(folder)
            test(folder)


if __name__ == "__main__":
    run_main("test_extract_formats", main)
