"""One contract for both backends of the sheet seam: the same WritePlan in gives the same cells,
fills, notes, issues sheet and mark record out, whether it lands in the file (`FileSheet`, the
lossless patcher) or in the open book (`LiveSheet` on xlwings' remote engine, its actions then
carried out as Excel would and saved). Marks one face made are cleared by the other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pddbatch.model import WritePlan
from pddbatch.workbook.backend import FileSheet, LiveSheet
from pddbatch.workbook.marks import note_text
from tests.workbook.markbooks import live_book, plan, play, seller_book, snapshot


def apply_file(path: Path, p: WritePlan) -> None:
    FileSheet(path).apply(p, backup=False)


def apply_live(path: Path, p: WritePlan) -> None:
    book = live_book(path)
    LiveSheet(book).apply(p)
    play(book.json()["actions"], path)


BACKENDS: dict[str, Callable[[Path, WritePlan], None]] = {"file": apply_file, "live": apply_live}
# unfilled cells (the remote engine cannot read a fill, so it records "none" for any cell it marks)
FIRST = {(3, 3): "手机号应为11位数字", (5, 2): "收货人为空", (6, 4): "地址太短", (9, 1): "订单号重复"}
SECOND = {(6, 4): "地址太短", (10, 2): "收货人为空"}


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    path = seller_book(tmp_path_factory.mktemp("contract") / "orders.xlsx")
    out = []
    for p in (plan(FIRST, meta={"ledger_id": "L-1"}), plan(SECOND, new=False, status="已分配"), plan({}, new=False)):
        apply_file(path, p)
        out.append(snapshot(path))
    return out


@pytest.mark.parametrize("first", list(BACKENDS))
@pytest.mark.parametrize("second", list(BACKENDS))
def test_same_plan_same_workbook(tmp_path: Path, expected: list[object], first: str, second: str) -> None:
    path = seller_book(tmp_path / "orders.xlsx")
    BACKENDS[first](path, plan(FIRST, meta={"ledger_id": "L-1"}))
    got = snapshot(path)
    assert got == expected[0]
    assert got.notes["C3"] == note_text("手机号应为11位数字") and got.notes["B5"] == "卖家自己的批注"
    assert got.fills["C3"] == "FFC7CE" and got.values["F2"] == "校验通过"
    assert ("订单", "B5", "", False) in got.record and got.meta == (("ledger_id", "L-1"),)
    assert got.sheets == (("订单", "visible"), ("汇总", "visible"), ("问题清单", "visible"), ("_pddbatch", "hidden"))
    # the other face (or the same) reruns after the seller fixed C3, B5 and A9
    BACKENDS[second](path, plan(SECOND, new=False, status="已分配"))
    got = snapshot(path)
    assert got == expected[1]
    assert "C3" not in got.notes and "C3" not in got.fills and "A9" not in got.fills
    assert got.notes["B5"] == "卖家自己的批注" and "B5" not in got.fills
    assert got.fills["E7"] == "FFC7CE" and got.notes["D8"] == "门牌号待确认"    # the seller's own, untouched
    assert got.record == {("订单", "D6", "", True), ("订单", "B10", "", True)}
    BACKENDS[first](path, plan({}, new=False))
    got = snapshot(path)
    assert got == expected[2]
    assert got.fills == {"C4": "FF0000", "E7": "FFC7CE"} and set(got.notes) == {"B5", "D8"}
