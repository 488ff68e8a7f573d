"""Results -> a `WritePlan` for the seller's sheet: owned columns, statuses, marks, the issues sheet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pddbatch.messages import pick, status_text
from pddbatch.model import CellValue, IssuesSheet, OwnedColumn, RowIssue, RowOutcome, RowStatus, WritePlan
from pddbatch.workbook.headers import ColumnMap, norm_header
from pddbatch.workbook.read import Table

STATUS_HEADER = "处理状态"
MESSAGE_HEADER = "处理说明"
CARRIER_HEADER = "快递公司"
TRACKING_HEADER = "快递单号"
ISSUES_SHEET = "问题清单"
ISSUES_HEADER = ("工作表", "单元格", "行号", "字段", "代码", "说明")
ISSUES_HEADER_EN = ("Sheet", "Cell", "Row", "Field", "Code", "Message")


def owned_columns(table: Table, cmap: ColumnMap, *, shipping: bool) -> dict[str, OwnedColumn]:
    """Find pddbatch's columns (reuse by header) or place them after the last used column."""
    wanted = [STATUS_HEADER, MESSAGE_HEADER]
    found: dict[str, OwnedColumn] = {}
    if shipping:
        for fname, header in (("carrier", CARRIER_HEADER), ("tracking_no", TRACKING_HEADER)):
            col = cmap.col(fname)
            if col is not None:
                found[header] = OwnedColumn(header, col, False)
            else:
                wanted.insert(len(found), header)
    by_header = {norm_header(h): i for i, h in enumerate(table.headers, start=1) if h}
    next_col = _last_used_col(table) + 1
    for header in [CARRIER_HEADER, TRACKING_HEADER, STATUS_HEADER, MESSAGE_HEADER]:
        if header not in wanted or header in found:
            continue
        col = by_header.get(norm_header(header))
        if col is not None:
            found[header] = OwnedColumn(header, col, False)
        else:
            found[header] = OwnedColumn(header, next_col, True)
            next_col += 1
    return found


def _last_used_col(table: Table) -> int:
    last = max((i for i, h in enumerate(table.headers, start=1) if h and h.strip()), default=0)
    width = max((len(r) for r in table.rows), default=0)
    for c in range(width - 1, last - 1, -1):      # data beyond the last header (rare) counts too
        if any(c < len(r) and r[c] not in (None, "") for r in table.rows):
            return c + 1
    return last


def build_write_plan(table: Table, cmap: ColumnMap, issues: Sequence[RowIssue],
                     outcomes: Mapping[int, RowOutcome], *, shipping: bool, lang: str = "zh") -> WritePlan:
    """Every owned cell of every data row gets a value (None clears a stale one)."""
    cols = owned_columns(table, cmap, shipping=shipping)
    values: dict[tuple[int, int], CellValue] = {}
    st, msg = cols[STATUS_HEADER].col, cols[MESSAGE_HEADER].col
    car = cols[CARRIER_HEADER].col if shipping else None
    trk = cols[TRACKING_HEADER].col if shipping else None
    for idx, raw in enumerate(table.rows):
        r = table.sheet_row(idx)
        out = outcomes.get(r)
        values[(r, st)] = status_text(out.status, lang) if out else None
        values[(r, msg)] = (out.message or None) if out else None
        if car is not None and trk is not None:
            if out is not None and out.status is RowStatus.ALLOCATED:
                values[(r, car)] = out.carrier_name
                values[(r, trk)] = out.tracking_no
            else:   # not ours to change: write back what is there
                values[(r, car)] = raw[car - 1] if car - 1 < len(raw) else None
                values[(r, trk)] = raw[trk - 1] if trk - 1 < len(raw) else None
    marks = {(i.row, i.col): i.message for i in issues if i.severity == "error" and i.col is not None}
    return WritePlan(
        sheet=table.sheet, header_row=table.header_row,
        columns=tuple(sorted(cols.values(), key=lambda c: c.col)),
        values=values, marks=marks, issues_sheet=issues_sheet(issues, lang),
        last_row=table.header_row + len(table.rows))


def issues_sheet(issues: Iterable[RowIssue], lang: str = "zh") -> IssuesSheet:
    rows = []
    for i in sorted(issues, key=lambda i: (i.row, i.col or 0)):
        text = i.message if i.severity == "error" else pick(lang, f"提醒：{i.message}", f"Warning: {i.message}")
        rows.append((i.sheet, i.cell, i.row, i.header, i.code, text))
    header = ISSUES_HEADER_EN if lang == "en" else ISSUES_HEADER
    return IssuesSheet(ISSUES_SHEET, header, tuple(rows))
