"""A mixed folder through the real dropd-extract (issue 14, "End to end").

txt, pdf, docx, odt, html, eml and png, each generated here with a
sentence of its own, go through `dropd --once` against dropd-fake-llm with
the prompt `{{content}}`. The fake runs with --echo-content: each answer
is the user message itself, so each result's content is exactly the
extracted text that was sent (not the file's bytes). The PNG is OCRed (`ocr: true`): its sentence is
checked by its longest word only.

Skips (exit 0, saying so) when dropd-extract is not in the build folder:
it is built by the extractor branch; the lead merges both.
"""

import io
import os
import sys
import tempfile
import zipfile
from email.message import EmailMessage

import dropd_e2e as e2e
import make_documents as md

EXTRACT_BIN = os.path.join(e2e.BINARY_DIR, "daemon", "dropd-extract")

SENTENCES = {
    "notes.txt": "Plain text notes about harbour cranes",
    "report.pdf": "Portable document about copper prices",
    "letter.docx": "Word letter about library opening hours",
    "minutes.odt": "OpenDocument minutes about bicycle lanes",
    "page.html": "Hypertext page about mountain weather",
    "mail.eml": "Electronic mail about quarterly invoices",
    "scan.png": "SCANNED RECEIPT WATERMELON",
}


def pdf_with(text):
    """A one-page PDF with `text` in Helvetica (no library needed)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    return md.pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def zip_of(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members:
            compress = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            z.writestr(name, data, compress_type=compress)
    return out.getvalue()


def docx_with(text):
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    return zip_of([
        ("[Content_Types].xml",
         '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
         'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
         'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
         'officedocument.wordprocessingml.document.main+xml"/></Types>'),
        ("_rels/.rels",
         '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
         '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
         'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
         '</Relationships>'),
        ("word/document.xml",
         f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body><w:p><w:r><w:t>{text}</w:t>'
         '</w:r></w:p></w:body></w:document>'),
    ])


def odt_with(text):
    return zip_of([
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("META-INF/manifest.xml",
         '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
         'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
         'manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry '
         'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'),
        ("content.xml",
         '<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:'
         'opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:'
         f'text:1.0"><office:body><office:text><text:p>{text}</text:p></office:text>'
         '</office:body></office:document-content>'),
    ])


def eml_with(text):
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["To"] = "b@example.org"
    msg["Subject"] = "Invoices"
    msg.set_content(text + "\n")
    return bytes(msg)


def png_with(text):
    from PIL import Image, ImageDraw, ImageFont
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 48)
    img = Image.new("L", (1400, 160), 255)
    ImageDraw.Draw(img).text((40, 50), text, fill=0, font=font)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def make_files():
    s = SENTENCES
    return {
        "notes.txt": (s["notes.txt"] + "\n").encode(),
        "report.pdf": pdf_with(s["report.pdf"]),
        "letter.docx": docx_with(s["letter.docx"]),
        "minutes.odt": odt_with(s["minutes.odt"]),
        "page.html": (f"<html><head><title>Weather</title><script>var x = 1;</script></head>"
                      f"<body><p>{s['page.html']}</p></body></html>").encode(),
        "mail.eml": eml_with(s["mail.eml"]),
        "scan.png": png_with(s["scan.png"]),
    }


def main():
    if not os.access(EXTRACT_BIN, os.X_OK):
        print(f"SKIP extract_mixed: {EXTRACT_BIN} is not built (the extractor branch builds it)")
        sys.exit(0)
    e2e.require_binaries()
    with tempfile.TemporaryDirectory(prefix="dropd-e2e-mixed-") as work:
        fake = e2e.Fake(work, extra=["--echo-content"])
        try:
            config = os.path.join(work, "dropd.yaml")
            dirs = e2e.write_config(config, work, fake.url, prompt_user="{{content}}")
            with open(config, "a", encoding="utf-8") as f:
                f.write("    extract: { ocr: true, timeout: 60s }\n")
            files = make_files()
            e2e.write_files(dirs["inbox"], files)
            env = dict(os.environ, DROPD_EXTRACT_PROGRAM=EXTRACT_BIN)
            res = e2e.run_dropd(["--once", "--config", config], env=env, timeout=120)
            e2e.check(res.returncode == 0, f"--once: {res.returncode} {res.stderr[-3000:]!r}")
            ok, _ = e2e.check_outcomes(dirs, files)
            e2e.check(ok == set(files), f"all done: {sorted(ok)}")
            for rel, sentence in SENTENCES.items():
                result = e2e.load_json(os.path.join(dirs["outbox"], rel + ".json"))
                content = result["llm"]["content"]
                if rel == "scan.png":
                    e2e.check("WATERMELON" in content.upper(), f"{rel}: OCR text sent: {content!r}")
                    e2e.check(result["extract"]["ocr"] is True, f"{rel}: {result['extract']}")
                else:
                    e2e.check(sentence in " ".join(content.split()),
                              f"{rel}: {sentence!r} not in {content!r}")
                    e2e.check("<" not in content or rel == "mail.eml",
                              f"{rel}: markup was sent: {content!r}")
                    e2e.check("var x" not in content, f"{rel}: a script was sent: {content!r}")
                e2e.check(result["source"]["sha256"] == e2e.sha256(files[rel]), f"{rel}: sha256")
                if rel != "notes.txt":
                    e2e.check(result["extract"]["method"] and result["source"]["type"],
                              f"{rel}: {result['source']} {result.get('extract')}")
                e2e.note(f"{rel}: {content!r}")
        finally:
            fake.stop()


if __name__ == "__main__":
    e2e.run_main("extract_mixed", main)
