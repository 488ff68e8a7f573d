"""A 10,000-row workbook through the live-book backend: every action within the remote engine's limits."""

from __future__ import annotations

import json
from pathlib import Path

import xlwings as xw

import pddbatch.excel as px
from pddbatch.workbook.livewrites import MAX_ACTION_BYTES
from tests.excel.payload import actions, payload_from_xlsx
from tests.excel.test_excel_book import _colors
from tests.support import generator, sample_rows


def test_ten_thousand_rows_stay_under_the_remote_limits(tmp_path: Path) -> None:
    rows = sample_rows(10_000)
    for r in rows[::7]:
        r["手机"] = "12345"                          # ~1,400 bad cells spread over the sheet
    generator.write_xlsx(rows, tmp_path / "orders.xlsx")
    book = xw.Book(json=payload_from_xlsx(tmp_path / "orders.xlsx"))
    result = px.validate_book(book)
    assert result is not None and result.rejected >= 1400
    acts = actions(book)
    for a in acts:
        assert len(json.dumps(a, ensure_ascii=False).encode()) < 5 * 2**20
        if a["func"] == "setValues":
            assert len(json.dumps(a["values"], ensure_ascii=False).encode()) <= MAX_ACTION_BYTES + 1000
        if a["func"] == "setRangeColors":
            assert a["row_count"] * a["column_count"] <= 10_000
    colors = actions(book, "setRangeColors")
    assert any(a["row_count"] > 9000 for a in colors)           # the phone column spans the sheet
    assert len(_colors(book)) == len(actions(book, "addNote")) >= 1400
    assert len(actions(book, "setValues")) < 40                 # column blocks, not a call per cell
