"""Marks that survive the editors sellers use: LibreOffice and openpyxl open and save the workbook
(dropping unknown parts, renumbering styles, forgetting note authors); a rerun still removes exactly
pddbatch's earlier fills and notes, and never the seller's own."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from copy import copy
from pathlib import Path

import pytest

from pddbatch.workbook.marks import note_text, read_record_meta
from pddbatch.workbook.save import apply_plan
from tests.workbook.markbooks import libreoffice_save, openpyxl_save, plan, seller_book, snapshot

MARKS = {(3, 3): "手机号应为11位数字", (4, 3): "手机号重复", (5, 2): "收货人为空", (6, 4): "地址太短"}
EDITORS: dict[str, Callable[[Path], None]] = {
    "libreoffice": libreoffice_save,
    "openpyxl": openpyxl_save,
    "openpyxl-record-deleted": lambda p: openpyxl_save(p, drop_record=True),
}


@pytest.mark.parametrize("editor", list(EDITORS))
def test_rerun_after_an_editor_removes_exactly_pddbatchs_marks(tmp_path: Path, editor: str) -> None:
    if editor == "libreoffice" and shutil.which("soffice") is None:
        pytest.skip("LibreOffice not installed")
    book = seller_book(tmp_path / "orders.xlsx")
    apply_plan(book, plan(MARKS, meta={"ledger_id": "L-1"}), backup=False)
    first = snapshot(book)
    assert {c: first.fills.get(c) for c in ("C3", "C4", "B5", "D6", "E7")} == \
        {"C3": "FFC7CE", "C4": "FFC7CE", "B5": "FFC7CE", "D6": "FFC7CE", "E7": "FFC7CE"}
    assert first.notes["C3"] == note_text("手机号应为11位数字") and first.notes["B5"] == "卖家自己的批注"

    EDITORS[editor](book)
    # the seller fixes C3, C4 and B5; D6 is still wrong
    apply_plan(book, plan({(6, 4): "地址太短"}, new=False), backup=False)
    after = snapshot(book)
    assert "C3" not in after.fills and "C3" not in after.notes
    assert after.notes["B5"] == "卖家自己的批注"
    assert after.fills["D6"] == "FFC7CE" and after.notes["D6"] == note_text("地址太短")
    assert after.fills["E7"] == "FFC7CE" and "E7" not in after.notes          # the seller's own "Bad" cell
    assert after.notes["D8"] == "门牌号待确认"                                  # the seller's own note
    assert "C4" not in after.notes
    if editor == "openpyxl-record-deleted":
        assert after.fills.get("C4") != "FFC7CE"      # the note identified the mark; its old red is unknown
        assert read_record_meta(book) == {}
    else:
        assert after.fills["C4"] == "FF0000"          # the seller's red comes back
        assert "B5" not in after.fills                # marked under the seller's note: the record knew it
        assert read_record_meta(book) == {"ledger_id": "L-1"}
    assert after.record == {("订单", "D6", "", True)}

    apply_plan(book, plan({}, new=False), backup=False)
    clean = snapshot(book)
    assert "D6" not in clean.fills and "D6" not in clean.notes
    assert clean.fills["E7"] == "FFC7CE" and clean.notes["D8"] == "门牌号待确认"
    assert clean.notes["B5"] == "卖家自己的批注"


def test_marks_are_found_from_the_cell_when_rows_were_sorted(tmp_path: Path) -> None:
    """The record says C3, but the seller sorted: the marked cell is now C12. The note finds it."""
    import openpyxl

    book = seller_book(tmp_path / "orders.xlsx")
    apply_plan(book, plan({(3, 3): "手机号应为11位数字"}), backup=False)
    wb = openpyxl.load_workbook(book)
    ws = wb["订单"]
    for c in range(1, 8):                      # swap rows 3 and 12 the way a sort moves them
        a, b = ws.cell(3, c), ws.cell(12, c)
        a.value, b.value = b.value, a.value
        a.comment, b.comment = b.comment, a.comment
        a.fill, b.fill = copy(b.fill), copy(a.fill)
    wb.save(book)
    apply_plan(book, plan({}, new=False), backup=False)
    after = snapshot(book)
    assert "C12" not in after.notes and "C12" not in after.fills
    assert "C3" not in after.fills and after.fills["E7"] == "FFC7CE"


def test_marks_of_an_older_pddbatch_are_undone_and_its_record_retired(tmp_path: Path) -> None:
    """data/legacy-marks.xlsx: written by pddbatch before the shared record (custom XML part, the
    seller's note on B5 covered by pddbatch's). Its marks are undone and the part goes."""
    import zipfile

    book = tmp_path / "orders.xlsx"
    shutil.copy(Path(__file__).parent / "data" / "legacy-marks.xlsx", book)
    before = snapshot(book)
    assert before.notes["B5"] != "卖家自己的批注" and before.fills["C4"] == "FFC7CE"
    apply_plan(book, plan({}, new=False), backup=False)
    after = snapshot(book)
    assert after.notes == {"B5": "卖家自己的批注", "D8": "门牌号待确认"}
    assert after.fills == {"C4": "FF0000", "E7": "FFC7CE"}
    with zipfile.ZipFile(book) as zf:
        names = zf.namelist()
        assert not [n for n in names if n.startswith("customXml/")]
        assert b"customXml" not in zf.read("xl/_rels/workbook.xml.rels")
        assert b"customXml" not in zf.read("[Content_Types].xml")
