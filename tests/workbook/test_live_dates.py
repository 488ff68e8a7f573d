"""Date cells in the live workbook: Excel hands a date-only cell to xlwings as a datetime at midnight,
so the cell's number format decides whether a 承诺发货时间 runs to the end of that day (as it does when
the same workbook is read as a file) or is a real midnight deadline. Read through the desktop stand-in
(tests/workbook/desktopbook.py: Excel itself can't run here), validated by the real validator."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pddbatch.model import DateOnly
from pddbatch.pipeline import load_table
from pddbatch.validate import validate_table
from pddbatch.workbook.livebook import DATE_ONLY_LOOKUPS, read_book, snapshot_xlsx
from pddbatch.workbook.numfmt import id_shows_time, shows_time
from tests.support import sample_rows
from tests.workbook.desktopbook import Calls, DesktopBook

MIDNIGHT = dt.datetime(2026, 11, 30)


@pytest.mark.parametrize(("fmt", "time"), [
    ("yyyy/m/d", False), ("yyyy-mm-dd", False), ('yyyy"年"m"月"d"日"', False), ("[$-804]yyyy/m/d;@", False),
    ("[DBNum1][$-804]yyyy\"年\"m\"月\"d\"日\"", False), ("m/d/yy", False), ("General", False),
    ('yyyy"年"m"月"d"日 星期"aaa', False), ("\\h\\s yyyy", False),
    ("yyyy/m/d h:mm", True), ("yyyy-mm-dd hh:mm:ss", True), ("m/d/yy h:mm AM/PM", True), ("[h]:mm", True),
    ("yyyy/m/d hh\"时\"", True), ("mm:ss", True), ("上午/下午h\"时\"mm\"分\"", True),
])
def test_a_format_shows_time_only_by_its_codes_not_its_quoted_text(fmt: str, time: bool) -> None:
    assert shows_time(fmt) is time


def _book(rows: list[dict[str, Any]], calls: Calls | None = None) -> DesktopBook:
    head = list(rows[0])
    return DesktopBook({"订单列表": [head] + [[r[h] for h in head] for r in rows]}, calls)


def _rows(n: int) -> list[dict[str, Any]]:
    rows = sample_rows(n, faults=False)
    for r in rows:
        r["订单状态"], r["售后状态"] = "待发货", "无售后或售后取消"
    return rows


def test_typed_dates_among_text_deadlines_run_to_the_end_of_their_day_and_midnight_stays_midnight(
        tmp_path: Path) -> None:
    rows = _rows(8)
    head = list(rows[0])
    due, paid = head.index("承诺发货时间") + 1, head.index("支付时间") + 1
    book = _book(rows)
    sh = book.sheets.items[0]
    typed = {   # (row, column): (value as Excel hands it over, the cell's number format)
        (2, due): (MIDNIGHT, "yyyy/m/d"),                                    # typed "2026/11/30"
        (3, due): (MIDNIGHT, "yyyy-mm-dd hh:mm:ss"),                         # a real midnight deadline
        (4, due): (dt.datetime(2026, 11, 30, 10, 0), "yyyy/m/d h:mm"),
        (5, due): (dt.datetime(2026, 11, 29), 'yyyy"年"m"月"d"日"'),
        (2, paid): (dt.datetime(2026, 11, 28), "yyyy/m/d"),                 # a date that is no deadline
    }
    for cell, (v, fmt) in typed.items():
        sh.cells[cell] = v
        sh.formats[cell] = fmt
    table = read_book(book)
    assert type(table.rows[0][due - 1]) is DateOnly and type(table.rows[1][due - 1]) is dt.datetime
    by_row = {o.row: o for o in validate_table(table).orders}
    assert by_row[2].promised_ship_at == dt.datetime(2026, 11, 30, 23, 59, 59)
    assert by_row[3].promised_ship_at == dt.datetime(2026, 11, 30, 0, 0, 0)
    assert by_row[4].promised_ship_at == dt.datetime(2026, 11, 30, 10, 0, 0)
    assert by_row[5].promised_ship_at == dt.datetime(2026, 11, 29, 23, 59, 59)
    assert by_row[2].paid_at == dt.datetime(2026, 11, 28, 0, 0, 0)
    untouched = by_row[6].promised_ship_at     # a text deadline is read as it was
    assert untouched is not None and untouched.strftime("%Y-%m-%d %H:%M:%S") == rows[4]["承诺发货时间"]
    # the snapshot the 对账 button hands to the file readers keeps the date a date (calamine reads it back)
    again = load_table(snapshot_xlsx(table, tmp_path / "orders.xlsx"))
    assert [type(r[due - 1]) for r in again.rows[:4]] == [DateOnly, dt.datetime, dt.datetime, DateOnly]
    assert {o.row: o.promised_ship_at for o in validate_table(again).orders} == {
        o.row: o.promised_ship_at for o in by_row.values()}


def test_a_column_formatted_as_dates_is_asked_once_not_cell_by_cell() -> None:
    rows = _rows(300)
    head = list(rows[0])
    due = head.index("承诺发货时间") + 1
    calls = Calls()
    book = _book(rows, calls)
    sh = book.sheets.items[0]
    for r in range(2, len(rows) + 2):
        sh.cells[(r, due)] = dt.datetime(2026, 12, 1 + r % 3)
        sh.formats[(r, due)] = "yyyy-mm-dd"
    table = read_book(book)
    assert calls.by_kind.get("format") == 1
    orders = validate_table(table).orders
    assert len(orders) == 300
    assert all(o.promised_ship_at is not None and o.promised_ship_at.time() == dt.time(23, 59, 59) for o in orders)


@pytest.mark.parametrize("typed", [DATE_ONLY_LOOKUPS, DATE_ONLY_LOOKUPS + 1])
def test_too_many_mixed_cells_to_ask_one_by_one_keep_midnight(typed: int) -> None:
    rows = _rows(DATE_ONLY_LOOKUPS + 10)
    head = list(rows[0])
    due = head.index("承诺发货时间") + 1
    calls = Calls()
    book = _book(rows, calls)
    sh = book.sheets.items[0]
    for r in range(2, typed + 2):
        sh.cells[(r, due)] = MIDNIGHT
        sh.formats[(r, due)] = "yyyy/m/d"     # the last rows keep their text: the column is mixed
    table = read_book(book)
    dated = sum(type(row[due - 1]) is DateOnly for row in table.rows)
    if typed <= DATE_ONLY_LOOKUPS:
        assert dated == typed and calls.by_kind["format"] == 1 + typed
    else:
        assert dated == 0 and calls.by_kind["format"] == 1


def test_an_engine_that_cannot_read_formats_keeps_midnight() -> None:
    rows = _rows(4)
    due = list(rows[0]).index("承诺发货时间") + 1
    book = _book(rows)
    sh = book.sheets.items[0]
    sh.cells[(2, due)] = MIDNIGHT
    sh.formats[(2, due)] = "yyyy/m/d"
    sh.formats_readable = False
    table = read_book(book)
    assert type(table.rows[0][due - 1]) is dt.datetime
    order = next(o for o in validate_table(table).orders if o.row == 2)
    assert order.promised_ship_at == MIDNIGHT


def test_builtin_formats_are_known_by_id_and_a_workbooks_own_by_code() -> None:
    assert [i for i in range(60) if id_shows_time(i, {})] == [18, 19, 20, 21, 22, 32, 33, 34, 35, 45, 46, 47, 55, 56]
    assert id_shows_time(176, {176: 'yyyy/m/d\\ h:mm;@'}) and not id_shows_time(177, {177: "yyyy/m/d;@"})
    assert not id_shows_time(176, {})       # an id the workbook doesn't define: no time shown
