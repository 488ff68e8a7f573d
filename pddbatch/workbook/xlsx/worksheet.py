"""Streaming rewrite of one worksheet part: rows pddbatch does not touch pass through as bytes.

Memory stays at a few MB whatever the sheet's size: the part is read in chunks and each <row> is
handled on its own. Only rows holding owned cells, marks or earlier marks are parsed; data rows of
the common shape skip the parse through `fastrow`. Rows stored out of order are refused with
`RowsOutOfOrder` (see `row_order`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from pddbatch.errors import InputError
from pddbatch.model import CellValue
from pddbatch.workbook.xlsx.cellxml import (
    _ATTR_R,
    _ATTR_SPANS,
    RowCells,
    get_attr,
    letters_of,
    set_attr,
    value_xml,
)
from pddbatch.workbook.xlsx.fastrow import Shape, fast_columns, fast_emit, fast_scan
from pddbatch.workbook.xlsx.row_order import RowsOutOfOrder
from pddbatch.workbook.xlsx.sheetframe import Cell, SheetJob, frame_head, frame_tail

CHUNK = 1 << 20


@dataclass
class SheetResult:
    changed: bool = False
    origins: dict[Cell, int | None] = field(default_factory=dict)   # new marks: cell -> original s
    cells_written: int = 0
    restored: int = 0
    formula_overwritten: bool = False


class SheetRewriter:
    def __init__(self, job: SheetJob, shapes: Mapping[int, tuple[int, Shape | None]] | None = None) -> None:
        self.job = job
        self.shapes = shapes or {}      # rows' fast-path shapes worked out before the plan (rowscan)
        self.res = SheetResult()
        self.p = b""
        self.touch_rows: set[int] = {r for r, _ in job.marks} | {r for r, _ in job.prev}
        self.touch_rows.add(job.header_row)
        by_row: dict[int, list[int]] = {}
        for r, c in job.marks:
            by_row.setdefault(r, []).append(c)
        for r, c in job.prev:
            by_row.setdefault(r, []).append(c)
        self.extra_cols = by_row
        # rows that must exist after the rewrite (created when the sheet has no such row)
        needed = {r for (r, c), v in job.values.items()
                  if v is not None and job.first_row <= r <= job.last_row and c in job.owned}
        needed |= {r for r, _ in job.marks}
        if job.headers:
            needed.add(job.header_row)
        self.needed = sorted(needed)
        self.needed_i = 0
        self.header_style: int | None = None
        # fast path for data rows that only hold owned cells (see fastrow); off when column A is owned
        self.fast_cols = fast_columns(job.owned)
        self.c_tag = b'<c r="'

    # ---- whole part -------------------------------------------------------------------------------

    def run(self, src: IO[bytes], dst: IO[bytes]) -> SheetResult:
        buf = b""
        eof = False
        while True:
            m = re.search(rb"<([\w.-]+:)?sheetData\b[^>]*?(/?)>", buf)
            if m:
                break
            if eof:
                raise InputError("工作表部件缺少 sheetData，无法安全写回", "Sheet part has no sheetData")
            chunk = src.read(CHUNK)
            eof = not chunk
            buf += chunk
            if len(buf) > 64 * CHUNK:
                raise InputError("工作表头部过大，无法安全写回", "Sheet header section too large")
        self.p = m.group(1) or b""
        head = frame_head(buf[:m.start()], self.p, self.job, self.needed)
        self._emit_head(dst, head, buf, m)
        if m.group(2):                         # <sheetData/>
            rows = self._flush_needed(None)
            dst.write(b"<" + self.p + b"sheetData>" + rows + b"</" + self.p + b"sheetData>"
                      if rows else m.group(0))
            if rows:
                self.res.changed = True
            rest = buf[m.end():] + src.read()
        else:
            dst.write(m.group(0))
            rest = self._rows(src, dst, buf[m.end():])
        tail = frame_tail(rest, self.p, self.job)
        if tail != rest:
            self.res.changed = True
        dst.write(tail)
        return self.res

    def _emit_head(self, dst: IO[bytes], head: bytes, buf: bytes, m: re.Match[bytes]) -> None:
        if head != buf[:m.start()]:
            self.res.changed = True
        dst.write(head)

    # ---- before sheetData -------------------------------------------------------------------------

    # ---- sheetData --------------------------------------------------------------------------------

    def _rows(self, src: IO[bytes], dst: IO[bytes], buf: bytes) -> bytes:
        p = self.p
        row_open = b"<" + p + b"row"
        row_close = b"</" + p + b"row>"
        data_end = b"</" + p + b"sheetData>"
        cell_re = re.compile(rb"<" + p + rb"c(?=[\s/>])([^>]*?)(?:/>|>.*?</" + p + rb"c>)", re.S)
        self.c_tag = b"<" + p + b'c r="'
        out: list[bytes] = []
        out_size = 0
        pos = 0
        last_row = 0
        end_at = buf.find(data_end)
        eof = False
        while True:
            i = buf.find(row_open, pos)
            if end_at >= 0 and (i < 0 or end_at < i):
                out.append(buf[pos:end_at])
                out.append(self._flush_needed(None))
                dst.write(b"".join(out))
                return buf[end_at:] + src.read()
            gt = buf.find(b">", i) if i >= 0 else -1
            close = -1
            if gt >= 0:
                close = gt + 1 if buf[gt - 1:gt] == b"/" else buf.find(row_close, gt)
            if i < 0 or gt < 0 or close < 0:
                if eof:
                    raise InputError("工作表数据不完整（sheetData 未结束），无法安全写回",
                                     "Sheet data is truncated; cannot write back safely")
                chunk = src.read(CHUNK)
                eof = not chunk
                buf = buf[pos:] + chunk
                pos = 0
                end_at = buf.find(data_end)
                continue
            end = close if buf[gt - 1:gt] == b"/" else close + len(row_close)
            out.append(buf[pos:i])
            open_tag = buf[i:gt + 1]
            r_attr = get_attr(open_tag, _ATTR_R)
            rownum = int(r_attr) if r_attr and r_attr.isdigit() else last_row + 1
            if rownum <= last_row:
                raise RowsOutOfOrder("工作表的行顺序异常，无法安全写回", "Rows are out of order; cannot write back")
            last_row = rownum
            pending = self._flush_needed(rownum)
            if pending:
                out.append(pending)
            if self._touches(rownum):
                new = self._row(rownum, open_tag, buf[gt + 1:close] if open_tag[-2:] != b"/>" else b"",
                                cell_re, r_attr is None)
                if new != buf[i:end]:
                    self.res.changed = True
                out.append(new)
            elif r_attr is None and self.res.changed:
                # an implicit row number stays right only if no row was inserted before it
                out.append(set_attr(open_tag, b"r", str(rownum).encode()) + buf[gt + 1:end])
            else:
                out.append(buf[i:end])
            pos = end
            out_size += end - i
            if out_size > CHUNK:
                dst.write(b"".join(out))
                out.clear()
                out_size = 0

    def _touches(self, r: int) -> bool:
        return self.job.first_row <= r <= self.job.last_row or r in self.touch_rows

    def _flush_needed(self, before: int | None) -> bytes:
        """Rows that must exist but the sheet lacks, up to (not including) row `before`."""
        pieces: list[bytes] = []
        while self.needed_i < len(self.needed) and (before is None or self.needed[self.needed_i] < before):
            r = self.needed[self.needed_i]
            self.needed_i += 1
            pieces.append(self._row(r, b"<" + self.p + b'row r="%d">' % r, b"", None, False))
        if before is not None and self.needed_i < len(self.needed) and self.needed[self.needed_i] == before:
            self.needed_i += 1
        if pieces:
            self.res.changed = True
        return b"".join(p for p in pieces if p)

    def _row(self, r: int, open_tag: bytes, inner: bytes, cell_re: re.Pattern[bytes] | None,
             missing_r: bool) -> bytes:
        job = self.job
        p = self.p
        if (self.fast_cols and cell_re is not None and not missing_r and r != job.header_row
                and job.first_row <= r <= job.last_row and r not in self.extra_cols):
            known = self.shapes.get(r)
            shape = known[1] if known is not None and known[0] == len(inner) else \
                fast_scan(r, open_tag, inner, p, self.c_tag, self.fast_cols)
            fast = None if shape is None else fast_emit(r, open_tag, inner, p, self.fast_cols, job.values, shape)
            if fast is not None:
                body, bounds, written = fast
                self.res.cells_written += written
                return self._finish(open_tag, body, bounds)
        targets: set[int] = set(self.extra_cols.get(r, ()))
        in_range = job.first_row <= r <= job.last_row
        if in_range:
            targets.update(job.owned)
        if r == job.header_row:
            targets.update(job.headers)
        # the header row is parsed whole: a new header copies the style of the cell to its left
        min_col = min(targets) if targets and r != job.header_row else 0
        cells = RowCells(p, r, inner, cell_re or _NO_CELLS, min_col)
        if cells.prefix and any(cells.holds_in_prefix(c) for c in targets):
            cells = RowCells(p, r, inner, cell_re or _NO_CELLS, 0)      # cells out of order: parse all
        for c in sorted(targets):
            self._cell(cells, r, c, in_range)
        body = cells.render()
        if not body and cell_re is None:
            return b""
        if missing_r:
            open_tag = set_attr(open_tag, b"r", str(r).encode())
        return self._finish(open_tag, body, cells.spans())

    def _finish(self, open_tag: bytes, body: bytes, bounds: tuple[int, int] | None) -> bytes:
        """The row element around `body`; `bounds` (first, last column of the parsed cells) widen spans."""
        p = self.p
        spans = get_attr(open_tag, _ATTR_SPANS) if b"spans" in open_tag else None
        if spans is not None and bounds is not None:
            parts = [s.split(b":") for s in spans.split()]
            try:
                lo = min(int(a[0]) for a in parts)
                hi = max(int(a[-1]) for a in parts)
            except ValueError:
                lo, hi = 0, 0
            if bounds[0] < lo or bounds[1] > hi:
                open_tag = set_attr(open_tag, b"spans", b"%d:%d" % (min(lo, bounds[0]), max(hi, bounds[1])))
        if open_tag.endswith(b"/>"):
            if not body:
                return open_tag
            open_tag = open_tag[:-2].rstrip() + b">"
        return open_tag + body + b"</" + p + b"row>"

    def _cell(self, cells: RowCells, r: int, c: int, in_range: bool) -> None:
        job = self.job
        key = (r, c)
        i = cells.find(c)
        style = cells.style_of(i) if i >= 0 else None
        if key in job.prev and i >= 0:
            before = job.unmark(key, style)
            if before != style:
                style = before
                self.res.restored += 1
                cells.restyle(i, style)
                i = cells.find(c)
        ref = f"{letters_of(c)}{r}"
        write = False
        value: CellValue = None
        if r == job.header_row and c in job.headers:
            write, value = True, job.headers[c]
            if i < 0 and self.header_style is None:
                left = [k for k, cc in enumerate(cells.cols) if cc < c]
                self.header_style = cells.style_of(left[-1]) if left else None
            if i < 0:
                style = self.header_style
        elif in_range and c in job.owned:
            write, value = True, job.values.get(key)
        if write:
            if i >= 0 and b"<" + self.p + b"f" in cells.raws[i]:
                self.res.formula_overwritten = True
                if re.search(rb"<" + self.p + rb"f\b[^>]*\sref\s*=", cells.raws[i]):
                    raise InputError(f"单元格 {ref} 含共享/数组公式，pddbatch 不能覆盖它：请先清除该列的公式",
                                     f"Cell {ref} holds a shared/array formula pddbatch cannot overwrite: "
                                     "clear that column's formulas first")
            if value is not None:
                self.res.cells_written += 1
        if key in job.marks:
            self.res.origins[key] = style
            style = job.mark_style(style)
        if write:
            cells.put(c, value_xml(self.p, ref, style, value))
        elif key in job.marks:
            if i >= 0:
                cells.restyle(i, style)
            else:
                cells.put(c, value_xml(self.p, ref, style, None))

_NO_CELLS = re.compile(rb"(?!)")


def rewrite_sheet(src: IO[bytes], dst: IO[bytes], job: SheetJob,
                  shapes: Mapping[int, tuple[int, Shape | None]] | None = None) -> SheetResult:
    """Stream `src` (a worksheet part) into `dst`, applying `job` (`shapes`: its rows' fast-path
    shapes, taken from these very bytes by `rowscan.scan_rows`)."""
    return SheetRewriter(job, shapes).run(src, dst)
