"""The three buttons on a live book (xlwings' remote engine), asserting on the actions Excel would receive."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import xlwings as xw

import pddbatch.excel as px
from pddbatch.pipeline import load_table
from pddbatch.validate import validate_table
from pddbatch.workbook.livewrites import _xl, split_rows
from pddbatch.workbook.marks import MARK_FILL, note_text
from tests.excel.payload import actions, book_from_xlsx, sheet_payload
from tests.support import SAMPLE, generator, sample_rows

RED = MARK_FILL.lower()


def _addr(a: dict[str, Any]) -> tuple[int, int]:
    return a["start_row"] + 1, a["start_column"] + 1


def _column_values(book: xw.Book, col: int) -> dict[int, Any]:
    """Row -> value written into 1-based column `col` of the first sheet, from the setValues actions."""
    out: dict[int, Any] = {}
    for a in actions(book, "setValues"):
        if a["sheet_position"] == 0 and a["start_column"] + 1 == col:
            for i, row in enumerate(a["values"]):
                out[a["start_row"] + 1 + i] = row[0]
    return out


def _colors(book: xw.Book, sheet: int = 0) -> dict[tuple[int, int], Any]:
    out: dict[tuple[int, int], Any] = {}
    for a in actions(book, "setRangeColors"):
        if a["sheet_position"] != sheet:
            continue
        r0, c = _addr(a)
        for i, row in enumerate(a["args"][0]):
            if row[0] != "keep":
                out[(r0 + i, c)] = row[0]
    return out


def _pos(book: xw.Book, name: str) -> int:
    return [s.name for s in book.sheets].index(name)


def _expected_errors(path: Path) -> dict[str, str]:
    v = validate_table(load_table(path))
    return {f"${i.cell[:len(i.cell.rstrip('0123456789'))]}${i.row}": i.message
            for i in v.issues if i.severity == "error" and i.col}


def test_validate_marks_bad_cells_writes_status_and_issues_sheet(orders_xlsx: Path) -> None:
    book = book_from_xlsx(orders_xlsx)
    result = px.validate_book(book)
    assert result is not None and result.rejected == 12
    headers = [c.value for c in openpyxl.load_workbook(orders_xlsx).worksheets[0][1]]
    status_col, msg_col = len(headers) + 1, len(headers) + 2
    assert _column_values(book, status_col)[1] == "处理状态"
    assert _column_values(book, msg_col)[1] == "处理说明"
    statuses = _column_values(book, status_col)
    assert sum(1 for r in range(2, 322) if statuses[r] == "校验失败") == 12
    assert sum(1 for r in range(2, 322) if statuses[r] == "校验通过") == 308
    expected = _expected_errors(orders_xlsx)
    notes = {a["args"][0]: a["args"][1] for a in actions(book, "addNote")}
    assert notes == {cell: note_text(message) for cell, message in expected.items()}
    red = {k for k, v in _colors(book).items() if v == RED}
    assert {f"${xw.utils.col_name(c)}${r}" for r, c in red} == set(expected)
    adds = {a["args"][1]: a["args"][0] for a in actions(book, "addSheet")}
    assert list(adds) == ["问题清单", "_pddbatch"]
    issues = [a for a in actions(book, "setValues") if a["sheet_position"] == adds["问题清单"]]
    assert issues[0]["values"][0] == ["工作表", "单元格", "行号", "字段", "代码", "说明"]
    assert len(issues[0]["values"]) == 1 + len(result.issues)
    assert any(a["func"] == "setSheetVisibility" and a["args"] == ["Hidden"]
               and a["sheet_position"] == adds["_pddbatch"]
               for a in actions(book))
    (alert,) = actions(book, "alert")
    assert alert["args"][0].startswith("校验完成：共 320 行，通过 308 行，有问题 12 行。")
    assert alert["args"][1] == "拼多多发货"


def test_rerun_removes_exactly_its_own_marks_and_keeps_the_sellers_note(orders_xlsx: Path) -> None:
    first = book_from_xlsx(orders_xlsx)
    px.validate_book(first)
    bad = sorted(_expected_errors(orders_xlsx))[0]            # e.g. $AA$31
    record = sheet_payload("_pddbatch", [["sheet", "cell", "fill", "note"],
                                         ["订单列表", "A2", "#FFFF00", 1],      # fixed since: restore yellow
                                         ["订单列表", bad.replace("$", ""), "", 1]], visible=False)
    seller_note = "$C$3"
    book = book_from_xlsx(orders_xlsx, extra_sheets=[record], notes={"订单列表": ["$A$2", bad, seller_note]})
    px.validate_book(book)
    deleted = [a["args"][0] for a in actions(book, "deleteNote")]
    assert sorted(deleted) == sorted(["$A$2", bad])
    assert _colors(book)[(2, 1)] == "#ffff00"
    added = {a["args"][0] for a in actions(book, "addNote")}
    assert bad in added and seller_note not in added and "$A$2" not in added
    record_rows = [a for a in actions(book, "setValues") if a["sheet_position"] == _pos(book, "_pddbatch")]
    written = [r for a in record_rows for r in a["values"]][1:]
    assert {r[1] for r in written} == {a.replace("$", "") for a in _expected_errors(orders_xlsx)}
    assert not any(a["func"] == "addSheet" and a["args"][1] == "_pddbatch" for a in actions(book))


def test_seller_note_on_a_bad_cell_is_kept(orders_xlsx: Path) -> None:
    bad = sorted(_expected_errors(orders_xlsx))[0]
    book = book_from_xlsx(orders_xlsx, notes={"订单列表": [bad]})
    px.validate_book(book)
    assert bad not in {a["args"][0] for a in actions(book, "addNote")}
    assert not actions(book, "deleteNote")
    record = [r for a in actions(book, "setValues") if a["sheet_position"] == _pos(book, "_pddbatch")
              for r in a["values"]]
    assert [bad.replace("$", ""), 0] in [[r[1], r[3]] for r in record]


def test_process_fills_numbers_writes_labels_beside_the_workbook(shop: Path) -> None:
    book = book_from_xlsx(shop / "orders.xlsx")
    result = px.process_book(book)
    assert result is not None and result.allocated_new > 0
    table = load_table(shop / "orders.xlsx")
    track_col = next(i for i, h in enumerate(table.headers, 1) if h.strip() == "快递单号")
    car_col = next(i for i, h in enumerate(table.headers, 1) if h.strip() == "快递公司")
    tracks = _column_values(book, track_col)
    cars = _column_values(book, car_col)
    allocated = {o.row: o for o in result.outcomes if o.status.value == "allocated"}
    for row, o in allocated.items():
        if o.tracking_no != (table.rows[row - 2][track_col - 1] or ""):
            assert tracks[row] == _xl(o.tracking_no)
            if o.tracking_no.isdigit():
                assert tracks[row] == "'" + o.tracking_no   # digits stay text, never a number
            assert cars[row] == o.carrier_name
    out = shop / "orders.pddbatch"
    assert (out / "labels-ZTO.pdf").is_file() and (out / "pdd-bulk-ship.xlsx").is_file()
    (alert,) = actions(book, "alert")
    assert f"已分配单号 {result.allocated} 个" in alert["args"][0]
    assert str(out) in alert["args"][0]
    again = book_from_xlsx(shop / "orders.xlsx")
    second = px.process_book(again)
    assert second is not None and second.allocated_new == 0
    assert {o.row: o.tracking_no for o in second.outcomes if o.status.value == "allocated"} == \
           {r: o.tracking_no for r, o in allocated.items()}


def test_fatal_error_is_a_plain_message_and_no_write(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["商品", "数量"])
    wb.active.append(["T恤", 1])
    wb.save(tmp_path / "x.xlsx")
    book = book_from_xlsx(tmp_path / "x.xlsx")
    assert px.validate_book(book) is None
    (alert,) = actions(book)
    assert alert["func"] == "alert" and alert["args"][3] == "critical"
    assert "找不到订单表头" in alert["args"][0] and "Traceback" not in alert["args"][0]


def test_process_without_config_leaves_the_sheet_alone(tmp_path: Path) -> None:
    generator.write_xlsx(sample_rows(20, faults=False), tmp_path / "orders.xlsx")
    book = book_from_xlsx(tmp_path / "orders.xlsx")
    assert px.process_book(book) is None
    (alert,) = actions(book)
    assert alert["func"] == "alert" and "pddbatch.toml" in alert["args"][0]


def test_unsaved_book_cannot_process(orders_xlsx: Path) -> None:
    book = book_from_xlsx(orders_xlsx, fullname="工作簿1")
    assert px.process_book(book) is None
    assert "请先保存工作簿" in actions(book, "alert")[0]["args"][0]


def test_text_is_never_written_as_a_formula_or_number() -> None:
    assert _xl("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert _xl("+86 138") == "'+86 138" and _xl("@sum") == "'@sum"
    assert _xl("73100000000001") == "'73100000000001"
    assert _xl("2026-11-25") == "'2026-11-25" and _xl("TRUE") == "'TRUE"
    assert _xl("中通快递") == "中通快递" and _xl("已分配") == "已分配"
    assert _xl(12.5) == 12.5 and _xl("") is None


def test_formula_text_in_the_sheet_comes_back_as_text(tmp_path: Path) -> None:
    rows = sample_rows(12, faults=False)
    rows[0]["收货人"] = "=cmd|' /C calc'!A0"
    generator.write_xlsx(rows, tmp_path / "orders.xlsx")
    book = book_from_xlsx(tmp_path / "orders.xlsx")
    px.validate_book(book)
    texts = [v for a in actions(book, "setValues") for row in a["values"] for v in row if isinstance(v, str)]
    assert not any(t.startswith("=") for t in texts)


def test_split_rows_keeps_each_piece_under_budget() -> None:
    rows = [["说明" * 50] for _ in range(1000)]
    pieces = list(split_rows(rows, budget=20_000))
    assert len(pieces) > 1 and sum(len(p) for _o, p in pieces) == 1000
    assert all(len(json.dumps(p, ensure_ascii=False).encode()) <= 20_000 for _o, p in pieces)
    assert [o for o, _p in pieces] == sorted(o for o, _p in pieces)


def test_reconcile_uses_the_files_beside_the_workbook(shop: Path) -> None:
    shutil.copy(SAMPLE / "orders.xlsx", shop / "orders.xlsx")
    shutil.copy(SAMPLE / "售后-sample.xlsx", shop / "售后-sample.xlsx")
    shutil.copy(SAMPLE / "退货登记-sample.xlsx", shop / "退货登记-sample.xlsx")
    book = book_from_xlsx(shop / "orders.xlsx")
    result = px.reconcile_book(book)
    assert result is not None
    from pddbatch.reconcile import reconcile
    direct = reconcile([SAMPLE / "orders.xlsx"], [SAMPLE / "售后-sample.xlsx"], [SAMPLE / "退货登记-sample.xlsx"],
                       out=shop / "direct.xlsx")
    assert result.exceptions == direct.exceptions and result.refunds_total == direct.refunds_total
    out = shop / "orders-对账.xlsx"
    assert out.is_file() and "汇总" in openpyxl.load_workbook(out).sheetnames
    (alert,) = actions(book, "alert")
    assert alert["args"][0].startswith("对账完成") and str(out) in alert["args"][0]
    assert "退款找不到订单 1" in alert["args"][0]


def test_reconcile_without_aftersales_says_where_to_put_it(orders_xlsx: Path) -> None:
    book = book_from_xlsx(orders_xlsx)
    assert px.reconcile_book(book) is None
    assert "找不到售后导出文件" in actions(book, "alert")[0]["args"][0]


def test_process_button_uses_the_books_stock_and_sku_sheets(shop: Path) -> None:
    """The 库存 / 商品资料 sheets of the open book count, and 库存 gets 本次后剩余 written back."""
    book = book_from_xlsx(shop / "orders.xlsx")
    result = px.process_book(book)
    assert result is not None and result.out_of_stock > 0        # the sample's TD-CD / ZWJ-3-WH run out
    # 问题清单 is inserted after the orders sheet, so 库存 has moved one place right by the time it is written
    (stock_pos,) = {a["sheet_position"] for a in actions(book, "setValues") if a["values"] == [["本次后剩余"]]}
    assert [s.name for s in book.sheets].index("库存") == stock_pos
    written: dict[tuple[int, int], Any] = {}
    for a in actions(book, "setValues"):
        if a["sheet_position"] == stock_pos:
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    written[(a["start_row"] + 1 + i, a["start_column"] + 1 + j)] = v
    assert written[(1, 3)] == "本次后剩余" and written[(1, 4)] == "库存提醒"
    stock_rows = {r[0]: r for r in generator.STOCK_TABLE}
    sheet = openpyxl.load_workbook(shop / "orders.xlsx", read_only=True)["库存"]
    for r, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        sku = row[0]
        assert 0 <= written[(r, 3)] <= stock_rows[sku][1]
    assert any(v == "已无库存" for (_r, c), v in written.items() if c == 4)
    # the orders sheet's marks are untouched by the stock write (no colour action on 库存)
    assert all(a["sheet_position"] != stock_pos for a in actions(book, "setRangeColors"))
