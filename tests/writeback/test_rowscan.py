"""Row shapes worked out before the plan (rowscan) write exactly what the rewrite finds itself — and only
for the very bytes they were taken from."""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

import pddbatch.pipeline.batch as batch
from pddbatch.pipeline import Options, process
from pddbatch.workbook.save import apply_plan
from pddbatch.workbook.xlsx.rowscan import RowScan, scan_rows
from tests.support import set_cell_text
from tests.writeback.wb_fixtures import build_rich, plan_for

NOW = datetime(2026, 11, 26, 8, 0)
SHEET = "xl/worksheets/sheet1.xml"


def _sheet(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(SHEET)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A workbook written back once: pddbatch's two columns hold cells the next run overwrites."""
    path = build_rich(tmp_path / "book.xlsx", rows=400)
    apply_plan(path, plan_for(rows=400), backup=False)
    return path


def _applied(src: Path, dst: Path, scan: RowScan | None) -> bytes:
    shutil.copy(src, dst)
    apply_plan(dst, plan_for(rows=400, new=False, status="已分配", marks={}), backup=False, scan=scan)
    return _sheet(dst)


def test_a_scan_of_the_same_bytes_writes_what_the_rewrite_writes_alone(book: Path, tmp_path: Path) -> None:
    scan = scan_rows(book, "订单", (7, 8))
    assert scan is not None and set(range(1, 402)) <= set(scan.shapes)
    fast = [shape for _n, shape in scan.shapes.values() if shape is not None and shape[1] == [7, 8]]
    assert len(fast) >= 395                      # the data rows: both owned cells found, the fast path's shape
    assert _applied(book, tmp_path / "a.xlsx", scan) == _applied(book, tmp_path / "b.xlsx", None)


def test_the_shapes_are_what_the_rewrite_uses_when_they_fit_and_never_otherwise(book: Path, tmp_path: Path) -> None:
    scan = scan_rows(book, "订单", (7, 8))
    assert scan is not None
    plain = _applied(book, tmp_path / "plain.xlsx", None)
    # a shape that lies (row 10's cells said to start one byte late): used, so the output changes
    lying = {**scan.shapes}
    n, shape = lying[10]
    assert shape is not None
    lying[10] = (n, ([s + 1 for s in shape[0]], shape[1]))
    assert _applied(book, tmp_path / "lie.xlsx", replace(scan, shapes=lying)) != plain
    # ... but not for another sheet part's bytes, other columns, or a row of another length
    assert _applied(book, tmp_path / "crc.xlsx", replace(scan, shapes=lying, crc=scan.crc ^ 1)) == plain
    assert _applied(book, tmp_path / "cols.xlsx", replace(scan, shapes=lying, owned=(7, 9))) == plain
    lying[10] = (n + 1, lying[10][1])
    assert _applied(book, tmp_path / "len.xlsx", replace(scan, shapes=lying)) == plain


def test_a_scan_taken_before_the_seller_saved_again_is_ignored(book: Path, tmp_path: Path) -> None:
    scan = scan_rows(book, "订单", (7, 8))
    set_cell_text(book, "B7", "改过的名字", sheet_part=SHEET)       # saved meanwhile: other bytes
    assert _applied(book, tmp_path / "stale.xlsx", scan) == _applied(book, tmp_path / "fresh.xlsx", None)


def test_a_run_whose_write_back_child_scanned_the_rows_writes_the_same_sheet(shop: Path, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample export processed twice from the same start: the write-back forked beside the planning
    (it scans the rows first) and the write-back run here at the end (no scan)."""
    other = tmp_path / "other"
    shutil.copytree(shop, other)
    monkeypatch.setattr(batch, "PARALLEL_ROWS", 100)
    forked = process(shop / "orders.xlsx", Options(now=NOW))
    monkeypatch.setattr(batch, "PARALLEL_ROWS", 10**9)
    inline = process(other / "orders.xlsx", Options(now=NOW))
    assert forked.allocated_new == inline.allocated_new > 100
    assert _sheet(shop / "orders.xlsx") == _sheet(other / "orders.xlsx")


# ---- the structure check's formula scan, in chunks -----------------------------------------------

def _sheet_with_formula_at(offset: int) -> bytes:
    """A sheet whose shared formula over column Y starts `offset` bytes in (filler rows before it)."""
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    row = b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>'
    rows, size, r = [head], len(head), 2
    while True:
        nxt = row % (r, r)
        if size + len(nxt) > offset:
            break
        rows.append(nxt)
        size += len(nxt)
        r += 1
    pad = offset - size
    rows.append(b" " * pad)           # (whitespace between rows: the formula's "<f" lands exactly at offset)
    rows.append(b'<f t="shared" ref="Y2:Y9" si="0">A2</f>')
    rows.append(b"</sheetData></worksheet>")
    return b"".join(rows)


# "ref" is 14 bytes into the formula: at 2**20 - 15 and - 16 it straddles the first megabyte's end
@pytest.mark.parametrize("where", [1000, (1 << 20) - 15, (1 << 20) - 16, (1 << 20) - 5, 3 * (1 << 20) + 17])
def test_a_shared_formula_is_found_in_any_chunk(where: int) -> None:
    """The scan reads a megabyte at a time and skips a megabyte without "ref": a formula anywhere,
    its "ref" straddling a chunk's end included, is still refused."""
    import io

    from pddbatch.errors import InputError
    from pddbatch.workbook.xlsx.patcher import _check_formulas

    xml = _sheet_with_formula_at(where)
    assert xml.index(b"<f t=") == where
    assert xml.index(b"ref=") == where + 14
    with pytest.raises(InputError, match="Y2:Y9"):
        _check_formulas(io.BytesIO(xml), "订单列表", {25}, 1)
    _check_formulas(io.BytesIO(xml), "订单列表", {26}, 1)      # over another column: fine
