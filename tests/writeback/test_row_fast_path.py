"""The row fast path in the sheet rewriter gives exactly the bytes of the general path."""

from __future__ import annotations

import io

import pytest

from pddbatch.workbook.xlsx.sheetframe import SheetJob
from pddbatch.workbook.xlsx.worksheet import SheetRewriter

HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
ROWS = [
    b'<row r="2"><c r="A2"><v>1</v></c><c r="C2" s="3"/><c r="E2" t="inlineStr"><is><t>x</t></is></c></row>',
    b'<row r="3" spans="1:3"><c r="A3"><v>1</v></c><c r="B3"><v>2</v></c></row>',
    b'<row r="4"><c r="A4"><v>1</v></c><c r="E4"><v>5</v></c><c r="C4"><v>3</v></c></row>',   # out of order
    b'<row r="5"><c r="C5"><v>3</v></c><c r="A5"><v>1</v></c></row>',                       # owned cell left
    b'<row r="6"><c r="A6"><v>1</v></c> <c r="C6"><v>3</v></c>\n<c r="E6"/></row>',          # whitespace
    b'<row r="7"><c r="A7"><v>1</v></c><c r="C8"><v>3</v></c></row>',                       # wrong row
    b'<row r="8"><c r="A8"/><c r="C8"><f>1+1</f><v>2</v></c></row>',                        # formula
    b'<row r="9"><c r="A9"/><c r="$C$9"><v>2</v></c></row>',
    b'<row r="10"><c r="A10"/><c r="C10" s="2"><v>2</v></c><c r="D10"><v>4</v></c></row>',
    b'<row r="11"/>',
    b'<row r="12"><c r="B12"><is><r><rPr><color rgb="FF0000"/></rPr><t>a</t></r></is></c></row>',
    b'<row r="13"><c r="A13"><v>1</v></c><c r="C13"><v>1</v></c><c r="C13"><v>2</v></c></row>',
]


def _run(fast: bool, values: dict[tuple[int, int], object]) -> tuple[bytes, int]:
    job = SheetJob(header_row=1, first_row=2, last_row=13, owned=(3, 5), values=values,  # type: ignore[arg-type]
                   headers={}, marks=frozenset(), prev=frozenset(), unmark=lambda c, s: s,
                   mark_style=lambda s: 9)
    rw = SheetRewriter(job)
    if not fast:
        rw.fast_cols = []
    src = io.BytesIO(HEAD + b"".join(ROWS) + b"</sheetData></worksheet>")
    dst = io.BytesIO()
    res = rw.run(src, dst)
    return dst.getvalue(), res.cells_written


@pytest.mark.parametrize("value", ["新值", " padded ", 7, None])
def test_fast_path_matches_general_path(value: object) -> None:
    values = {(r, c): value for r in range(2, 14) for c in (3, 5) if r != 8}
    fast = _run(True, values)
    slow = _run(False, values)
    assert fast == slow
    assert b'<c r="C2" s="3"' in fast[0]
