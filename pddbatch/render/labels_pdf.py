"""Waybill labels as PDF: one page per parcel, fixed parts in one Form XObject.

Object numbers are fixed in advance (page i is objects FIRST_PAGE + 2i and + 2i + 1; one form per
carrier follows the pages), so `PdfPages` can serialise whole page objects in a worker process and
`PdfLabelWriter` in the parent only appends blobs and writes the fonts (one subset per file), the
forms and the xref. Which process draws which pages: `labels.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import BinaryIO

from pddbatch.model import Carrier
from pddbatch.render.fonts import FontUse, font_metrics
from pddbatch.render.labelpage import ASCENT, LabelEngine, Op
from pddbatch.render.layout import Layout
from pddbatch.render.pdf import FONT_OBJECTS, MM, PdfFile, num, pdf_text_string, stream_obj, write_font
from pddbatch.render.settings import RenderSettings

CATALOG, PAGES, RESOURCES = 1, 2, 3
FONT_REGULAR = 4
FONT_BOLD = FONT_REGULAR + FONT_OBJECTS
FIRST_PAGE = FONT_BOLD + FONT_OBJECTS


def fonts() -> list[FontUse]:
    return [FontUse(font_metrics("regular")), FontUse(font_metrics("bold"))]


class Content:
    """Content streams for ops (see labelpage); y is flipped to PDF's bottom-up space.

    `hexes[i](text)` gives font i's glyph ids as hex (FontUse.hex). One `Content` writes the streams of
    one document (or one run of labels): label after label and slip after slip put text at the same
    positions in the same fonts and bars in the same barcode box, so each formatted coordinate, font
    selection and bar is made once and remembered for the streams that follow (up to LIMIT of each).
    """

    LIMIT = 20_000
    TEXT_MAX = 40       # a text op this short is remembered whole (titles, SKU lines, products, hub lines)

    def __init__(self, height: float, hexes: Sequence[Callable[[str], str]]) -> None:
        self.height, self.hexes = height, hexes
        self.xs: dict[float, str] = {}
        self.ys: dict[tuple[float, float], str] = {}
        self.texts: dict[Op, str] = {}   # (the glyphs it uses were recorded by the first hexes call)
        self.fonts: dict[tuple[int, float], str] = {}
        self.bars: dict[tuple[float, float, float, float], dict[tuple[int, int], str]] = {}

    def __call__(self, ops: Sequence[Op]) -> bytes:
        height, hexes = self.height, self.hexes
        xs, ys, fonts, texts = self.xs, self.ys, self.fonts, self.texts
        if len(xs) > self.LIMIT or len(ys) > self.LIMIT or len(texts) > self.LIMIT:   # (right-aligned: x per width)
            xs.clear()
            ys.clear()
            texts.clear()
        out: list[str] = []
        bt = False
        cur: tuple[int, float] | None = None
        for op in ops:
            kind = op[0]
            if kind == "T":
                _, x, y, size, fi, s = op
                if not bt:
                    out.append("BT\n")
                    bt = True
                if cur != (fi, size):
                    cur = (fi, size)
                    tf = fonts.get(cur)
                    if tf is None:
                        tf = fonts[cur] = f"/F{fi} {num(size)} Tf\n"
                    out.append(tf)
                frag = texts.get(op)
                if frag is None:
                    fx = xs.get(x)
                    if fx is None:
                        fx = xs[x] = f"1 0 0 1 {x:.2f} "
                    fy = ys.get((y, size))
                    if fy is None:
                        fy = ys[(y, size)] = f"{height - y - ASCENT * size:.2f} Tm <"
                    frag = f"{fx}{fy}{hexes[fi](s)}> Tj\n"
                    if len(s) <= self.TEXT_MAX:
                        texts[op] = frag
                out.append(frag)
                continue
            if bt:
                out.append("ET\n")
                bt, cur = False, None
            if kind == "B":
                out.append(self._bars(op))
            elif kind == "L":
                _, x1, y1, x2, y2, w, dash = op
                out.append(f"{'[3 2] 0 d ' if dash else ''}{w:.2f} w {x1:.2f} {height - y1:.2f} m "
                           f"{x2:.2f} {height - y2:.2f} l S{' [] 0 d' if dash else ''}\n")
        if bt:
            out.append("ET\n")
        return "".join(out).encode("latin-1")

    def _bars(self, op: Op) -> str:
        """A barcode's bars as filled rectangles; each (position, width) formatted once per barcode box."""
        _, x, y, m, h, bars, _data = op
        key = (x, y, m, h)
        frags = self.bars.get(key)
        if frags is None:
            frags = self.bars[key] = {}
        yb = f" {self.height - y - h:.2f} "
        hs = f" {h:.2f} re\n"
        parts = []
        for bar in bars:
            frag = frags.get(bar)
            if frag is None:
                a, w = bar
                frag = frags[bar] = f"{x + a * m:.3f}{yb}{w * m:.3f}{hs}"
            parts.append(frag)
        parts.append("f\n")
        return "".join(parts)


def content(ops: Sequence[Op], height: float, hexes: Sequence[Callable[[str], str]]) -> bytes:
    """One content stream on its own (a form's); a document's pages share a `Content`."""
    return Content(height, hexes)(ops)


class PdfPages:
    """Page objects for a run of labels as one blob with each object's offset in it."""

    def __init__(self, layout: Layout, settings: RenderSettings, fs: Sequence[FontUse]) -> None:
        w, self.h = layout.width_mm * MM, layout.height_mm * MM
        self.head = (f"/Type /Page /Parent {PAGES} 0 R /MediaBox [0 0 {w:.4f} {self.h:.4f}] "
                     f"/Resources {RESOURCES} 0 R").encode()
        self.content = Content(self.h, [f.hex for f in fs])
        self.level = settings.compress
        self.forms: dict[str, bytes] = {}
        self.parts: list[bytes] = []
        self.rel: list[tuple[int, int]] = []
        self.pos = 0

    def add(self, index: int, carrier_code: str, ops: Sequence[Op]) -> None:
        """Page `index` (0-based in the file): the carrier's form, then the parcel's own ops."""
        form = self.forms.get(carrier_code)
        if form is None:
            form = self.forms[carrier_code] = b"/Fx%s Do\n" % carrier_code.encode()
        n = FIRST_PAGE + 2 * index
        page = b"%d 0 obj\n<< %s /Contents %d 0 R >>\nendobj\n" % (n, self.head, n + 1)
        stream = stream_obj(n + 1, form + self.content(ops), level=self.level)
        self.rel.append((n, self.pos))
        self.rel.append((n + 1, self.pos + len(page)))
        self.pos += len(page) + len(stream)
        self.parts += (page, stream)

    def chunk(self) -> tuple[bytes, list[tuple[int, int]]]:
        return b"".join(self.parts), self.rel


class PdfLabelWriter:
    """One label PDF: page blobs appended in order as they arrive, then the page tree, the carriers'
    forms, the two font subsets and the xref."""

    def __init__(self, fh: BinaryIO, layout: Layout, settings: RenderSettings, fs: list[FontUse],
                 total: int) -> None:
        self.pdf = PdfFile(fh)
        self.layout, self.settings, self.fs, self.total = layout, settings, fs, total

    def add(self, blob: bytes, rel: list[tuple[int, int]]) -> None:
        self.pdf.blob(blob, rel)

    def finish(self, carriers: dict[str, Carrier]) -> list[str]:
        """Write everything after the pages; the warnings drawing the fixed parts gave."""
        pdf, fs, total = self.pdf, self.fs, self.total
        engine = LabelEngine(self.layout, self.settings, fs)
        w, h = self.layout.width_mm * MM, self.layout.height_mm * MM
        forms = {code: content(engine.static_ops(c), h, [f.hex for f in fs]) for code, c in carriers.items()}
        form_obj = {code: FIRST_PAGE + 2 * total + k for k, code in enumerate(carriers)}
        info = FIRST_PAGE + 2 * total + len(carriers)
        names = "、".join(c.pdd_name for c in carriers.values())
        kids = " ".join(f"{FIRST_PAGE + 2 * i} 0 R" for i in range(total))
        pdf.obj(PAGES, f"<< /Type /Pages /Count {total} /Kids [{kids}] >>")
        xobjects = " ".join(f"/Fx{code} {n} 0 R" for code, n in form_obj.items())
        pdf.obj(RESOURCES, f"<< /Font << /F0 {FONT_REGULAR} 0 R /F1 {FONT_BOLD} 0 R >> "
                           f"/XObject << {xobjects} >> /ProcSet [/PDF /Text] >>")
        for code, n in form_obj.items():
            pdf.stream(n, forms[code], f" /Type /XObject /Subtype /Form /BBox [0 0 {w:.4f} {h:.4f}] "
                                       f"/Resources << /Font << /F0 {FONT_REGULAR} 0 R /F1 {FONT_BOLD} 0 R >> >>")
        write_font(pdf, FONT_REGULAR, fs[0])
        write_font(pdf, FONT_BOLD, fs[1])
        pdf.obj(info, f"<< /Title {pdf_text_string(names + ' 面单')} /Producer (pddbatch) >>")
        pdf.obj(CATALOG, f"<< /Type /Catalog /Pages {PAGES} 0 R >>")
        pdf.finish(CATALOG, f" /Info {info} 0 R")
        return engine.warnings
