"""Documents of every format dropd-extract reads, generated here with the
Python stdlib (zipfile, email) plus python3-reportlab (PDF) and python3-pil
(images), and the text each was made from.

Each maker writes one file and returns the text an extraction should give,
in dropd-extract's layout (docs/extract.md, "The text"): one line per
paragraph, heading or list item ("- " in front), one line per table row
with its cells joined by tabs, pages (PDF pages, slides, sheets) separated
by a form feed. Used by tests/e2e/test_extract_formats.py and bench/extract.
"""

import io
import os
import random
import struct
import zipfile
import zlib
from email.message import EmailMessage
from xml.sax.saxutils import escape

WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards quietly box "
         "jugs of liquor and fix many vexing problems before lunch").split()


def sentence(rng, n_words):
    return " ".join(rng.choice(WORDS) for _ in range(n_words)).capitalize() + "."


def _zip(path, entries, first_stored=None):
    """entries: (name, text) in order; first_stored is written uncompressed
    first (ODF and EPUB want their mimetype entry so)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        if first_stored:
            zf.writestr(zipfile.ZipInfo(first_stored[0]), first_stored[1],
                        compress_type=zipfile.ZIP_STORED)
        for name, text in entries:
            zf.writestr(name, text)


def _core(title, author):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator>'
            '</cp:coreProperties>')


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_body(paragraphs, items, table):
    def para(text, extra=""):
        return f'<w:p>{extra}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
    parts = [para(paragraphs[0], '<w:pPr><w:pStyle w:val="Heading1"/></w:pPr>')]
    parts += [para(p) for p in paragraphs[1:]]
    parts += [para(i, '<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>')
              for i in items]
    rows = "".join("<w:tr>" + "".join(f"<w:tc>{para(c)}</w:tc>" for c in row) + "</w:tr>"
                   for row in table)
    parts.append(f"<w:tbl>{rows}</w:tbl>")
    return f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>{"".join(parts)}</w:body></w:document>'


def make_docx(path, rng, document_xml=None):
    paragraphs = [sentence(rng, 4)] + [sentence(rng, 12) for _ in range(3)]
    items = [sentence(rng, 3) for _ in range(2)]
    table = [["Name", "Qty"], ["apples", "3"], ["pears", "12"]]
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
             'package/2006/content-types"><Override PartName="/word/document.xml" ContentType='
             '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
             '</Types>')
    _zip(path, [("[Content_Types].xml", types),
                ("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                 'openxmlformats.org/package/2006/relationships"/>'),
                ("docProps/core.xml", _core("Quarterly fox report", "Ada Lovelace")),
                ("word/document.xml", document_xml or docx_body(paragraphs, items, table))])
    lines = paragraphs + ["- " + i for i in items] + ["\t".join(r) for r in table]
    return "\n".join(lines) + "\n"


def make_xlsx(path, rng):
    sheets = [[["Fruit", "Count"], ["apple", "3"], ["pear", "14"]],
              [["City", "Population"], ["Oslo", "709037"]]]
    strings = sorted({c for s in sheets for r in s for c in r if not c.isdigit()})
    index = {s: i for i, s in enumerate(strings)}
    sst = ('<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
    entries = [("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                'openxmlformats.org/package/2006/content-types"/>'),
               ("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.'
                'openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="A" sheetId="1"/>'
                '<sheet name="B" sheetId="2"/></sheets></workbook>'),
               ("xl/sharedStrings.xml", sst)]
    for n, sheet in enumerate(sheets, 1):
        rows = ""
        for r, row in enumerate(sheet, 1):
            cells = ""
            for c, value in enumerate(row):
                ref = f"{'AB'[c]}{r}"
                cells += (f'<c r="{ref}"><v>{value}</v></c>' if value.isdigit()
                          else f'<c r="{ref}" t="s"><v>{index[value]}</v></c>')
            rows += f'<row r="{r}">{cells}</row>'
        entries.append((f"xl/worksheets/sheet{n}.xml",
                        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                        f'spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>'))
    _zip(path, entries)
    return "\f".join("".join("\t".join(r) + "\n" for r in s)[:-1] for s in sheets) + "\n"


def make_pptx(path, rng):
    slides = [[sentence(rng, 3), sentence(rng, 8)] for _ in range(3)]
    entries = [("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                'openxmlformats.org/package/2006/content-types"/>'),
               ("ppt/presentation.xml", '<?xml version="1.0"?><p:presentation xmlns:p="http://'
                'schemas.openxmlformats.org/presentationml/2006/main"/>'),
               ("docProps/core.xml", _core("Fox deck", "Grace Hopper"))]
    for n, lines in enumerate(slides, 1):
        paras = "".join(f"<a:p><a:r><a:t>{escape(t)}</a:t></a:r></a:p>" for t in lines)
        entries.append((f"ppt/slides/slide{n}.xml",
                        '<?xml version="1.0"?><p:sld xmlns:p="http://schemas.openxmlformats.org/'
                        'presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/'
                        f'drawingml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody>{paras}'
                        '</p:txBody></p:sp></p:spTree></p:cSld></p:sld>'))
    _zip(path, entries)
    return "\f".join("\n".join(s) for s in slides) + "\n"


ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"')


def _odf(path, kind, body, title, author):
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NS}>'
               f'<office:body>{body}</office:body></office:document-content>')
    meta = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {ODF_NS}><office:meta>'
            f'<dc:title>{escape(title)}</dc:title><meta:initial-creator>{escape(author)}'
            '</meta:initial-creator></office:meta></office:document-meta>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:'
                'oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
    _zip(path, [("content.xml", content), ("meta.xml", meta), ("META-INF/manifest.xml", manifest)],
         first_stored=("mimetype", f"application/vnd.oasis.opendocument.{kind}"))


def _odf_table(rows):
    return "<table:table>" + "".join(
        "<table:table-row>" + "".join(
            f"<table:table-cell><text:p>{escape(c)}</text:p></table:table-cell>" for c in row)
        + "</table:table-row>" for row in rows) + "</table:table>"


def make_odt(path, rng):
    heading, paras = sentence(rng, 4), [sentence(rng, 10) for _ in range(2)]
    items, table = [sentence(rng, 3) for _ in range(2)], [["k", "v"], ["x", "1"]]
    spaced = "two <text:s/>spaces and<text:tab/>tab"
    body = (f'<office:text><text:h text:outline-level="1">{escape(heading)}</text:h>'
            + "".join(f"<text:p>{escape(p)}</text:p>" for p in paras)
            + f"<text:p>{spaced}</text:p>"
            + "<text:list>" + "".join(f"<text:list-item><text:p>{escape(i)}</text:p></text:list-item>"
                                      for i in items) + "</text:list>"
            + _odf_table(table) + "</office:text>")
    _odf(path, "text", body, "An ODT", "Linus")
    lines = [heading] + paras + ["two  spaces and tab"] + ["- " + i for i in items] + \
        ["\t".join(r) for r in table]
    return "\n".join(lines) + "\n"


def make_ods(path, rng):
    sheets = [[["a", "b"], ["1", "2"]], [["c"], ["3"]]]
    body = "<office:spreadsheet>" + "".join(_odf_table(s) for s in sheets) + "</office:spreadsheet>"
    _odf(path, "spreadsheet", body, "An ODS", "Linus")
    return "\f".join("\n".join("\t".join(r) for r in s) for s in sheets) + "\n"


def make_odp(path, rng):
    pages = [[sentence(rng, 3), sentence(rng, 6)] for _ in range(2)]
    body = "<office:presentation>" + "".join(
        "<draw:page><draw:frame><draw:text-box>" +
        "".join(f"<text:p>{escape(t)}</text:p>" for t in page) +
        "</draw:text-box></draw:frame></draw:page>" for page in pages) + "</office:presentation>"
    _odf(path, "presentation", body, "An ODP", "Linus")
    return "\f".join("\n".join(p) for p in pages) + "\n"


def make_epub(path, rng):
    chapters = [[sentence(rng, 4), sentence(rng, 10)] for _ in range(2)]
    container = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:'
                 'opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
                 'media-type="application/oebps-package+xml"/></rootfiles></container>')
    items = "".join(f'<item id="c{n}" href="c{n}.xhtml" media-type="application/xhtml+xml"/>'
                    for n in range(len(chapters)))
    # The spine reads the chapters in reverse: order comes from it, not the zip.
    spine = "".join(f'<itemref idref="c{n}"/>' for n in reversed(range(len(chapters))))
    opf = ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
           '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>An EPUB</dc:title>'
           '<dc:creator>Mary Shelley</dc:creator><dc:language>en</dc:language></metadata>'
           f'<manifest>{items}</manifest><spine>{spine}</spine></package>')
    entries = [("META-INF/container.xml", container), ("OEBPS/content.opf", opf)]
    for n, (h, p) in enumerate(chapters):
        entries.append((f"OEBPS/c{n}.xhtml",
                        '<?xml version="1.0" encoding="UTF-8"?><html xmlns="http://www.w3.org/1999/'
                        f'xhtml"><head><title>c{n}</title></head><body><h1>{escape(h)}</h1>'
                        f'<p>{escape(p)}</p></body></html>'))
    _zip(path, entries, first_stored=("mimetype", "application/epub+zip"))
    return "".join(f"{h}\n{p}\n" for h, p in reversed(chapters))


def make_html(path, rng):
    h, p = sentence(rng, 4), sentence(rng, 12)
    page = (f"<!DOCTYPE html><html><head><title>Fox page</title><style>p {{color: red}}</style>"
            f"<script>var hidden = 1;</script></head><body><nav>Home | About</nav>"
            f"<h1>{escape(h)}</h1><p>{escape(p)} <a href='https://example.invalid/'>a link</a>"
            f" ends.</p><ul><li>one</li><li>two</li></ul>"
            f"<table><tr><th>k</th><th>v</th></tr><tr><td>x</td><td>1</td></tr></table>"
            f"<script>document.write('no')</script></body></html>")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return f"{h}\n{p} a link ends.\n- one\n- two\nk\tv\nx\t1\n"


def make_eml(path, rng, attachment=None):
    body = sentence(rng, 10)
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.invalid>"
    msg["To"] = "bob@example.invalid"
    msg["Date"] = "Mon, 07 Dec 2026 01:02:03 +0000"
    msg["Subject"] = "Fox news"
    msg.set_content(body + "\n")
    msg.add_alternative(f"<html><body><p>{escape(body)}</p></body></html>", subtype="html")
    text = ("From: Alice <alice@example.invalid>\nTo: bob@example.invalid\n"
            "Date: Mon, 07 Dec 2026 01:02:03 +0000\nSubject: Fox news\n" + body + "\n")
    if attachment:
        name, data, maintype, subtype, inner = attachment
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        text += f"Attachment: {name} ({maintype}/{subtype})\n" + inner
    with open(path, "wb") as f:
        f.write(bytes(msg))
    return text


def make_pdf(path, pages, lines_per_page=20, seed=1, title="A PDF", author="Ada"):
    """A PDF with a text layer (reportlab): returns the text, pages split by \f."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    rng = random.Random(seed)
    c = canvas.Canvas(path, pagesize=A4)
    c.setTitle(title)
    c.setAuthor(author)
    texts = []
    for _ in range(pages):
        lines = [sentence(rng, 9) for _ in range(lines_per_page)]
        y = 800
        for line in lines:
            c.drawString(50, y, line)
            y -= 16
        c.showPage()
        texts.append("\n".join(lines))
    c.save()
    return "\f".join(texts) + "\n"


def text_image(text_lines, size=(1100, 90), font_size=30):
    from PIL import Image, ImageDraw, ImageFont
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", font_size)
    image = Image.new("L", (size[0], size[1] * len(text_lines)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(text_lines):
        draw.text((30, 20 + i * size[1]), line, fill=0, font=font)
    return image


def make_png(path, lines, fmt="PNG"):
    text_image(lines).save(path, fmt, dpi=(300, 300))
    return "\n".join(lines) + "\n"


def make_tiff(path, pages_lines):
    """A multi-page TIFF, one page per list of lines."""
    images = [text_image(lines) for lines in pages_lines]
    images[0].save(path, "TIFF", dpi=(300, 300), save_all=True, append_images=images[1:])
    return "\f".join("\n".join(p) for p in pages_lines) + "\n"


def make_scanned_pdf(path, pages_lines):
    """A PDF whose pages are images only (no text layer)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    c = canvas.Canvas(path, pagesize=A4)
    for lines in pages_lines:
        image = text_image(lines)
        c.drawImage(ImageReader(image), 30, 600, width=image.width * 0.5, height=image.height * 0.5)
        c.showPage()
    c.save()
    return "\f".join("\n".join(p) for p in pages_lines) + "\n"


# --- hostile inputs ---------------------------------------------------------------

def make_zip_bomb_docx(path, expanded_mib=100):
    """A DOCX whose word/document.xml expands to expanded_mib MiB of spaces."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("docProps/core.xml", _core("bomb", "x"))
        with zf.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(f'<w:document {W}><w:body><w:p><w:r><w:t>'.encode())
            chunk = b" " * (1 << 20)
            for _ in range(expanded_mib):
                f.write(chunk)
            f.write(b"</w:t></w:r></w:p></w:body></w:document>")


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                    for i in range(1, 10)) + ']>')


def billion_laughs_docx_xml():
    return LAUGHS + f'<w:document {W}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'


def billion_laughs_html():
    return (LAUGHS.replace('<?xml version="1.0"?>', "") +
            "<html><body><p>&lol9;</p><p>after</p></body></html>")


def huge_png_header(width=30000, height=30000):
    """A PNG that announces width x height pixels and holds almost none."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))


def nested_mime(depth=100):
    """A message whose multiparts nest depth deep."""
    head = "From: a@example.invalid\nTo: b@example.invalid\nSubject: deep\nMIME-Version: 1.0\n"
    parts = []
    for i in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n')
    middle = "Content-Type: text/plain\n\ninnermost\n"
    tail = "".join(f"--b{i}--\n" for i in reversed(range(depth)))
    return head + "".join(parts) + middle + tail


def pdf_of(objects, prev_self=False):
    """A PDF of the object bodies `objects` (numbered from 1, the first the
    catalog) with a correct xref table; prev_self makes the xref's /Prev
    point at itself (a loop)."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    prev = b" /Prev %d" % xref if prev_self else b""
    out.write(b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, prev, xref))
    return out.getvalue()


def hostile_documents(tmp):
    """Name -> bytes: a truncated PDF, a zip bomb as DOCX (80 MiB inflated),
    billion laughs in a DOCX, a 30,000 x 30,000 PNG header, MIME 100 deep."""
    files = {}
    full = os.path.join(tmp, "full.pdf")
    make_pdf(full, pages=3)
    with open(full, "rb") as f:
        data = f.read()
    files["truncated.pdf"] = data[: len(data) // 2]
    bomb = os.path.join(tmp, "bomb.docx")
    make_zip_bomb_docx(bomb, expanded_mib=80)
    with open(bomb, "rb") as f:
        files["bomb.docx"] = f.read()
    laughs = os.path.join(tmp, "laughs.docx")
    make_docx(laughs, random.Random(1), billion_laughs_docx_xml())
    with open(laughs, "rb") as f:
        files["laughs.docx"] = f.read()
    files["huge.png"] = huge_png_header(30000, 30000)
    files["deep.eml"] = nested_mime(100).encode()
    return files
