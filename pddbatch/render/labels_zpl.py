"""Waybill labels as ZPL II for 203 dpi thermal printers, carrying their own Chinese glyphs.

A stock Zebra-class printer has no Chinese font, so the job brings its glyphs: every (character,
size, weight) the file uses is rasterised once from the label font (Noto Sans SC, the same one the PDF
embeds) and downloaded as a graphic with `~DG` just before the first label that needs it; each
character on a label is then a `^FO x,y ^XG` recall placed at the PDF's own glyph positions. `~DG` /
`^XG` (and the ZPL II hex compression used in the downloads) are in every ZPL II printer and emulator,
unlike TrueType downloads (`~DU` + `^A@`), which need recent firmware, and smaller than one `^GF`
bitmap per text line (a line's bitmap is sent again on every label). Why and what it costs: docs/labels.md.

Barcodes are native `^BC` (automatic subsets), rules `^GB`. The graphics live in the printer's DRAM
(`R:`) under names made of the glyph itself (`zpl_glyphs.glyph_name`: weight, size, code point — the
same name in every worker process that draws a share of the labels); every job downloads what it uses
before using it, so a job never depends on an earlier one. The graphics themselves: `zpl_glyphs`.
Here: a label's fields (`zpl_ops`), a run of labels (`ZplPages`), the file (`ZplLabelWriter`).
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence
from itertools import accumulate
from operator import add
from pathlib import Path
from typing import IO, Any, NamedTuple

from pddbatch.model import Carrier
from pddbatch.render.fonts import FontUse
from pddbatch.render.labelpage import ASCENT, LabelEngine, Op
from pddbatch.render.layout import Layout
from pddbatch.render.pdf import DOT
from pddbatch.render.zpl_glyphs import BLANK, FO, FO_HIGH, FO_LOW, GlyphBank, Line


def _d(pt: float) -> int:
    """Points -> printer dots (203 dpi)."""
    return round(pt / DOT)


FRAGMENT_CACHE = 20_000     # text fields repeat from label to label (SKU lines, hub line, weight): format once


# where a text op's glyphs go: (its baseline's Line, the advances at its size, pen start, size in dots,
# baseline in dots), by the op's (x, y, size, weight) — the same few places label after label
Place = tuple[Line, dict[str, float], float, int, int]


def zpl_ops(ops: Sequence[Op], bank: GlyphBank, fonts: Sequence[FontUse],
            cache: dict[tuple[Any, ...], str] | None = None,
            places: dict[tuple[Any, ...], Place] | None = None) -> list[str]:
    """ZPL fields for ops (see labelpage); text becomes one `^XG` glyph recall per visible character.
    `cache` keeps short texts' fields, `places` each text position's glyph line (one process's, for
    one file's labels: the bank's)."""
    out: list[str] = []
    for op in ops:
        kind = op[0]
        if kind == "T":
            frag = cache.get(op) if cache is not None else None
            if frag is None:
                frag = _text(op, bank, fonts, places)
                if cache is not None and len(op[5]) <= 80 and len(cache) < FRAGMENT_CACHE:
                    cache[op] = frag
            out.append(frag)
        elif kind == "B":
            _, x, y, m, h, bars, data = op
            quiet = bars[0][0] if bars else 0
            out.append(f"^FO{_d(x + quiet * m)},{_d(y)}^BY{_d(m)}^BCN,{_d(h)},N,N,N,A^FH^FD{fh(data)}^FS")
        elif kind == "L":
            out += _rule(op)
    return out


def _place(op: Op, bank: GlyphBank) -> Place:
    _, x, y, size, fi, _s = op
    px = _d(size)
    base = _d(y + ASCENT * size)
    return bank.line(px, fi, base), bank.advance(fi, size), x / DOT + 0.5, px, base


def _text(op: Op, bank: GlyphBank, fonts: Sequence[FontUse], places: dict[tuple[Any, ...], Place] | None = None
          ) -> str:
    """One `^FO…^XG` recall per visible char, composed in C-level passes over the text: pens are the
    running sum of the advances (`accumulate`: the same float additions a loop makes), "^FOx" comes
    from `FO` at int(pen) + the glyph's offset, its ",y^XG…^FS" from the line. ~0.9 -> ~0.4 us a char
    against one Python-level step per char (ZPL text was a fifth of a label's CPU). A position's line
    comes from `places` when given (the dots and lookups per text op: ~1 us, five or six ops a label)."""
    if places is None:
        line, adv, start, px, base = _place(op, bank)
    else:
        where = op[1:5]
        got = places.get(where)
        if got is None:
            got = _place(op, bank)
            if len(places) < FRAGMENT_CACHE:      # (right-aligned text moves with its width)
                places[where] = got
        line, adv, start, px, base = got
    fi, s, size = op[4], op[5], op[3]
    try:
        dxs = list(map(line.dx.__getitem__, s))
        steps = list(map(adv.__getitem__, s))
    except KeyError:
        scale = size / 1000 / DOT
        for ch in s:                 # first use on this baseline: made in text order (download order)
            if ch not in line.dx:
                bank.place(ch, px, fi, base)
            if ch not in adv:
                adv[ch] = fonts[fi].widths(ch)[0] * scale
        dxs = list(map(line.dx.__getitem__, s))
        steps = list(map(adv.__getitem__, s))
    if start >= 0 and start + sum(steps) + FO_LOW < FO_HIGH:    # every pen and glyph on the label
        fos = map(FO.__getitem__, map(add, map(int, accumulate(steps, initial=start)), dxs))
        return "".join(map(add, fos, map(line.rest.__getitem__, s)))
    pens = accumulate(steps, initial=start)    # off any real label: formatted one by one
    return "".join([f"^FO{int(pen) + dx - FO_LOW}{line.rest[ch]}" for pen, dx, ch in zip(pens, dxs, s, strict=False)
                    if dx != BLANK])


def _rule(op: Op) -> list[str]:
    _, x1, y1, x2, y2, w, dash = op
    t = max(1, _d(w))
    if abs(y2 - y1) >= 0.01:
        return [f"^FO{_d(x1) - t // 2},{_d(min(y1, y2))}^GB{t},{max(t, _d(abs(y2 - y1)))},{t}^FS"]
    a, b, y = _d(min(x1, x2)), _d(max(x1, x2)), _d(y1) - t // 2
    if not dash:
        return [f"^FO{a},{y}^GB{max(t, b - a)},{t},{t}^FS"]
    on, step = _d(3), _d(5)          # the PDF's [3 2] dash pattern
    return [f"^FO{p},{y}^GB{min(on, b - p)},{t},{t}^FS" for p in range(a, b, step)]


def fh(text: str) -> str:
    """Escape ZPL control characters for a ^FH field (hex with '_' as the indicator)."""
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")


class ZplSpooled(NamedTuple):
    """A run's labels written by the worker that drew them to a part file (ASCII): the parent copies
    its byte ranges into the ZPL file in the kernel instead of taking ~5 KB a label through a pipe."""

    path: str
    cuts: dict[int, int]      # byte offset of label i, for every label i that needs new graphics
    size: int


# (labels, needs, downloads): the labels as strings, or spooled to a part file
ZplChunk = tuple[list[str] | ZplSpooled, dict[int, list[str]], dict[str, str]]


class ZplGlyphs:
    """What one process keeps between its runs of labels for one file: the glyph graphics it made
    and the text fragments it formatted (a worker draws several runs of the same file)."""

    def __init__(self, fonts: Sequence[FontUse]) -> None:
        self.bank = GlyphBank([f.metrics for f in fonts])
        self.fragments: dict[tuple[Any, ...], str] = {}
        self.places: dict[tuple[Any, ...], Place] = {}


class ZplPages:
    """ZPL labels (^XA..^XZ) for a run of parcels, and the glyph graphics they need.

    `chunk()` gives (labels, needs, downloads): `needs[i]` names the graphics this process made for
    label i (its first use here), `downloads` their ~DG commands. A process draws its runs in file
    order, so a graphic it does not name again was named in one of its earlier runs; the writer
    sends each graphic once per file, before the first label that needs it.
    """

    def __init__(self, layout: Layout, engine: LabelEngine, fonts: Sequence[FontUse], glyphs: ZplGlyphs) -> None:
        self.engine, self.fonts, self.glyphs = engine, fonts, glyphs
        self.start = f"^XA^PW{round(layout.width_mm * 8)}^LL{round(layout.height_mm * 8)}^LH0,0"
        self.heads: dict[str, str] = {}
        self.labels: list[str] = []
        self.needs: dict[int, list[str]] = {}

    def add(self, carrier: Carrier, ops: Sequence[Op]) -> None:
        bank = self.glyphs.bank
        head = self.heads.get(carrier.code)
        if head is None:
            head = self.heads[carrier.code] = self.start + "".join(
                zpl_ops(self.engine.static_ops(carrier), bank, self.fonts))
        body = "".join(zpl_ops(ops, bank, self.fonts, self.glyphs.fragments, self.glyphs.places))
        if bank.pending:
            self.needs[len(self.labels)] = bank.take_pending()
        self.labels.append(f"{head}{body}^XZ\n")

    def chunk(self, spool: Path | None = None) -> ZplChunk:
        """The run's labels, needs and downloads; with `spool`, the labels are written to that part
        file (the parent copies them, see ZplLabelWriter) and only their cut offsets come back."""
        downloads = self.glyphs.bank.downloads
        wanted = {n: downloads[n] for names in self.needs.values() for n in names}
        if spool is None:
            return self.labels, self.needs, wanted
        data = "".join(self.labels).encode("ascii")
        cuts, at, done = {}, 0, 0
        for i in sorted(self.needs):           # ASCII: a label's length in chars is its length in bytes
            at += sum(map(len, self.labels[done:i]))
            cuts[i], done = at, i
        with open(spool, "wb") as fh:
            fh.write(data)
        return ZplSpooled(str(spool), cuts, len(data)), self.needs, wanted


class ZplLabelWriter:
    """One ZPL file (binary, ASCII): labels in order, each preceded by the graphics it is the first
    in the file to use."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.sent: set[str] = set()

    def add(self, chunk: ZplChunk) -> None:
        labels, needs, downloads = chunk
        if not isinstance(labels, ZplSpooled):
            self._splice(needs, downloads, lambda lo, hi: self.fh.write("".join(labels[lo:hi]).encode("ascii")))
            return
        part = labels       # (the part file is removed once copied)

        def at(i: int | None) -> int:
            return part.size if i is None else part.cuts[i] if i else 0

        try:
            with open(part.path, "rb") as src:
                self._splice(needs, downloads, lambda lo, hi: copy_range(src, self.fh, at(lo), at(hi) - at(lo)))
        finally:
            os.unlink(part.path)

    def _splice(self, needs: dict[int, list[str]], downloads: dict[str, str],
                emit: Callable[[int, int | None], object]) -> None:
        """The run's labels through `emit(lo, hi)` (labels lo..hi, None: to the end), each graphic the
        file has not sent yet written just before the first label that needs it."""
        done = 0
        for i in sorted(needs):
            new = [n for n in needs[i] if n not in self.sent]
            if not new:
                continue
            emit(done, i)
            self.fh.write("".join(downloads[n] for n in new).encode("ascii"))
            self.sent.update(new)
            done = i
        emit(done, None)


KERNEL_COPY = sys.platform.startswith("linux")     # sendfile(2) between regular files
# what a file system answers when it can't sendfile (FUSE without splice, some network mounts): read
# and write the rest instead
_NO_SENDFILE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV})


def copy_range(src: IO[bytes], dst: IO[bytes], offset: int, count: int, *, kernel: bool = KERNEL_COPY) -> None:
    """`count` bytes of `src` from `offset` appended to `dst`: in the kernel where it can (Linux
    sendfile between regular files), else — or from where the file system refused — read and written."""
    if count <= 0:
        return
    if kernel:
        offset, count = _send(src, dst, offset, count)
    if count <= 0:
        return
    src.seek(offset)
    while count > 0:
        block = src.read(min(count, 1 << 20))
        if not block:
            raise OSError(f"{src.name} ended before its labels did")
        dst.write(block)
        count -= len(block)


def _send(src: IO[bytes], dst: IO[bytes], offset: int, count: int) -> tuple[int, int]:
    """sendfile as far as the file system lets it; (offset, count) of what is left to copy."""
    dst.flush()
    out = dst.fileno()
    try:
        while count > 0:
            sent = os.sendfile(out, src.fileno(), offset, count)
            if sent == 0:
                raise OSError(f"{src.name} ended before its labels did")
            offset, count = offset + sent, count - sent
    except OSError as exc:
        if exc.errno not in _NO_SENDFILE:
            raise
    finally:
        dst.seek(0, os.SEEK_END)        # the buffered writer goes on from where the kernel left the file
    return offset, count
