"""Which of a sheet's whole-day date cells really show no time, by their number format.

calamine hands over every date-time cell whose time is 00:00:00 as a bare date, whatever its format:
a seller's typed 2026/11/30 and an export's 2026-11-30 00:00:00 (a CSV opened and saved in Excel) come
back the same. A deadline read as a date runs to the end of that day, so a real midnight deadline read
as one would be 24 hours late. The reader asks here about the few cells it got as dates: each cell's
style is found in the sheet's XML (one literal-anchored scan per column that has such cells) and its
number format in styles.xml.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from pddbatch.errors import InputError
from pddbatch.model import col_letter
from pddbatch.workbook.numfmt import id_shows_time
from pddbatch.workbook.xlsx.package import workbook_sheets
from pddbatch.workbook.xlsx.parts import RT_STYLES, xml_prefix

_S = re.compile(rb'\ss\s*=\s*"(\d+)"')
_NUM_FMT_ID = re.compile(rb'\snumFmtId\s*=\s*"(\d+)"')
_CODE = re.compile(rb'\sformatCode\s*=\s*"([^"]*)"')


def cells_showing_time(path: Path, sheet: str, cells: Iterable[tuple[int, int]]) -> set[tuple[int, int]] | None:
    """Of `cells` ((row, column), 1-based), those whose number format shows a time of day; None when the
    package can't say (no styles part, a sheet part that can't be read), so the caller keeps midnight."""
    by_col: dict[int, set[int]] = {}
    for r, c in cells:
        by_col.setdefault(c, set()).add(r)
    try:
        with zipfile.ZipFile(path) as zf:
            book = workbook_sheets(zf)
            rel = book.sheets.get(sheet)
            styles_part = next((r.target for r in book.wb_rels if r.type == RT_STYLES), None)
            if rel is None or styles_part is None:
                return None
            styles, xml = zf.read(styles_part), zf.read(rel.target)
    except (InputError, OSError, KeyError, zipfile.BadZipFile):
        return None
    fmt_of = _formats(styles)
    if fmt_of is None:
        return None
    found: set[tuple[int, int]] = set()
    for c, rows in by_col.items():
        for m in re.finditer(rb'\sr\s*=\s*"' + col_letter(c).encode() + rb'(\d+)"', xml):
            r = int(m.group(1))
            if r not in rows:
                continue
            start = xml.rfind(b"<", 0, m.start())
            end = xml.find(b">", m.end())
            tag = xml[start:end]
            if not re.match(rb"<(?:[\w.-]+:)?c\b", tag):
                continue
            s = _S.search(tag)
            style = int(s.group(1)) if s else 0
            if style >= len(fmt_of) or fmt_of[style]:
                found.add((r, c))
    return found


def _formats(styles: bytes) -> list[bool] | None:
    """For each cell format (cellXfs) of styles.xml, whether its number format shows a time."""
    p = xml_prefix(styles, b"styleSheet")
    xfs = re.search(rb"<" + p + rb"cellXfs\b[^>]*>(.*?)</" + p + rb"cellXfs>", styles, re.S)
    if xfs is None:
        return None
    custom: dict[int, str] = {}
    fmts = re.search(rb"<" + p + rb"numFmts\b[^>]*>(.*?)</" + p + rb"numFmts>", styles, re.S)
    for tag in re.findall(rb"<" + p + rb"numFmt\b[^>]*>", fmts.group(1) if fmts else b""):
        i, code = _NUM_FMT_ID.search(tag), _CODE.search(tag)
        if i and code:
            custom[int(i.group(1))] = html.unescape(code.group(1).decode("utf-8", "replace"))
    out = []
    for tag in re.findall(rb"<" + p + rb"xf\b[^>]*>", xfs.group(1)):
        i = _NUM_FMT_ID.search(tag)
        out.append(id_shows_time(int(i.group(1)), custom) if i else False)
    return out
