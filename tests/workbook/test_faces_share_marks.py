"""The two faces share one mark record: `pddbatch validate` (the file) marks bad cells, the Excel
button (xlwings' remote engine, its actions carried out as Excel would) clears the fixed ones, and
the CLI clears what the button marked."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner

import pddbatch.excel as px
from pddbatch.cli import main
from pddbatch.model import a1
from pddbatch.pipeline import load_table
from pddbatch.validate import validate_table
from pddbatch.workbook.marks import is_mark_note, read_record
from tests.workbook.markbooks import live_book, play


def bad_cells(path: Path) -> dict[str, tuple[int, int]]:
    v = validate_table(load_table(path))
    return {i.cell: (i.row, i.col) for i in v.issues if i.severity == "error" and i.col}


def marked(path: Path) -> set[str]:
    """Cells carrying pddbatch's note and fill, read back from the saved file."""
    ws = openpyxl.load_workbook(path).worksheets[0]
    return {c.coordinate for row in ws.iter_rows() for c in row
            if c.comment is not None and is_mark_note(c.comment.text)
            and c.fill.fill_type == "solid" and str(c.fill.fgColor.rgb).upper().endswith("FFC7CE")}


def repair(path: Path, cell: str, bad: dict[str, tuple[int, int]]) -> None:
    """The seller fixes `cell`: it gets the value the same column holds in a row without problems."""
    table = load_table(path)
    bad_rows = {r for r, _c in bad.values()}
    good = next(i for i in range(len(table.rows)) if table.sheet_row(i) not in bad_rows)
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0][cell].value = table.rows[good][bad[cell][1] - 1]
    wb.save(path)


def test_cli_marks_cleared_by_the_button_and_the_other_way_round(orders_xlsx: Path) -> None:
    bad = bad_cells(orders_xlsx)
    res = CliRunner().invoke(main, ["validate", str(orders_xlsx)])
    assert res.exit_code == 1, res.output
    assert marked(orders_xlsx) == set(bad)
    order_col = [h.strip() for h in load_table(orders_xlsx).headers].index("订单号") + 1
    fixable = sorted(c for c, (_r, col) in bad.items() if col != order_col)
    assert len(fixable) >= 2
    fixed_by_seller = fixable[0]
    repair(orders_xlsx, fixed_by_seller, bad)

    book = live_book(orders_xlsx)              # the seller opens it in Excel and clicks 校验
    assert px.validate_book(book) is not None
    acts = book.json()["actions"]
    assert fixed_by_seller in {a["args"][0].replace("$", "") for a in acts if a["func"] == "deleteNote"}
    play(acts, orders_xlsx)                    # Excel carries the actions out; the seller saves
    assert marked(orders_xlsx) == set(bad) - {fixed_by_seller}
    assert {a1(m.row, m.col) for m in read_record(orders_xlsx).marks.values()} == set(bad) - {fixed_by_seller}

    second = fixable[1]                        # fixed in Excel, then the CLI reruns
    repair(orders_xlsx, second, bad)
    CliRunner().invoke(main, ["validate", str(orders_xlsx)])
    still = set(bad_cells(orders_xlsx))
    assert second not in still and fixed_by_seller not in still
    assert marked(orders_xlsx) == still
