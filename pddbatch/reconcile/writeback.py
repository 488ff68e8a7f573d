"""`--write-back`: a 对账状态 column in the after-sales workbook(s), through `pddbatch.workbook.save`.

Rows of the month get "已核对" or "异常：<kinds>"; other rows keep whatever the column held.
The save is the shared lossless, atomic write-back (backup kept, nothing else in the file changes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pddbatch.model import CellValue, OwnedColumn, WriteOutcome, WritePlan
from pddbatch.reconcile.exceptions import Finding, kind_name
from pddbatch.reconcile.inputs import read_aftersales_table
from pddbatch.reconcile.matching import Matching
from pddbatch.workbook.headers import norm_header

STATUS_HEADER = "对账状态"


def write_back(paths: Sequence[Path], m: Matching, lang: str = "zh") -> list[WriteOutcome]:
    """Write each in-scope after-sale's reconciliation status next to it; return what was written."""
    from pddbatch.workbook.save import apply_plan

    kinds: dict[tuple[str, int], list[str]] = defaultdict(list)
    for f in m.findings:
        for src in f.aftersale_rows:
            _add(kinds[(src.file, src.row)], f)
    checked = {(a.source.file, a.source.row) for a in m.scope}
    out = []
    for p in paths:
        table = read_aftersales_table(p)
        headers = {norm_header(h): i for i, h in enumerate(table.headers, start=1) if h}
        col = headers.get(norm_header(STATUS_HEADER))
        column = OwnedColumn(STATUS_HEADER, col, False) if col else OwnedColumn(
            STATUS_HEADER, _last_used_col(table.headers, table.rows) + 1, True)
        values: dict[tuple[int, int], CellValue] = {}
        for idx, cells in enumerate(table.rows):
            row = table.sheet_row(idx)
            key = (table.path, row)
            if key in kinds:
                names = [kind_name(k, lang) for k in kinds[key]]
                values[(row, column.col)] = ("Exception: " + ", ".join(names)) if lang == "en" else \
                    "异常：" + "、".join(names)
            elif key in checked:
                values[(row, column.col)] = "OK" if lang == "en" else "已核对"
            else:     # outside the month, or a repeated row: keep what is there
                values[(row, column.col)] = cells[column.col - 1] if column.col <= len(cells) else None
        plan = WritePlan(sheet=table.sheet, header_row=table.header_row, columns=(column,), values=values,
                         last_row=table.header_row + len(table.rows))
        out.append(apply_plan(Path(p), plan, lang=lang))
    return out


def _add(names: list[str], f: Finding) -> None:
    if f.kind not in names:
        names.append(f.kind)


def _last_used_col(headers: Sequence[str], rows: Sequence[Sequence[CellValue]]) -> int:
    last = max((i for i, h in enumerate(headers, start=1) if h and h.strip()), default=0)
    width = max((len(r) for r in rows), default=0)
    for c in range(width - 1, last - 1, -1):
        if any(c < len(r) and r[c] not in (None, "") for r in rows):
            return c + 1
    return last
