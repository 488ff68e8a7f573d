"""The live workbook, written: a `WritePlan` applied to an open xlwings Book (reading it: `livebook.py`).

Works with every xlwings engine that implements the Book API: the classic add-in (Excel on
Windows/macOS over COM/AppleScript), xlwings Lite and xlwings Server (the remote engine, which
queues actions). Rules:

- everything is read and computed first (`plan_writes`), then written (`execute`): a failure while
  computing changes nothing;
- only cells whose value changes are written, as column blocks (one call per run of changed rows),
  each block split so one action stays well under Excel on the web's 5 MB request cap;
- fills: on the remote engine through `Range.set_colors`, one column block of at most 10,000 cells
  at a time (its limit), with `...` for cells left as they are; on desktop Excel (COM/AppleScript,
  where `set_colors` is one round trip per cell) as one multi-area range per colour, chunked so each
  address stays under Excel's 255-character limit. Desktop writes run with screen updating off,
  restored afterwards (also on error); an error midway says what was already written;
- text is never written as a formula: text Excel would parse (formula, number, date, boolean) gets
  the apostrophe prefix, which keeps it text without touching the cell's format;
- pddbatch's own marks are kept in the one mark record both faces share (`workbook.marks`: the
  hidden sheet `_pddbatch`), so a rerun removes exactly them, whichever face made them, and restores
  the old fill. Where the engine cannot read a fill (remote engine) the restored fill is "none".
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pddbatch.errors import InputError, PddBatchError, SaveError
from pddbatch.model import CellValue, IssuesSheet, WritePlan, col_letter, col_number
from pddbatch.workbook.livebook import read_record
from pddbatch.workbook.marks import (
    MARK_FILL,
    RECORD_SHEET,
    UNKNOWN_FILL,
    Mark,
    MarkRecord,
    fill_hex,
    is_mark_note,
    is_mark_rgb,
    note_text,
)
from pddbatch.workbook.read import Table

MAX_COLOR_CELLS = 10_000             # remote engine: cells per set_colors call
MAX_ADDRESS = 255                    # Excel: characters in one Range("A1,B2,...") address
MAX_ACTION_BYTES = 1_000_000         # JSON budget per written block (Excel on the web caps 5 MB a request)

_PARSEABLE = re.compile(
    r"^\s*([-+]?[\d.,\s]*\d[\d.,\s]*%?([eE][-+]?\d+)?|[-+]?[$¥￥]\s*[\d.,]+|\d{1,4}[-/.年]\d{1,2}([-/.月]\d{1,4}日?)?.*"
    r"|\d{1,2}:\d{2}(:\d{2})?.*|true|false|#.*)\s*$", re.IGNORECASE)

_A1 = re.compile(r"^([A-Z]{1,3})(\d+)$")
Key = tuple[str, int, int]           # (sheet name, row, col), 1-based


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
    colors: dict[Key, Any] = field(default_factory=dict)       # cell -> "#RRGGBB" or None (no fill)
    notes_delete: list[tuple[str, int, int, Any]] = field(default_factory=list)   # + the note, when read
    notes_add: list[tuple[str, int, int, str]] = field(default_factory=list)
    issues: IssuesSheet | None = None
    record: MarkRecord = field(default_factory=MarkRecord)
    target_sheet: str = ""
    marks_touched: bool = True      # False: a values-only plan (e.g. the 库存 sheet); the record stays as it is

    @property
    def cells_written(self) -> int:
        return sum(len(b.values) * len(b.values[0]) for b in self.blocks if b.values)


def plan_writes(book: Any, plan: WritePlan, table: Table | None = None) -> LiveWrites:
    """Compute the live writes for `plan`; `table` (the values read before) lets unchanged cells alone."""
    out = LiveWrites(issues=plan.issues_sheet, target_sheet=plan.sheet)
    sheet_names = [s.name for s in book.sheets]
    if plan.sheet not in sheet_names:
        raise InputError(f"工作表“{plan.sheet}”已不存在：请重新运行", f"Sheet '{plan.sheet}' is gone: run again")
    _plan_values(out, plan, table)
    old = read_record(book)
    prev = old.for_sheet(plan.sheet)
    sh = book.sheets[plan.sheet]
    notes = _notes(sh)
    for cell, (_handle, text) in notes.items():     # a mark the record lost (desktop reads note text)
        if cell not in prev and is_mark_note(text):
            prev[cell] = Mark(plan.sheet, cell[0], cell[1], "", True)
    meta_changed = {**old.meta, **plan.record_meta} != old.meta
    if not plan.marks and not prev and not meta_changed:
        out.marks_touched = False       # nothing to mark or unmark here: leave fills, notes and record alone
        return out
    now = {} if _is_remote(book) else _read_fills(sh, sorted(set(prev) | set(plan.marks)))
    colors: dict[Key, Any] = {}
    kept: set[tuple[int, int]] = set()
    for cell, m in prev.items():
        handle, text = notes.get(cell, (None, None))
        ours = m.noted and cell in notes and (text is None or is_mark_note(text))
        if ours and cell in plan.marks and text is not None and text == note_text(plan.marks[cell]):
            kept.add(cell)                  # the same note again (desktop read it): leave it be
        elif ours:
            out.notes_delete.append((plan.sheet, *cell, handle))
            del notes[cell]
        current = now.get(cell)
        if cell not in plan.marks and (current is None or is_mark_rgb(current)):  # the seller's own fill stays
            colors[(plan.sheet, *cell)] = m.fill if m.fill not in ("", UNKNOWN_FILL) else None
    marks: list[Mark] = []
    for cell, message in sorted(plan.marks.items()):
        current = now.get(cell)
        if cell in prev:
            prior = prev[cell].fill
        else:
            prior = "" if current is None or is_mark_rgb(current) else current
        if not (current is not None and is_mark_rgb(current)):     # desktop: already red stays as it is
            colors[(plan.sheet, *cell)] = MARK_FILL
        noted = cell in kept or cell not in notes       # never cover the seller's own note
        if noted and cell not in kept:
            out.notes_add.append((plan.sheet, cell[0], cell[1], note_text(message)))
        marks.append(Mark(plan.sheet, cell[0], cell[1], prior, noted,
                          prev[cell].style if cell in prev else None))
    out.record = old.with_sheet(plan.sheet, marks, plan.record_meta,
                                [n for n in sheet_names if n != RECORD_SHEET])
    out.colors = colors
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


def _notes(sh: Any) -> dict[tuple[int, int], tuple[Any, str | None]]:
    """Cell -> (the note object or None, its text when the engine can read it)."""
    cells: dict[tuple[int, int], tuple[Any, str | None]] = {}
    try:
        notes = list(sh.notes)
    except NotImplementedError:      # engines without notes: nothing to protect
        return cells
    for note in notes:
        try:
            rng = note.location
            cell = (rng.row, rng.column)
        except NotImplementedError:   # remote engine: the payload entry carries the address, not the text
            m = _A1.match(str(note.api["address"]).replace("$", "").upper())
            if m:
                cells[(int(m.group(2)), col_number(m.group(1)))] = (None, None)
            continue
        try:
            text: str | None = note.text
        except NotImplementedError:
            text = None
        cells[cell] = (note, text)
    return cells


def _read_fills(sh: Any, cells: Sequence[tuple[int, int]]) -> dict[tuple[int, int], str | None]:
    """The fills of `cells` ("#RRGGBB" or "" for none); empty when the engine cannot read fills.

    Desktop Excel reads a multi-area range's colour in one round trip when it is uniform (the usual
    case: bad cells without a fill); a mixed chunk is read cell by cell.
    """
    out: dict[tuple[int, int], str | None] = {}
    for addr, chunk in _address_chunks(cells):
        try:
            rgb = sh.range(addr).color
        except NotImplementedError:      # the remote engine cannot read fills synchronously
            return {}
        except Exception:  # a mixed multi-area range has no one colour (COM returns null)
            for cell in chunk:
                out[cell] = fill_hex(sh.range(cell).color)
            continue
        for cell in chunk:
            out[cell] = fill_hex(rgb)
    return out


def _address_chunks(cells: Sequence[tuple[int, int]]) -> list[tuple[str, list[tuple[int, int]]]]:
    """Multi-area addresses ("C5:C9,F7") covering `cells`, each under Excel's 255-character limit."""
    by_col: dict[int, list[int]] = {}
    for r, c in cells:
        by_col.setdefault(c, []).append(r)
    areas: list[tuple[str, list[tuple[int, int]]]] = []
    for c in sorted(by_col):
        rows = sorted(set(by_col[c]))
        letters = col_letter(c)
        start = prev = rows[0]
        for r in [*rows[1:], 0]:          # 0: the end
            if r == prev + 1:
                prev = r
                continue
            ref = f"{letters}{start}" if start == prev else f"{letters}{start}:{letters}{prev}"
            areas.append((ref, [(x, c) for x in range(start, prev + 1)]))
            start = prev = r
    out: list[tuple[str, list[tuple[int, int]]]] = []
    for ref, members in areas:
        if out and len(out[-1][0]) + 1 + len(ref) <= MAX_ADDRESS:
            out[-1] = (out[-1][0] + "," + ref, out[-1][1] + members)
        else:
            out.append((ref, members))
    return out


def _color_blocks(colors: dict[Key, Any]) -> list[Block]:
    """Remote engine: one `set_colors` block per column run, `...` for the rows in between."""
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


# ---- executing ---------------------------------------------------------------------------------------

def execute(book: Any, w: LiveWrites) -> None:
    """Apply computed writes to the book; text is written as text, marks recorded for the next run.

    Desktop Excel writes at once: screen updating is off meanwhile, and an error midway becomes a
    SaveError that says what was already written (the remote engine only queues actions, which the
    Excel face drops on error).
    """
    remote = _is_remote(book)
    done = _Progress()
    screen = None if remote else _screen_off(book)
    try:
        _execute(book, w, remote, done)
    except Exception as exc:
        if remote or done.nothing:
            raise
        detail = exc.text("zh") if isinstance(exc, PddBatchError) else f"{type(exc).__name__}: {exc}"[:200]
        detail_en = exc.text("en") if isinstance(exc, PddBatchError) else detail
        raise SaveError(
            f"写回工作表时出错（{detail}）：已写入 {done.cells} 个单元格、{done.fills} 处填充颜色、"
            f"删除 {done.notes_deleted} 条旧批注、添加 {done.notes_added} 条批注"
            f"{'、问题清单' if done.issues else ''}，其余未写入，工作表只更新了一部分。"
            "请不要保存，关闭后重新打开再点一次按钮（重新运行不会重复分配单号）",
            f"Writing to the sheet failed ({detail_en}): {done.cells} cells, {done.fills} fills, "
            f"{done.notes_deleted} old notes removed and {done.notes_added} notes added"
            f"{', the issues sheet' if done.issues else ''} were written, the rest was not: the sheet is "
            "only partly updated. Do not save; reopen it and click the button again (a rerun never "
            "allocates a number twice)") from exc
    finally:
        if screen is not None:
            _screen_restore(book, screen)


@dataclass
class _Progress:
    cells: int = 0
    fills: int = 0
    notes_deleted: int = 0
    notes_added: int = 0
    issues: bool = False
    record: bool = False

    @property
    def nothing(self) -> bool:
        return not (self.cells or self.fills or self.notes_deleted or self.notes_added or self.issues
                    or self.record)


def _execute(book: Any, w: LiveWrites, remote: bool, done: _Progress) -> None:
    sheets = {s.name: s for s in book.sheets}
    for sheet, row, col, handle in w.notes_delete:
        note = handle if handle is not None else sheets[sheet].range((row, col)).note
        if note is not None:
            note.delete()
        done.notes_deleted += 1
    for b in w.blocks:
        _write(sheets[b.sheet], b.row, b.col, b.values)
        done.cells += len(b.values) * len(b.values[0]) if b.values else 0
    if remote:
        for b in _color_blocks(w.colors):
            sheets[b.sheet].range((b.row, b.col), (b.row + len(b.values) - 1, b.col)).set_colors(b.values)
            done.fills += sum(1 for v in b.values if v[0] is not ...)
    else:
        by_color: dict[tuple[str, Any], list[tuple[int, int]]] = {}
        for (sheet, row, col), color in w.colors.items():
            by_color.setdefault((sheet, color), []).append((row, col))
        for (sheet, color), cells in sorted(by_color.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            for addr, chunk in _address_chunks(cells):
                sheets[sheet].range(addr).color = color
                done.fills += len(chunk)
    for sheet, row, col, text in w.notes_add:
        # the cell is known to have no note (plan_writes checked): skip Range.add_note's own check,
        # which scans every note of the sheet on the remote engine (quadratic for thousands of marks)
        rng = sheets[sheet].range((row, col))
        impl = getattr(rng, "impl", None)
        (impl.add_note if impl is not None and hasattr(impl, "add_note") else rng.add_note)(text)
        done.notes_added += 1
    if w.issues is not None:
        _write_issues(book, w.issues, after=book.sheets[-1])     # last, as the file backend adds it
        done.issues = True
    if w.marks_touched:
        _write_record(book, w.record)
        done.record = True
        book.sheets[w.target_sheet].activate()


def _is_remote(book: Any) -> bool:
    """The remote engine (xlwings Server/Lite) queues actions; desktop Excel writes at once."""
    try:
        data = book.json()
    except Exception:  # desktop engines have no queue
        return False
    return isinstance(data, dict) and isinstance(data.get("actions"), list)


def _screen_off(book: Any) -> bool | None:
    try:
        before = bool(book.app.screen_updating)
        book.app.screen_updating = False
    except Exception:  # an engine without the setting: write as is
        return None
    return before


def _screen_restore(book: Any, before: bool) -> None:
    with contextlib.suppress(Exception):     # never hide the write's own outcome behind this
        book.app.screen_updating = before


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


def _write_record(book: Any, record: MarkRecord) -> None:
    exists = RECORD_SHEET in {s.name for s in book.sheets}
    if record.empty and not exists:
        return
    sh = _replace_sheet(book, RECORD_SHEET, after=book.sheets[-1])
    rows = record.rows()
    _table_block(sh, rows[0], rows[1:])
    if sh.visible:
        sh.visible = False


