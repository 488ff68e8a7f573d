"""Printable A4 table documents (pick list, manifest, packing slips) with the embedded font.

A document is a list of `Section`s: a title, info lines, a table whose cells wrap inside their
column, and footer lines. Tables continue on new pages with the header repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pddbatch.render.atomic import atomic_path
from pddbatch.render.fonts import FontUse
from pddbatch.render.labelpage import Op, wrap_units
from pddbatch.render.labels_pdf import Content, content, fonts
from pddbatch.render.pdf import FONT_OBJECTS, MM, PdfFile, pdf_text_string, write_font

PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 12.0
SIZE, LH, PAD = 9.0, 1.25, 1.2
CACHE_MAX = 50_000     # remembered cell layouts (products, specs, cities repeat; order numbers don't)


@dataclass(frozen=True)
class Column:
    header: str
    width_mm: float
    align: str = "left"


@dataclass(frozen=True)
class Section:
    title: str
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[str]]
    info: tuple[str, ...] = ()
    footer: tuple[str, ...] = ()
    new_page: bool = True
    bold_last_row: bool = False


class _Pager:
    def __init__(self, fs: list[FontUse], forms: list[list[Op]] | None = None,
                 sink: Callable[[list[Op]], None] | None = None) -> None:
        self.fs = fs
        self.pages: list[list[Op]] = []
        self.sink = sink              # when given, each finished page goes there and is let go
        self.forms = forms            # when given, table headers are drawn once as Form XObjects
        self.form_of: dict[tuple[Column, ...], int] = {}
        self.y = 0.0
        self._widths: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self._lines: dict[tuple[str, float, bool], list[str]] = {}
        self.geometry: dict[int, tuple[tuple[Column, ...], list[float], list[tuple[float, float, str]]]] = {}

    def new_page(self) -> None:
        if self.sink is not None and self.pages:
            self.sink(self.pages.pop())
        self.pages.append([])
        self.y = MARGIN * MM

    def finish(self) -> None:
        if self.sink is not None and self.pages:
            self.sink(self.pages.pop())

    @property
    def ops(self) -> list[Op]:
        return self.pages[-1]

    def room(self) -> float:
        return (PAGE_H - MARGIN - 6) * MM - self.y

    def width(self, s: str, bold: bool) -> int:
        """Advance of `s` in 1/1000 em (cached: columns repeat the same values)."""
        cache = self._widths[1 if bold else 0]
        w = cache.get(s)
        if w is None:
            w = cache[s] = self.fs[1 if bold else 0].width(s)
        return w

    def text(self, x: float, s: str, size: float, bold: bool = False, width: float | None = None,
             align: str = "left") -> None:
        if width is not None and align != "left":
            w = self.width(s, bold) * size / 1000
            x += (width - w) if align == "right" else (width - w) / 2
        self.ops.append(("T", x, self.y, size, 1 if bold else 0, s))

    def cell_lines(self, s: str, width_pt: float, bold: bool) -> list[str]:
        key = (s, width_pt, bold)
        got = self._lines.get(key)
        if got is not None:
            return got
        if len(self._lines) > CACHE_MAX:   # order numbers never repeat: keep the cache for what does
            self._lines.clear()
            self._widths[0].clear()
            self._widths[1].clear()
        font = self.fs[1 if bold else 0]
        maxu = (width_pt - 2 * PAD * MM) * 1000 / SIZE
        out: list[str] = []
        if "\n" not in s:
            ws = font.widths(s)
            total = sum(ws)
            if total <= maxu:   # fits on one line: what wrap_units would return, without the walk
                self._widths[1 if bold else 0][s] = total
                out = [s]
            else:
                out = [ln for ln, _ in wrap_units(ws, s, maxu)]
        else:
            for para in s.split("\n"):
                out += [ln for ln, _ in wrap_units(font.widths(para), para, maxu)]
        self._lines[key] = out
        return out


def _header(pg: _Pager, cols: tuple[Column, ...]) -> None:
    """The header row of a table at pg.y: inline, or a placed Form XObject ("X", form, y).

    Every packing slip repeats the same header (7 drawing ops): drawn once as a form, a slip page
    costs about a third less to write.
    """
    if pg.forms is None:
        _header_ops(pg, cols)
        return
    k = pg.form_of.get(cols)
    if k is None:
        k = pg.form_of[cols] = len(pg.forms)
        page, y = pg.pages[-1], pg.y
        pg.pages[-1], pg.y = [], 0.0
        _header_ops(pg, cols)
        pg.forms.append(pg.pages[-1])
        pg.pages[-1], pg.y = page, y
    pg.ops.append(("X", k, pg.y))
    pg.y += SIZE * LH + 2 * PAD * MM


def _header_ops(pg: _Pager, cols: Sequence[Column]) -> None:
    x = MARGIN * MM
    h = SIZE * LH + 2 * PAD * MM
    pg.ops.append(("L", MARGIN * MM, pg.y, (PAGE_W - MARGIN) * MM, pg.y, 0.8, False))
    pg.y += PAD * MM
    for c in cols:
        pg.text(x + PAD * MM, c.header, SIZE, True, c.width_mm * MM - 2 * PAD * MM, c.align)
        x += c.width_mm * MM
    pg.y += h - PAD * MM
    pg.ops.append(("L", MARGIN * MM, pg.y, (PAGE_W - MARGIN) * MM, pg.y, 0.5, False))


def _geometry(pg: _Pager, cols: tuple[Column, ...]) -> tuple[list[float], list[tuple[float, float, str]]]:
    """Each column's width, and where its text goes (x, inner width, align): once per table shape
    (every packing slip has the same columns)."""
    got = pg.geometry.get(id(cols))
    if got is not None and got[0] is cols:
        return got[1], got[2]
    widths = [c.width_mm * MM for c in cols]
    place: list[tuple[float, float, str]] = []
    x = MARGIN * MM
    for c in cols:
        place.append((x + PAD * MM, c.width_mm * MM - 2 * PAD * MM, c.align))
        x += c.width_mm * MM
    pg.geometry[id(cols)] = (cols, widths, place)    # (keeps `cols` alive, so its id stays its own)
    return widths, place


def _table(pg: _Pager, sec: Section) -> None:
    """The rows of one section's table, continued on new pages with the header repeated."""
    cols = sec.columns
    widths, place = _geometry(pg, cols)
    line_h, pad, left, right = SIZE * LH, PAD * MM, MARGIN * MM, (PAGE_W - MARGIN) * MM
    last = len(sec.rows) - 1
    cell_lines, width = pg.cell_lines, pg.width
    for i, row in enumerate(sec.rows):
        bold = sec.bold_last_row and i == last
        fi = 1 if bold else 0
        cells = [cell_lines(v, w, bold) for v, w in zip(row, widths, strict=True)]
        h = max(map(len, cells)) * line_h + 2 * pad
        if h > pg.room():
            pg.new_page()
            _header(pg, cols)
        ops, top = pg.ops, pg.y
        for lines, (x0, iw, align) in zip(cells, place, strict=True):
            y = top + pad
            for ln in lines:
                if align == "left":
                    ops.append(("T", x0, y, SIZE, fi, ln))
                else:
                    w = width(ln, bold) * SIZE / 1000
                    ops.append(("T", x0 + ((iw - w) if align == "right" else (iw - w) / 2), y, SIZE, fi, ln))
                y += line_h
        pg.y = top + h
        ops.append(("L", left, pg.y, right, pg.y, 0.25, False))


def layout_sections(sections: Iterable[Section], fs: list[FontUse], page_label: str,
                    forms: list[list[Op]] | None = None) -> list[list[Op]]:
    """Pages of drawing ops, each with its "page i / n" line; with `forms`, table headers become forms
    appended there (op "X"). (write_tables_pdf streams the same layout instead of keeping it.)"""
    pg = _Pager(fs, forms)
    _lay_out(pg, sections)
    n = len(pg.pages)
    y = (PAGE_H - MARGIN + 1) * MM
    for i, ops in enumerate(pg.pages, start=1):
        ops.append(("T", (PAGE_W - MARGIN - 40) * MM, y, 8, 0, page_label.format(i=i, n=n)))
    return pg.pages


def _lay_out(pg: _Pager, sections: Iterable[Section]) -> None:
    for sec in sections:
        if sec.new_page or not pg.pages:
            pg.new_page()
        pg.text(MARGIN * MM, sec.title, 15, True)
        pg.y += 15 * 1.5
        for line in sec.info:
            pg.text(MARGIN * MM, line, SIZE)
            pg.y += SIZE * 1.4
        pg.y += 4
        _header(pg, sec.columns)
        _table(pg, sec)
        if sec.footer:
            if pg.room() < len(sec.footer) * 22:
                pg.new_page()
            pg.y += 10
            for line in sec.footer:
                pg.text(MARGIN * MM, line, 10.5)
                pg.y += 22


def write_tables_pdf(path: Path, sections: Iterable[Section], title: str, lang: str = "zh") -> int:
    """Write the sections (any iterable: packing slips come one parcel at a time) as an A4 PDF atomically.

    Pages are written as they are laid out, so memory stays flat whatever the length (100,000 packing
    slips held as drawing ops until the end took ~120 MB). The page count in "第 i / n 页" is not known
    then: each page draws "第 i / " and places one Form XObject, written last, that draws "n 页".
    Returns the page count.
    """
    fs = fonts()
    label = "第 {i} / {n} 页" if lang != "en" else "Page {i} / {n}"
    head, _, tail = label.partition("{n}")
    forms: list[list[Op]] = []
    w, h = PAGE_W * MM, PAGE_H * MM
    font_r, font_b = 4, 4 + FONT_OBJECTS
    first = font_b + FONT_OBJECTS
    hexes = [f.hex for f in fs]
    page_content = Content(h, hexes)
    x_label, y_label = (PAGE_W - MARGIN - 40) * MM, (PAGE_H - MARGIN + 1) * MM
    count = 0
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        pdf = PdfFile(fh)

        def write_page(ops: list[Op]) -> None:
            nonlocal count
            shown = head.format(i=count + 1)
            ops.append(("T", x_label, y_label, 8, 0, shown))
            after = x_label + fs[0].width(shown) * 8 / 1000
            placed = b"".join(b"q 1 0 0 1 0 %s cm /Fh%d Do Q\n" % (f"{-op[2]:.2f}".encode(), op[1])
                              for op in ops if op[0] == "X")
            if placed:
                ops = [op for op in ops if op[0] != "X"]
            data = placed + page_content(ops) + b"q 1 0 0 1 %s 0 cm /Fn Do Q\n" % f"{after:.2f}".encode()
            n = first + 2 * count
            pdf.obj(n, f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.4f} {h:.4f}] /Resources 3 0 R "
                       f"/Contents {n + 1} 0 R >>")
            pdf.stream(n + 1, data, level=1)
            count += 1

        pg = _Pager(fs, forms, sink=write_page)
        _lay_out(pg, sections)
        pg.finish()
        kids = " ".join(f"{first + 2 * i} 0 R" for i in range(count))
        pdf.obj(2, f"<< /Type /Pages /Count {count} /Kids [{kids}] >>")
        fonts_ref = f"/Font << /F0 {font_r} 0 R /F1 {font_b} 0 R >>"
        form_at = first + 2 * count + 1
        total_at = form_at + len(forms)
        for k, ops in enumerate(forms):
            pdf.stream(form_at + k, content(ops, h, hexes), f" /Type /XObject /Subtype /Form "
                       f"/BBox [0 0 {w:.4f} {h:.4f}] /Resources << {fonts_ref} >>", level=1)
        pdf.stream(total_at, content([("T", 0.0, y_label, 8, 0, f"{count}{tail}")], h, hexes),
                   f" /Type /XObject /Subtype /Form /BBox [0 0 {w:.4f} {h:.4f}] /Resources << {fonts_ref} >>",
                   level=1)
        xobjects = " ".join(f"/Fh{k} {form_at + k} 0 R" for k in range(len(forms)))
        pdf.obj(3, f"<< {fonts_ref} /XObject << {xobjects} /Fn {total_at} 0 R >> /ProcSet [/PDF /Text] >>")
        write_font(pdf, font_r, fs[0])
        write_font(pdf, font_b, fs[1])
        info = total_at + 1
        pdf.obj(info, f"<< /Title {pdf_text_string(title)} /Producer (pddbatch) >>")
        pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        pdf.finish(1, f" /Info {info} 0 R")
    return count
