"""Printable A4 table documents (pick list, manifest, packing slips) with the embedded font.

A document is a list of `Section`s: a title, info lines, a table whose cells wrap inside their
column, and footer lines. Tables continue on new pages with the header repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .atomic import atomic_path
from .fonts import FontUse
from .labelpage import Op, wrap_units
from .labels_pdf import content, fonts
from .pdf import FONT_OBJECTS, MM, PdfFile, pdf_text_string, write_font

PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 12.0
SIZE, LH, PAD = 9.0, 1.25, 1.2


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
    def __init__(self, fs: list[FontUse], page_label: str) -> None:
        self.fs, self.page_label = fs, page_label
        self.pages: list[list[Op]] = []
        self.y = 0.0

    def new_page(self) -> None:
        self.pages.append([])
        self.y = MARGIN * MM

    @property
    def ops(self) -> list[Op]:
        return self.pages[-1]

    def room(self) -> float:
        return (PAGE_H - MARGIN - 6) * MM - self.y

    def text(self, x: float, s: str, size: float, bold: bool = False, width: float | None = None,
             align: str = "left") -> None:
        font = self.fs[1 if bold else 0]
        if width is not None and align != "left":
            w = font.width(s) * size / 1000
            x += (width - w) if align == "right" else (width - w) / 2
        self.ops.append(("T", x, self.y, size, 1 if bold else 0, s))

    def cell_lines(self, s: str, width_pt: float, bold: bool) -> list[str]:
        font = self.fs[1 if bold else 0]
        maxu = (width_pt - 2 * PAD * MM) * 1000 / SIZE
        out: list[str] = []
        for para in (s or "").split("\n"):
            out += [ln for ln, _ in wrap_units(font.widths(para), para, maxu)]
        return out or [""]


def _header(pg: _Pager, cols: Sequence[Column]) -> None:
    x = MARGIN * MM
    h = SIZE * LH + 2 * PAD * MM
    pg.ops.append(("L", MARGIN * MM, pg.y, (PAGE_W - MARGIN) * MM, pg.y, 0.8, False))
    pg.y += PAD * MM
    for c in cols:
        pg.text(x + PAD * MM, c.header, SIZE, True, c.width_mm * MM - 2 * PAD * MM, c.align)
        x += c.width_mm * MM
    pg.y += h - PAD * MM
    pg.ops.append(("L", MARGIN * MM, pg.y, (PAGE_W - MARGIN) * MM, pg.y, 0.5, False))


def layout_sections(sections: Sequence[Section], fs: list[FontUse], page_label: str) -> list[list[Op]]:
    pg = _Pager(fs, page_label)
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
        for i, row in enumerate(sec.rows):
            bold = sec.bold_last_row and i == len(sec.rows) - 1
            cells = [pg.cell_lines(v, c.width_mm * MM, bold) for v, c in zip(row, sec.columns, strict=True)]
            h = max(len(c) for c in cells) * SIZE * LH + 2 * PAD * MM
            if h > pg.room():
                pg.new_page()
                _header(pg, sec.columns)
            x, top = MARGIN * MM, pg.y
            for lines, c in zip(cells, sec.columns, strict=True):
                pg.y = top + PAD * MM
                for ln in lines:
                    pg.text(x + PAD * MM, ln, SIZE, bold, c.width_mm * MM - 2 * PAD * MM, c.align)
                    pg.y += SIZE * LH
                x += c.width_mm * MM
            pg.y = top + h
            pg.ops.append(("L", MARGIN * MM, pg.y, (PAGE_W - MARGIN) * MM, pg.y, 0.25, False))
        if sec.footer:
            if pg.room() < len(sec.footer) * 22:
                pg.new_page()
            pg.y += 10
            for line in sec.footer:
                pg.text(MARGIN * MM, line, 10.5)
                pg.y += 22
    n = len(pg.pages)
    for i, ops in enumerate(pg.pages, start=1):
        pg.pages[i - 1] = ops
        pg.y = (PAGE_H - MARGIN + 1) * MM
        pg.pages[i - 1].append(("T", (PAGE_W - MARGIN - 40) * MM, pg.y, 8, 0, page_label.format(i=i, n=n)))
    return pg.pages


def write_tables_pdf(path: Path, sections: Sequence[Section], title: str, lang: str = "zh") -> int:
    """Write the sections as an A4 PDF atomically; returns the page count."""
    fs = fonts()
    label = "第 {i} / {n} 页" if lang != "en" else "Page {i} / {n}"
    pages = layout_sections(sections, fs, label)
    w, h = PAGE_W * MM, PAGE_H * MM
    font_r, font_b = 4, 4 + FONT_OBJECTS
    first = font_b + FONT_OBJECTS
    streams = [content(ops, h, fs) for ops in pages]
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        pdf = PdfFile(fh)
        for i, data in enumerate(streams):
            n = first + 2 * i
            pdf.obj(n, f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.4f} {h:.4f}] /Resources 3 0 R "
                       f"/Contents {n + 1} 0 R >>")
            pdf.stream(n + 1, data)
        kids = " ".join(f"{first + 2 * i} 0 R" for i in range(len(streams)))
        pdf.obj(2, f"<< /Type /Pages /Count {len(streams)} /Kids [{kids}] >>")
        pdf.obj(3, f"<< /Font << /F0 {font_r} 0 R /F1 {font_b} 0 R >> /ProcSet [/PDF /Text] >>")
        write_font(pdf, font_r, fs[0])
        write_font(pdf, font_b, fs[1])
        info = first + 2 * len(streams)
        pdf.obj(info, f"<< /Title {pdf_text_string(title)} /Producer (pddbatch) >>")
        pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
        pdf.finish(1, f" /Info {info} 0 R")
    return len(streams)
