"""The live-workbook backend of the Sheet seam: read a `Table` from, and apply a `WritePlan` to, an open xlwings Book.

Works with every xlwings engine that implements the Book API: the classic add-in (Excel on
Windows/macOS over COM/AppleScript), xlwings Lite and xlwings Server (the remote engine, which
queues actions). Rules:

- everything is read and computed first (`plan_writes`), then written (`execute`): a failure while
  computing changes nothing;
- only cells whose value changes are written, as column blocks (one call per run of changed rows),
  each block split so one action stays well under Excel on the web's 5 MB request cap;
- fills go through `Range.set_colors` one column block of at most 10,000 cells at a time (the
  remote engine's limit), with `...` for cells left as they are;
- text is never written as a formula: text Excel would parse (formula, number, date, boolean) gets
  the apostrophe prefix, which keeps it text without touching the cell's format;
- pddbatch's own marks are recorded in a hidden sheet `_pddbatch` (sheet, cell, the fill the cell had,
  whether pddbatch added the note), so a rerun removes exactly them and restores the old fill.
  Where the engine cannot read a fill (remote engine) the restored fill is "none".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pddbatch.errors import InputError
from pddbatch.model import CellValue, IssuesSheet, WritePlan, a1
from pddbatch.workbook.headers import alias_table
from pddbatch.workbook.read import HEADER_SEARCH_ROWS, Table

RECORD_SHEET = "_pddbatch"
RECORD_HEADER = ("sheet", "cell", "fill", "note")
MARK_FILL = "#FFC7CE"                # Excel's "light red fill"
MAX_COLOR_CELLS = 10_000             # remote engine: cells per set_colors call
MAX_ACTION_BYTES = 1_000_000         # JSON budget per written block (Excel on the web caps 5 MB a request)

_PARSEABLE = re.compile(
    r"^\s*([-+]?[\d.,\s]*\d[\d.,\s]*%?([eE][-+]?\d+)?|[-+]?[$¥￥]\s*[\d.,]+|\d{1,4}[-/.年]\d{1,2}([-/.月]\d{1,4}日?)?.*"
    r"|\d{1,2}:\d{2}(:\d{2})?.*|true|false|#.*)\s*$", re.IGNORECASE)

_A1 = re.compile(r"^([A-Z]{1,3})(\d+)$")
Key = tuple[str, int, int]           # (sheet name, row, col), 1-based


# ---- reading ------------------------------------------------------------------------------------

def read_book(book: Any, sheet: str | None = None, lang: str = "zh", header_test: Any = None,
              what: str = "订单", expect: str = "订单号") -> Table:
    """A table of the live book, found as the file reader finds it (by default the orders: 订单号 in the first
    10 rows; `header_test` finds another kind, e.g. the 库存 sheet)."""
    test = header_test or alias_table().is_header_row
    names = [s.name for s in book.sheets]
    skip = {RECORD_SHEET}
    if sheet is not None:
        if sheet not in names:
            raise InputError(f"工作簿中没有名为“{sheet}”的工作表（有：{'、'.join(names)}）",
                             f"No sheet named '{sheet}' (sheets: {', '.join(names)})")
        candidates = [book.sheets[sheet]]
    else:
        all_sheets = [s for s in book.sheets if s.name not in skip]
        candidates = [s for s in all_sheets if _visible(s)] + [s for s in all_sheets if not _visible(s)]
    for sh in candidates:
        rows = _sheet_values(sh)
        for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            if test([_header_text(v) for v in row]):
                headers = [_header_text(v) for v in row]
                data = [[_cell(v) for v in r] for r in rows[i + 1:]]
                while data and all(v is None or (isinstance(v, str) and not v.strip()) for v in data[-1]):
                    data.pop()
                return Table(str(book.fullname), sh.name, i + 1, headers, data, kind="excel", sheet_names=names)
    where = f"工作表“{sheet}”" if sheet else "这个工作簿的任何工作表"
    where_en = f"sheet '{sheet}'" if sheet else "any sheet of this workbook"
    raise InputError(f"在{where}的前 {HEADER_SEARCH_ROWS} 行中找不到{what}表头（应含“{expect}”等列）",
                     f"No {what} header row (with {expect} etc.) in the first {HEADER_SEARCH_ROWS} rows of {where_en}")


def _visible(sh: Any) -> bool:
    try:
        return bool(sh.visible)
    except (KeyError, NotImplementedError):   # a client that doesn't report visibility
        return True


def _sheet_values(sh: Any) -> list[list[Any]]:
    last = sh.used_range.last_cell
    if last.row == 1 and last.column == 1 and sh.range((1, 1)).value is None:
        return []
    values = sh.range((1, 1), (last.row, last.column)).options(ndim=2).value
    return [list(r) for r in values]


def _cell(v: Any) -> CellValue:
    if v is None or (isinstance(v, str) and v == ""):
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return float(v)        # Excel only has doubles; a JSON client may send whole numbers as ints
    if isinstance(v, (str, float, datetime, Decimal)):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    return str(v)


def _header_text(v: Any) -> str:
    return "" if v is None else str(v)


# ---- planning -----------------------------------------------------------------------------------

@dataclass
class Block:
    """Values for a rectangle starting at (row, col) of `sheet`: `values[i][j]`."""

    sheet: str
    row: int
    col: int
    values: list[list[Any]]


@dataclass
class LiveWrites:
    """Everything `execute` will do, computed from reads only."""

    blocks: list[Block] = field(default_factory=list)
    colors: list[Block] = field(default_factory=list)          # values are colours, `...` keeps
    notes_delete: list[tuple[str, int, int]] = field(default_factory=list)
    notes_add: list[tuple[str, int, int, str]] = field(default_factory=list)
    issues: IssuesSheet | None = None
    record: list[tuple[str, str, str, int]] = field(default_factory=list)
    target_sheet: str = ""
    marks_touched: bool = True      # False: a values-only plan (e.g. the 库存 sheet); the record stays as it is

    @property
    def cells_written(self) -> int:
        return sum(len(b.values) * len(b.values[0]) for b in self.blocks if b.values)


def plan_writes(book: Any, plan: WritePlan, table: Table | None = None) -> LiveWrites:
    """Compute the live writes for `plan`; `table` (the values read before) lets unchanged cells alone."""
    out = LiveWrites(issues=plan.issues_sheet, target_sheet=plan.sheet)
    sheet_names = {s.name for s in book.sheets}
    if plan.sheet not in sheet_names:
        raise InputError(f"工作表“{plan.sheet}”已不存在：请重新运行", f"Sheet '{plan.sheet}' is gone: run again")
    _plan_values(out, plan, table)
    old = read_record(book)
    new_marks = {(plan.sheet, r, c): text for (r, c), text in plan.marks.items()}
    if not new_marks and not any(k[0] == plan.sheet for k in old):
        out.marks_touched = False       # nothing to mark or unmark here: leave fills, notes and record alone
        return out
    noted = {name: _noted_cells(book.sheets[name]) for name in {k[0] for k in [*old, *new_marks]}
             if name in sheet_names}
    colors: dict[Key, Any] = {}
    for key, (prior, had_note) in old.items():
        if key[0] != plan.sheet:            # marks are per sheet: another sheet's stay, and stay recorded
            if key[0] in sheet_names:
                out.record.append((key[0], a1(key[1], key[2]), prior, 1 if had_note else 0))
            continue
        if had_note and (key[1], key[2]) in noted[key[0]]:
            out.notes_delete.append(key)
            noted[key[0]].discard((key[1], key[2]))
        if key not in new_marks:
            colors[key] = prior or None
    for key, text in sorted(new_marks.items()):
        prior = old[key][0] if key in old else _fill_of(book.sheets[key[0]], key[1], key[2])
        colors[key] = MARK_FILL
        add_note = (key[1], key[2]) not in noted[key[0]]      # never cover the seller's own note
        if add_note:
            out.notes_add.append((*key, text))
        out.record.append((key[0], a1(key[1], key[2]), prior, 1 if add_note else 0))
    out.colors = _color_blocks(colors)
    return out


def _plan_values(out: LiveWrites, plan: WritePlan, table: Table | None) -> None:
    new_headers = [c for c in plan.columns if c.is_new]
    for c in new_headers:
        out.blocks.append(Block(plan.sheet, plan.header_row, c.col, [[c.header]]))
    first = plan.header_row + 1
    for c in plan.columns:
        # a run of rows to write: changed cells, bridged over empty cells that stay empty, broken by any
        # unchanged cell with content (it may be a formula or formatted value: leave it alone)
        run: list[tuple[int, Any, bool]] = []
        for r in range(first, plan.last_row + 1):
            if (r, c.col) not in plan.values:
                _flush(out, plan.sheet, c.col, run)
                run = []
                continue
            raw = plan.values[(r, c.col)]
            value = _xl(raw)
            current = _current(table, r, c.col) if table is not None else ...
            if current is not ... and _same(current, raw):
                if current is None:
                    run.append((r, None, False))
                else:
                    _flush(out, plan.sheet, c.col, run)
                    run = []
                continue
            run.append((r, value, True))
        _flush(out, plan.sheet, c.col, run)


def _flush(out: LiveWrites, sheet: str, col: int, run: list[tuple[int, Any, bool]]) -> None:
    changed = [i for i, (_r, _v, must) in enumerate(run) if must]
    if not changed:
        return
    run = run[changed[0]:changed[-1] + 1]
    for offset, piece in split_rows([[v] for _r, v, _m in run]):
        out.blocks.append(Block(sheet, run[0][0] + offset, col, piece))


def split_rows(values: list[list[Any]], budget: int = MAX_ACTION_BYTES) -> Iterable[tuple[int, list[list[Any]]]]:
    """Yield (row offset, rows) pieces of `values` whose JSON stays under `budget` bytes."""
    start, size = 0, 0
    for i, row in enumerate(values):
        n = len(json.dumps(row, ensure_ascii=False, default=str).encode()) + 1
        if i > start and size + n > budget:
            yield start, values[start:i]
            start, size = i, 0
        size += n
    if start < len(values):
        yield start, values[start:]


def _current(table: Table, row: int, col: int) -> Any:
    idx = row - table.header_row - 1
    if 0 <= idx < len(table.rows) and col - 1 < len(table.rows[idx]):
        return table.rows[idx][col - 1]
    return None


def _same(current: Any, new: Any) -> bool:
    if isinstance(new, Decimal):
        new = float(new)
    if current is None or new is None or new == "":
        return current is None and (new is None or new == "")
    return type(current) is type(new) and bool(current == new)


def _xl(v: CellValue) -> Any:
    """A value as xlwings should write it: text Excel would parse gets the apostrophe prefix."""
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, str):
        if v == "":
            return None
        if v[0] in "=+-@\t\r\n'" or _PARSEABLE.match(v):
            return "'" + v
    return v


def _noted_cells(sh: Any) -> set[tuple[int, int]]:
    cells: set[tuple[int, int]] = set()
    try:
        for note in sh.notes:
            try:
                rng = note.location
                cells.add((rng.row, rng.column))
            except NotImplementedError:   # remote engine: the payload entry carries the address
                m = _A1.match(str(note.api["address"]).replace("$", "").upper())
                if m:
                    cells.add((int(m.group(2)), _col_number(m.group(1))))
    except NotImplementedError:      # engines without notes: nothing to protect
        pass
    return cells


def _fill_of(sh: Any, row: int, col: int) -> str:
    try:
        rgb = sh.range((row, col)).color
    except NotImplementedError:      # the remote engine cannot read fills synchronously
        return ""
    if not rgb:
        return ""
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def _color_blocks(colors: dict[Key, Any]) -> list[Block]:
    by_col: dict[tuple[str, int], dict[int, Any]] = {}
    for (sheet, row, col), color in colors.items():
        by_col.setdefault((sheet, col), {})[row] = color
    blocks: list[Block] = []
    for (sheet, col), cells in sorted(by_col.items()):
        rows = sorted(cells)
        start = rows[0]
        for r in rows + [None]:
            if r is None or r - start >= MAX_COLOR_CELLS:
                last = max(x for x in rows if start <= x < start + MAX_COLOR_CELLS)
                blocks.append(Block(sheet, start, col,
                                    [[cells.get(x, ...)] for x in range(start, last + 1)]))
                if r is not None:
                    start = r
    return blocks


# ---- the record of pddbatch's marks -----------------------------------------------------------------

def read_record(book: Any) -> dict[Key, tuple[str, bool]]:
    """(sheet, row, col) -> (the fill the cell had before, whether pddbatch added its note)."""
    if RECORD_SHEET not in {s.name for s in book.sheets}:
        return {}
    out: dict[Key, tuple[str, bool]] = {}
    for row in _sheet_values(book.sheets[RECORD_SHEET])[1:]:
        if len(row) < 4 or not row[0] or not row[1]:
            continue
        m = _A1.match(str(row[1]).replace("$", "").upper())
        if m is None:
            continue
        out[(str(row[0]), int(m.group(2)), _col_number(m.group(1)))] = (str(row[2] or ""), bool(row[3]))
    return out


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


# ---- executing ---------------------------------------------------------------------------------------

def execute(book: Any, w: LiveWrites) -> None:
    """Apply computed writes to the book; text is written as text, marks recorded for the next run."""
    sheets = {s.name: s for s in book.sheets}
    for key in w.notes_delete:
        note = sheets[key[0]].range((key[1], key[2])).note
        if note is not None:
            note.delete()
    for b in w.blocks:
        _write(sheets[b.sheet], b.row, b.col, b.values)
    for b in w.colors:
        sheets[b.sheet].range((b.row, b.col), (b.row + len(b.values) - 1, b.col)).set_colors(b.values)
    for sheet, row, col, text in w.notes_add:
        # the cell is known to have no note (plan_writes checked): skip Range.add_note's own check,
        # which scans every note of the sheet on the remote engine (quadratic for thousands of marks)
        rng = sheets[sheet].range((row, col))
        impl = getattr(rng, "impl", None)
        (impl.add_note if impl is not None and hasattr(impl, "add_note") else rng.add_note)(text)
    if w.issues is not None:
        _write_issues(book, w.issues, after=sheets[w.target_sheet])
    if w.marks_touched:
        _write_record(book, w.record)
        book.sheets[w.target_sheet].activate()


def _write(sh: Any, row: int, col: int, values: Sequence[Sequence[Any]]) -> None:
    if not values:
        return
    rng = sh.range((row, col), (row + len(values) - 1, col + len(values[0]) - 1))
    rng.value = [list(v) for v in values]


def _table_block(sh: Any, header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> None:
    data = [[_xl(v) for v in header]] + [[_xl(v) for v in r] for r in rows]
    for offset, piece in split_rows(data):
        _write(sh, 1 + offset, 1, piece)


def _replace_sheet(book: Any, name: str, after: Any) -> Any:
    if name in {s.name for s in book.sheets}:
        sh = book.sheets[name]
        sh.clear()
        return sh
    return book.sheets.add(name, after=after)


def _write_issues(book: Any, issues: IssuesSheet, after: Any) -> None:
    sh = _replace_sheet(book, issues.name, after=after)
    _table_block(sh, issues.header, issues.rows)


def _write_record(book: Any, record: list[tuple[str, str, str, int]]) -> None:
    exists = RECORD_SHEET in {s.name for s in book.sheets}
    if not record and not exists:
        return
    sh = _replace_sheet(book, RECORD_SHEET, after=book.sheets[-1])
    _table_block(sh, RECORD_HEADER, record)
    if sh.visible:
        sh.visible = False


# ---- a snapshot for readers that take files ------------------------------------------------------------

def snapshot_xlsx(table: Table, path: Any) -> Any:
    """Write `table` to a new .xlsx at `path` with the same sheet name and row numbers; return `path`.

    For library calls that read files (reconcile): the open workbook as it is now, unsaved edits included.
    """
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    try:
        ws = wb.add_worksheet(table.sheet[:31])
        when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        ws.write_row(table.header_row - 1, 0, table.headers)
        for i, row in enumerate(table.rows):
            r = table.sheet_row(i) - 1
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, datetime):
                    ws.write_datetime(r, c, v, when)
                elif isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
                    ws.write_number(r, c, float(v))
                else:
                    ws.write_string(r, c, str(v))
    finally:
        wb.close()
    return path
