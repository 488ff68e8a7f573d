"""Desktop Excel (COM/AppleScript) round trips are batched: fills as multi-area ranges per colour,
unchanged notes left alone, screen updating off during the write and back on after, also on error;
an error midway says what was written. Counted on a stand-in for the desktop Book."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

import pddbatch.excel as px
from pddbatch.errors import SaveError
from pddbatch.model import OwnedColumn, WritePlan
from pddbatch.workbook.livewrites import execute, plan_writes
from pddbatch.workbook.marks import MARK_FILL, RECORD_SHEET, note_text
from tests.workbook.desktopbook import Calls, DesktopBook

ROWS = 10_000
WIDTH = 30
BAD = 1_000


def big_book(calls: Calls) -> DesktopBook:
    header = [f"列{c}" for c in range(1, WIDTH + 1)]
    header[0] = "订单号"
    values = [header] + [[f"260517-{r:015d}"] + [f"v{r}-{c}" for c in range(2, WIDTH + 1)]
                         for r in range(2, ROWS + 2)]
    return DesktopBook({"订单": values}, calls)


def big_plan(seed: int) -> WritePlan:
    rng = random.Random(seed)
    cols = tuple(OwnedColumn(h, WIDTH + i, True) for i, h in enumerate(("快递公司", "快递单号", "处理状态", "处理说明"), 1))
    values = {(r, c.col): f"{c.header}{r}" for r in range(2, ROWS + 2) for c in cols}
    cells = rng.sample([(r, c) for r in range(2, ROWS + 2) for c in (3, 7, 8, 12, 20)], BAD)
    return WritePlan("订单", 1, cols, values, {cell: f"第{cell[0]}行有误" for cell in cells}, None, last_row=ROWS + 1)


def test_a_10000_row_book_with_1000_bad_cells_stays_within_the_call_budget() -> None:
    calls = Calls()
    book = big_book(calls)
    plan = big_plan(1)
    execute(book, plan_writes(book, plan))
    first = calls.n
    sh = book.sheets.items[0]
    assert {cell for cell, rgb in sh.fills.items() if rgb == (0xFF, 0xC7, 0xCE)} == set(plan.marks)
    assert sh.note_texts == {cell: note_text(m) for cell, m in plan.marks.items()}
    assert sh.cells[(2, WIDTH + 2)] == "快递单号2" and sh.cells[(ROWS + 1, WIDTH + 4)] == f"处理说明{ROWS + 1}"
    assert book.app.screen_log == [False, True]
    # one add_note + one range per note is what xlwings allows; everything else is batched:
    # fills were 1,000 reads + 1,000 writes cell by cell, now ~30 multi-area ranges each way
    assert calls.by_kind["note"] == BAD and calls.by_kind["color"] <= 80, calls.by_kind
    print("first run", first, calls.by_kind)
    assert first <= 2 * BAD + 250, calls.by_kind

    calls.n, calls.by_kind = 0, {}              # rerun: 900 of the marks stay, 100 fixed, 100 new
    again = big_plan(1)
    keep = dict(list(sorted(again.marks.items()))[:900])
    fresh = {(r, 25): "新问题" for r in range(2, 202, 2)}
    plan2 = WritePlan("订单", 1, again.columns, again.values, {**keep, **fresh}, None, last_row=ROWS + 1)
    execute(book, plan_writes(book, plan2))
    assert set(sh.note_texts) == set(plan2.marks)
    assert {cell for cell, rgb in sh.fills.items() if rgb == (0xFF, 0xC7, 0xCE)} == set(plan2.marks)
    # reading 1,000 notes (location, row, column, text) dominates; writes are only the changes
    print("rerun", calls.n, calls.by_kind)
    assert calls.n <= 4 * BAD + 2 * 200 + 300, calls.by_kind


def test_a_failure_midway_says_what_was_written_and_restores_screen_updating() -> None:
    calls = Calls(fail_at=400, fail_on="note")
    book = big_book(calls)
    with pytest.raises(SaveError) as err:
        execute(book, plan_writes(book, big_plan(2)))
    text = err.value.text("zh")
    assert "已写入 40004 个单元格" in text and "1000 处填充颜色" in text and "添加 399 条批注" in text
    assert "只更新了一部分" in text and "未改动" not in text
    assert "40004 cells" in err.value.text("en") and "partly updated" in err.value.text("en")
    assert book.app._screen is True and book.app.screen_log == [False, True]


def test_the_button_reports_a_partial_write_not_an_unchanged_sheet(orders_xlsx: Path) -> None:
    cal = CalamineWorkbook.from_path(str(orders_xlsx))
    sheets = {n: cal.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in cal.sheet_names}
    book = DesktopBook(sheets, Calls(fail_at=3, fail_on="note"), fullname=str(orders_xlsx))
    assert px.validate_book(book) is None
    (alert,) = book.app.alerts
    assert "只更新了一部分" in alert and "添加 2 条批注" in alert and "未改动" not in alert
    assert book.app._screen is True
    assert RECORD_SHEET not in [s.name for s in book.sheets.items]      # the record was not reached
    assert MARK_FILL
