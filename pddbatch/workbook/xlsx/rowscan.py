"""The write-back's look at the sheet before its plan exists: each data row's fast-path shape.

Rewriting a big sheet spends most of its time finding, row by row, where the owned columns' cells
are (`fastrow.fast_scan`: 50,000 rows, ~0.6 s). That depends on the sheet's bytes and the owned
columns only, and a run knows both once the rows are validated: its write-back child works the
shapes out while the orders are planned and numbered — a stretch where the PC's second core has
nothing else to do — and the rewrite itself then only splices the new cells in, beside the labels.

A shape is used only for the very bytes it was taken from: the sheet part's CRC and size, the owned
columns and each row's length must match at rewrite time, else the rewrite scans that row itself.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pddbatch.deflate import read_member
from pddbatch.workbook.xlsx.cellxml import _ATTR_R, get_attr
from pddbatch.workbook.xlsx.fastrow import Shape, fast_columns, fast_scan
from pddbatch.workbook.xlsx.package import Package, locate

_SHEET_DATA = re.compile(rb"<([\w.-]+:)?sheetData\b[^>]*?(/?)>")


@dataclass(frozen=True)
class RowScan:
    """Row shapes of one sheet part: row -> (length of its inner XML, its shape or None)."""

    part: str
    crc: int
    size: int
    owned: tuple[int, ...]
    shapes: dict[int, tuple[int, Shape | None]]

    def fits(self, part: str, info: zipfile.ZipInfo, owned: tuple[int, ...]) -> bool:
        """Whether these shapes were taken from this part, as it is now, for these columns."""
        return (part, info.CRC, info.file_size, owned) == (self.part, self.crc, self.size, self.owned)


def scan_rows(path: Path, sheet: str, owned: tuple[int, ...]) -> RowScan | None:
    """The shapes of `sheet`'s rows in the workbook at `path` for the `owned` columns; None when the
    fast path is off for them (column A owned) or the sheet has no rows to scan."""
    owned = tuple(sorted(set(owned)))
    fast_cols = fast_columns(owned)
    if not fast_cols:
        return None
    with zipfile.ZipFile(path) as zin:
        loc = locate(zin, Package(zin), sheet)
        info = zin.getinfo(loc.sheet_part)
        xml = read_member(zin, loc.sheet_part)
    m = _SHEET_DATA.search(xml)
    if m is None or m.group(2):
        return None
    p = m.group(1) or b""
    row_open, row_close, tag = b"<" + p + b"row", b"</" + p + b"row>", b"<" + p + b'c r="'
    data_end = xml.find(b"</" + p + b"sheetData>", m.end())
    if data_end < 0:
        return None
    shapes: dict[int, tuple[int, Shape | None]] = {}
    pos = m.end()
    while True:                  # the rows as the streaming rewrite finds them (worksheet.SheetRewriter._rows)
        i = xml.find(row_open, pos, data_end)
        if i < 0:
            break
        gt = xml.find(b">", i)
        if gt < 0:
            break
        closed = xml[gt - 1:gt] == b"/"
        close = gt + 1 if closed else xml.find(row_close, gt)
        if close < 0:
            break
        open_tag = xml[i:gt + 1]
        number = get_attr(open_tag, _ATTR_R)
        if number and number.isdigit():
            inner = xml[gt + 1:close] if open_tag[-2:] != b"/>" else b""
            r = int(number)
            shapes[r] = (len(inner), fast_scan(r, open_tag, inner, p, tag, fast_cols))
        pos = close if closed else close + len(row_close)
    return RowScan(loc.sheet_part, info.CRC, info.file_size, owned, shapes)
