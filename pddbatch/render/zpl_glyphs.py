"""The glyph graphics a ZPL label file carries: each (character, size, weight) rasterised once from the
label font, compressed as ZPL II hex for its `~DG` download, named the same in every process
(`glyph_name`), and placed on the baselines labels reuse (`GlyphBank`, `Line`). labels_zpl composes
labels from them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from pddbatch.render.fonts import WEIGHTS, FontMetrics, variable_font_path

INK_THRESHOLD = 104      # anti-aliased coverage (0-255) from which a dot is printed; thin strokes survive
_RUN = re.compile(r"(.)\1{2,}")


def _count(n: int) -> str:
    """ZPL II repeat count: G..Y = 1..19, g..z = 20..400 (added up)."""
    out = "z" * (n // 400)
    n %= 400
    if n >= 20:
        out += chr(ord("f") + n // 20)
        n %= 20
    return out + (chr(ord("F") + n) if n else "")


def zpl_hex(data: bytes, row_bytes: int) -> str:
    """Bitmap rows as ZPL II compressed hex: runs as counts, ',' zero-fills a row, ':' repeats the last."""
    out: list[str] = []
    prev = None
    for i in range(0, len(data), row_bytes):
        row = data[i:i + row_bytes]
        if row == prev:
            out.append(":")
            continue
        prev = row
        body = row.rstrip(b"\0")
        h = _RUN.sub(lambda m: _count(len(m.group(0))) + m.group(1), body.hex().upper())
        out.append(h + ("," if len(body) < len(row) else ""))
    return "".join(out)


def hex_rows(text: str, total: int, row_bytes: int) -> bytes:
    """Decode ZPL II compressed hex back to bytes (the inverse of `zpl_hex`; used by the tests too)."""
    rows: list[bytes] = []
    cur = ""
    i, n = 0, len(text)
    rep = 0
    width = row_bytes * 2
    while i < n:
        c = text[i]
        if "G" <= c <= "Y":
            rep += ord(c) - ord("F")
        elif "g" <= c <= "z":
            rep += (ord(c) - ord("f")) * 20
        elif c == ",":
            rows.append(bytes.fromhex(cur.ljust(width, "0")))
            cur = ""
        elif c == ":":
            rows.append(rows[-1] if rows else bytes(row_bytes))
        else:
            cur += c * (rep or 1)
            rep = 0
            if len(cur) >= width:
                rows.append(bytes.fromhex(cur[:width]))
                cur = cur[width:]
        i += 1
    if cur:
        rows.append(bytes.fromhex(cur.ljust(width, "0")))
    return b"".join(rows)[:total]


Glyph = tuple[int, int, str] | None     # (dx, dy from the pen on the baseline, "^XG…^FS"), None = blank
_MISSING: Glyph = (0, 0, "")

FO_LOW = 512                 # glyphs start at most this many dots left of the pen
FO_HIGH = 8192               # … and end left of this (a label is ≤ ~1,600 dots wide)
# "^FOx" by x + FO_LOW, then as many "" (a blank char's index lands there: see Line)
FO = [f"^FO{x}" for x in range(-FO_LOW, FO_HIGH)] + [""] * (FO_LOW + FO_HIGH)
BLANK = -(FO_LOW + FO_HIGH)


class Line:
    """The glyphs on one baseline at one size and weight: char -> index offset into `FO` (dx + FO_LOW,
    or `BLANK` for a char that draws nothing) and char -> ",y^XG…^FS" ("" for a blank). A label's
    text lines sit at the same few baselines label after label, so each glyph's y and recall are
    formatted once per baseline. A blank's offset puts pen + offset among the last entries of `FO`,
    which are "", for any pen on a label (0 <= pen < FO_HIGH)."""

    __slots__ = ("dx", "rest")

    def __init__(self) -> None:
        self.dx: dict[str, int] = {}
        self.rest: dict[str, str] = {}


class GlyphBank:
    """The glyph graphics of one ZPL file: rasterised once per (char, size in dots, weight), named PD<n>."""

    def __init__(self, metrics: Sequence[FontMetrics]) -> None:
        self.metrics = metrics
        self.tables: dict[tuple[int, int], dict[str, Glyph]] = {}   # (px, weight) -> char -> glyph
        self.lines: dict[tuple[int, int, int], Line] = {}   # (px, weight, baseline) -> its glyphs
        self.advances: dict[tuple[int, float], dict[str, float]] = {}   # (weight, size pt) -> char -> dots
        self.pending: list[str] = []          # names of graphics made since the last take_pending()
        self.downloads: dict[str, str] = {}   # name -> its ~DG command
        self.bitmaps: dict[str, tuple[int, int, bytes]] = {}   # name -> (width dots, height, packed rows)

    def line(self, px: int, fi: int, base: int) -> Line:
        """The glyphs placed so far on the baseline at `base` dots."""
        t = self.lines.get((px, fi, base))
        if t is None:
            t = self.lines[(px, fi, base)] = Line()
        return t

    def place(self, ch: str, px: int, fi: int, base: int) -> None:
        """Add `ch` to its baseline's line (its graphic made now if this is its first use here)."""
        g = self.glyph(ch, px, fi)
        line = self.line(px, fi, base)
        if g is None:
            line.dx[ch], line.rest[ch] = BLANK, ""
        else:
            line.dx[ch], line.rest[ch] = g[0] + FO_LOW, f",{base + g[1]}{g[2]}"

    def advance(self, fi: int, size: float) -> dict[str, float]:
        """Char -> advance in dots at `size` pt (the font's 1/1000 em width times size / 1000 / DOT)."""
        t = self.advances.get((fi, size))
        if t is None:
            t = self.advances[(fi, size)] = {}
        return t

    def table(self, px: int, fi: int) -> dict[str, Glyph]:
        t = self.tables.get((px, fi))
        if t is None:
            t = self.tables[(px, fi)] = {}
        return t

    def glyph(self, ch: str, px: int, fi: int) -> Glyph:
        t = self.table(px, fi)
        g = t.get(ch, _MISSING)
        if g is _MISSING:
            g = t[ch] = self._make(ch, px, fi)
        return g

    def _make(self, ch: str, px: int, fi: int) -> Glyph:
        made = _raster(ch, px, self.metrics[fi].weight, fi)
        if made is None:
            return None
        x0, y0, name, bitmap, download = made
        self.bitmaps[name] = bitmap
        self.downloads[name] = download
        self.pending.append(name)
        return x0, y0, f"^XGR:{name}.GRF,1,1^FS"

    def take_pending(self) -> list[str]:
        out = list(self.pending)
        self.pending.clear()
        return out


Raster = tuple[int, int, str, tuple[int, int, bytes], str]   # (dx, dy, name, (w, h, rows), ~DG command)
_INK = [255 if v >= INK_THRESHOLD else 0 for v in range(256)]


@cache
def _raster(ch: str, px: int, weight: str, fi: int) -> Raster | None:
    """One glyph's graphic, made once per process: every file's GlyphBank (a worker draws several
    files) shares it — and the FreeType face per size, which holds the 17 MB variable font: one per
    bank cost a worker ~100 MB per label file."""
    from PIL import Image, ImageDraw

    font = _face(px, weight)
    bx0, by0, bx1, by1 = font.getbbox(ch, anchor="ls")
    x0, y0, x1, y1 = math.floor(bx0), math.floor(by0), math.ceil(bx1), math.ceil(by1)
    if x1 <= x0 or y1 <= y0:
        return None
    im = Image.new("L", (x1 - x0, y1 - y0))
    ImageDraw.Draw(im).text((-x0, -y0), ch, font=font, fill=255, anchor="ls")
    bits = im.point(_INK, "1")
    data = bits.tobytes()
    if not data.strip(b"\0"):
        return None
    row_bytes = (bits.width + 7) // 8
    name = glyph_name(ch, px, fi)
    download = f"~DGR:{name}.GRF,{len(data)},{row_bytes},{zpl_hex(data, row_bytes)}\n"
    return x0, y0, name, (bits.width, bits.height, data), download


@cache
def _face(px: int, weight: str) -> Any:
    """The variable font itself at this size and weight (FreeType applies the variation)."""
    from PIL import ImageFont

    font = ImageFont.truetype(str(variable_font_path()), px)
    font.set_variation_by_axes([WEIGHTS[weight]])
    return font


_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(n: int, width: int) -> str:
    out = ""
    for _ in range(width):
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out


def glyph_name(ch: str, px: int, fi: int) -> str:
    """The graphic's printer name: R/B (weight), size in dots and code point in base 36 — 7 characters
    (ZPL allows 8), the same for the same glyph in any process."""
    return f"{'RB'[fi]}{_base36(px, 2)}{_base36(ord(ch), 4)}"
