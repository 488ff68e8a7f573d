"""The sheet rewrite's fast path: a data row whose only targets are the owned columns, in the common shape.

Most rows of a big export look alike: a few cells the seller keeps, then pddbatch's own columns. For
those the rewrite needs no `RowCells` parse: `fast_scan` walks the cells back from the row's end and
checks the shape, `fast_emit` splices the new cells in. Together they give exactly the bytes the sheet
rewriter's general path (RowCells + _cell) gives, or None to use that path. They run once per row
(100,000 rows on a big day), so they take everything they need as arguments and look nothing up on an
object. The scan depends on the row's bytes and the owned columns only, so a run's write-back child
works it out before the write plan exists (`rowscan`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping

from pddbatch.model import CellValue
from pddbatch.workbook.xlsx.cellxml import _ATTR_S, COL_OF, get_attr, letters_of, value_xml
from pddbatch.workbook.xlsx.sheetframe import Cell

FastCol = tuple[int, str, bytes]          # column, its letters, the letters as bytes
# the row's new inner XML, the first and last column of its cells (when the row has spans), cells written
FastRow = tuple[bytes, tuple[int, int] | None, int]
Shape = tuple[list[int], list[int]]       # where the cells from the first owned column on start; their columns


def fast_columns(owned: tuple[int, ...]) -> list[FastCol]:
    """The owned columns in order, for the fast path; none (the fast path off) when column A is owned."""
    fast = sorted(owned) if owned and min(owned) > 1 else []
    return [(c, letters_of(c), letters_of(c).encode()) for c in fast]


def fast_scan(r: int, open_tag: bytes, inner: bytes, p: bytes, tag: bytes, fast_cols: list[FastCol]) -> Shape | None:
    """Where row `r`'s cells from the first owned column on start, and their columns (ascending); None
    when the row is not of the fast path's shape.

    `inner` is the row's XML inside its tag `open_tag`, `p` the sheet's namespace prefix, `tag` its
    cell start `<c r="`, `fast_cols` the owned columns (not empty). The shape: every cell starts
    `<c r="`, the cells from the first owned column on are back to back, in strictly increasing column
    order and on this row, and no owned cell is further left. The cells left of the first owned column
    are kept as they are, like RowCells does.
    """
    if open_tag[-2:] == b"/>" or inner.count(tag[:-4]) != inner.count(tag):
        return None
    lt = len(tag)
    rs = b"%d" % r
    nrs = len(rs)
    lo = fast_cols[0][0]
    close = b"</" + p + b"c>"
    lc = len(close)
    starts: list[int] = []
    cols: list[int] = []
    cut = len(inner)
    last = 1 << 30
    while True:                      # walk the cells back from the row's end, as RowCells does
        i = inner.rfind(tag, 0, cut)
        if i < 0:
            break
        j = inner.find(b'"', i + lt)
        if j < 0:
            return None
        ref = inner[i + lt:j]
        if ref[-nrs:] != rs:
            return None
        col = COL_OF.get(ref[:-nrs])
        if col is None:
            return None
        if col < lo:
            break
        if col >= last:
            return None
        gt = inner.find(b">", j)     # the cell's end, found the way RowCells' pattern finds it
        if gt < 0:
            return None
        if inner[gt - 1] == 47:      # "/>"
            e = gt + 1
        else:
            e = inner.find(close, gt)
            if e < 0:
                return None
            e += lc
        if e != cut:
            return None
        starts.append(i)
        cols.append(col)
        last = col
        cut = i
    if cut:
        prefix = inner[:cut]
        for _c, _letters, letters_b in fast_cols:
            if b'r="' + letters_b + rs + b'"' in prefix:
                return None
    starts.reverse()
    cols.reverse()
    return starts, cols


def fast_emit(r: int, open_tag: bytes, inner: bytes, p: bytes, fast_cols: list[FastCol],
              values: Mapping[Cell, CellValue], shape: Shape) -> FastRow | None:
    """Row `r`'s new inner XML with the owned columns' `values` written, from its `fast_scan` shape;
    None for the general path (an owned cell holds a formula: it flags or refuses them)."""
    starts, cols = shape
    n = len(cols)
    size = len(inner)
    out: list[bytes] = []
    pos = 0
    written = 0
    removed: list[int] = []
    added: list[int] = []
    for c, letters, _letters_b in fast_cols:
        k = bisect_left(cols, c)
        ref_s = letters + str(r)
        value = values.get((r, c))
        if k < n and cols[k] == c:
            s = starts[k]
            e = starts[k + 1] if k + 1 < n else size
            raw = inner[s:e]
            if b"<" + p + b"f" in raw:
                return None          # formulas: the general path flags or refuses them
            st = get_attr(raw[:raw.index(b">") + 1], _ATTR_S)
            new = value_xml(p, ref_s, int(st) if st and st.isdigit() else None, value)
            out.append(inner[pos:s])
            if new:
                out.append(new)
            else:
                removed.append(c)
            pos = e
        else:
            new = value_xml(p, ref_s, None, value)
            if new:
                at = starts[k] if k < n else size
                out.append(inner[pos:at])
                out.append(new)
                added.append(c)
                pos = at
        if value is not None:
            written += 1
    out.append(inner[pos:])
    bounds: tuple[int, int] | None = None
    if b"spans" in open_tag:
        final = [c for c in cols if c not in removed] + added
        bounds = (min(final), max(final)) if final else None
    return b"".join(out), bounds, written
