"""A small PDF writer: numbered objects, streams, Type0 (CIDFontType2, Identity-H) fonts, the xref.

Objects may be written in any order; page objects can be produced elsewhere (in worker processes) as
one blob plus relative offsets and appended with `blob()`. Text is drawn as hex glyph ids
(see `fonts.FontUse.hex`), so the font subset can be built after all pages are written.
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO

from pddbatch import deflate
from pddbatch.render.font_subset import subset_font
from pddbatch.render.fonts import FontUse

MM = 72 / 25.4
DOT = 72 / 203          # one printer dot at 203 dpi, in points


def num(v: float) -> str:
    """A compact PDF number."""
    s = f"{v:.2f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


class PdfFile:
    """Write objects to an open binary file; `finish()` writes the xref table and trailer."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.pos = 0
        self.offsets: dict[int, int] = {}
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, b: bytes) -> None:
        self.fh.write(b)
        self.pos += len(b)

    def obj(self, n: int, body: str | bytes) -> None:
        self.offsets[n] = self.pos
        data = body.encode("latin-1") if isinstance(body, str) else body
        self._write(b"%d 0 obj\n%s\nendobj\n" % (n, data))

    def stream(self, n: int, data: bytes, extra: str = "", level: int = 6) -> None:
        self.offsets[n] = self.pos
        self._write(stream_obj(n, data, extra, level))

    def blob(self, data: bytes, rel: list[tuple[int, int]]) -> None:
        """Append pre-serialised objects; `rel` holds (object number, offset within `data`)."""
        base = self.pos
        for n, off in rel:
            self.offsets[n] = base + off
        self._write(data)

    def finish(self, root: int, info: str = "") -> None:
        size = max(self.offsets) + 1
        xref_at = self.pos
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % size]
        offs = self.offsets
        lines += [(b"%010d 00000 n \n" % offs[i]) if i in offs else b"0000000000 65535 f \n"
                  for i in range(1, size)]
        self._write(b"".join(lines))
        trailer = f"trailer\n<< /Size {size} /Root {root} 0 R{info} >>\nstartxref\n{xref_at}\n%%EOF\n"
        self._write(trailer.encode("latin-1"))


def stream_obj(n: int, data: bytes, extra: str = "", level: int = 6) -> bytes:
    """One serialised stream object; level 0 stores it uncompressed."""
    if level:
        data = deflate.compress(data, level)
        extra = " /Filter /FlateDecode" + extra
    return b"%d 0 obj\n<< /Length %d%s >>\nstream\n%s\nendstream\nendobj\n" % (
        n, len(data), extra.encode("latin-1"), data)


FONT_OBJECTS = 5   # objects one embedded font takes


def write_font(pdf: PdfFile, first: int, use: FontUse) -> None:
    """Write the Type0 font `use` as objects first..first+4 (Type0 is `first`)."""
    m = use.metrics
    font, to_uni = subset_font(m, use.used)
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha1("".join(sorted(use.used)).encode()).digest()[:6])
    base = f"/{tag}+{m.name}"
    scale = 1000 / m.units_per_em
    gids = sorted(to_uni)
    widths = " ".join(f"{g} [{round(m.advances[g] * scale)}]" for g in gids)
    pdf.obj(first, f"<< /Type /Font /Subtype /Type0 /BaseFont {base} /Encoding /Identity-H "
                   f"/DescendantFonts [{first + 1} 0 R] /ToUnicode {first + 4} 0 R >>")
    pdf.obj(first + 1, f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont {base} "
                       "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                       f"/FontDescriptor {first + 2} 0 R /DW 1000 /W [{widths}] /CIDToGIDMap /Identity >>")
    bb = " ".join(str(round(v * scale)) for v in m.bbox)
    pdf.obj(first + 2, f"<< /Type /FontDescriptor /FontName {base} /Flags 4 /FontBBox [{bb}] "
                       f"/ItalicAngle 0 /Ascent {round(m.ascent * scale)} /Descent {round(m.descent * scale)} "
                       f"/CapHeight {round(m.cap_height * scale)} /StemV 80 /FontFile2 {first + 3} 0 R >>")
    pdf.stream(first + 3, font, f" /Length1 {len(font)}")
    pdf.stream(first + 4, _to_unicode(to_uni))


def _to_unicode(to_uni: dict[int, str]) -> bytes:
    items = sorted(to_uni.items())
    out = ["/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
           "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
           "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
           "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"]
    for i in range(0, len(items), 100):
        chunk = items[i:i + 100]
        out.append(f"{len(chunk)} beginbfchar\n")
        out += [f"<{g:04X}> <{ch.encode('utf-16-be').hex().upper()}>\n" for g, ch in chunk]
        out.append("endbfchar\n")
    out.append("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
    return "".join(out).encode("ascii")


def pdf_text_string(s: str) -> str:
    """A PDF text string (UTF-16BE hex) for the Info dictionary."""
    return "<FEFF" + s.encode("utf-16-be").hex().upper() + ">"
