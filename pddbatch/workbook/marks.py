"""pddbatch's marks in the seller's workbook: which cells it filled and noted, and how to undo them.

A mark is a bad cell pddbatch filled light red (`MARK_FILL`) with a note saying why. A rerun first
removes every earlier mark, restoring the cell as it was, so the seller only ever sees the marks of
the last run. Both faces (the file patcher and the live Excel book) keep ONE record of them, so a
mark the CLI made is cleared by the Excel button and the other way round:

- **the record** is a hidden sheet `_pddbatch` (`RECORD_SHEET`). A sheet survives every editor a
  seller uses (Excel, WPS, LibreOffice, openpyxl all keep sheets, while LibreOffice and openpyxl
  drop custom XML parts), and both faces can read it (the live engine receives every sheet's
  values, never custom parts). One row per mark: sheet, cell, the fill the cell had before
  (`#RRGGBB`, `""` none, `"?"` a theme/pattern fill), whether pddbatch added the note (1) or
  the seller's own note was there and stays (0), and the cell's style index before the mark (file
  backend only). Rows whose first cell is `[meta]` (a name no sheet can have) hold
  `WritePlan.record_meta`.
- **the cell itself** carries the mark too, for when the record is gone or stale (rows sorted,
  record sheet deleted, styles renumbered by an editor): the note starts with the line
  `pddbatch:` (`NOTE_MARKER`, shown like Excel's author line; notes the Excel face adds carry the
  user's name as author, so the text is what identifies them) and the fill is exactly `MARK_FILL`.
  A cell with only the fill is never taken for pddbatch's: the seller's own "Bad" cell style uses
  the same colour.

A file's CSV face cannot hold a record; its `record_meta` goes to `<file>.pddbatch-record.json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pddbatch.model import a1, col_number

RECORD_SHEET = "_pddbatch"
RECORD_HEADER = ("sheet", "cell", "fill", "note", "style")
META = "[meta]"
MARK_RGB = "FFC7CE"                  # Excel's own "light red fill"
MARK_FILL = "#" + MARK_RGB
NOTE_AUTHOR = "pddbatch"
NOTE_MARKER = "pddbatch:"
UNKNOWN_FILL = "?"
CSV_RECORD_SUFFIX = ".pddbatch-record.json"

_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
Cell = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Mark:
    """One cell pddbatch marked: what it looked like before, so a rerun can put it back."""

    sheet: str
    row: int
    col: int
    fill: str = ""                 # "#RRGGBB" | "" (no fill) | "?" (a fill that is not a plain colour)
    noted: bool = True             # pddbatch added the note (False: the seller's note stays as it is)
    style: int | None = None       # file backend: the cell's cellXfs index before the mark

    @property
    def cell(self) -> Cell:
        return self.row, self.col


@dataclass
class MarkRecord:
    """Every mark in a workbook plus the plan's `record_meta`."""

    marks: dict[tuple[str, int, int], Mark] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    found: bool = False            # a record sheet was there

    def for_sheet(self, sheet: str) -> dict[Cell, Mark]:
        return {(m.row, m.col): m for m in self.marks.values() if m.sheet == sheet}

    def with_sheet(self, sheet: str, marks: Iterable[Mark], meta: Mapping[str, str],
                   sheets: Iterable[str] | None = None) -> MarkRecord:
        """This record with `sheet`'s marks replaced and `meta` merged in; marks of sheets no longer in
        `sheets` (when given) are dropped."""
        keep = set(sheets) if sheets is not None else None
        out = {k: m for k, m in self.marks.items() if m.sheet != sheet and (keep is None or m.sheet in keep)}
        for m in marks:
            out[(m.sheet, m.row, m.col)] = m
        return MarkRecord(out, {**self.meta, **meta}, self.found)

    def rows(self) -> list[tuple[str | int, ...]]:
        """The record sheet's rows, header first; marks in (sheet, row, column) order, then meta."""
        out: list[tuple[str | int, ...]] = [RECORD_HEADER]
        for key in sorted(self.marks):
            m = self.marks[key]
            out.append((m.sheet, a1(m.row, m.col), m.fill, 1 if m.noted else 0,
                        "" if m.style is None else m.style))
        for k in sorted(self.meta):
            out.append((META, k, self.meta[k], "", ""))
        return out

    @property
    def empty(self) -> bool:
        return not self.marks and not self.meta


def parse_rows(rows: Sequence[Sequence[Any]]) -> MarkRecord:
    """A record from the record sheet's values (as any reader returns them: str, float, int, None)."""
    rec = MarkRecord(found=True)
    for row in rows[1:]:
        cells = [_text(v) for v in row] + [""] * 5
        sheet, ref, fill, note, style = cells[:5]
        if sheet == META:
            if ref:
                rec.meta[ref] = fill
            continue
        m = _A1.match(ref.strip())
        if not sheet or m is None:
            continue
        r, c = int(m.group(2)), col_number(m.group(1))
        fill = fill.strip().upper() if fill.strip().startswith("#") else ("" if not fill.strip() else UNKNOWN_FILL)
        rec.marks[(sheet, r, c)] = Mark(sheet, r, c, fill, note.strip() not in ("", "0", "False", "FALSE"),
                                        int(style) if style.strip().isdigit() else None)
    return rec


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v)
    return s[1:] if s.startswith("'") else s      # a live book may hand back the apostrophe prefix


# ---- the mark as the cell shows it -------------------------------------------------------------------------

def note_text(message: str) -> str:
    """The note pddbatch puts on a marked cell: the marker line, then the message."""
    return f"{NOTE_MARKER}\n{message}"


def is_mark_note(text: str | None, author: str | None = None) -> bool:
    """A note pddbatch made (by its marker line, or by its author in files pddbatch wrote)."""
    if text is not None and text.lstrip().startswith(NOTE_MARKER):
        return True
    return author is not None and author.strip() == NOTE_AUTHOR and text is not None and text.strip() != ""


def is_mark_rgb(rgb: str | None) -> bool:
    """`rgb` ("FFFFC7CE", "#ffc7ce", "00FFC7CE") is exactly pddbatch's fill colour."""
    return rgb is not None and rgb.strip().lstrip("#").upper()[-6:] == MARK_RGB and len(rgb.strip("# ")) in (6, 8)


def fill_hex(rgb: tuple[int, int, int] | str | None) -> str:
    """A fill as the record writes it: "#RRGGBB", or "" for none."""
    if rgb is None or rgb == "":
        return ""
    if isinstance(rgb, str):
        h = rgb.strip().lstrip("#").upper()
        return "#" + h[-6:] if len(h) in (6, 8) else UNKNOWN_FILL
    return "#{:02X}{:02X}{:02X}".format(*rgb)


# ---- reading the record of a file -----------------------------------------------------------------------

def read_record(path: str | Path) -> MarkRecord:
    """The mark record of a workbook file (.xlsx/.xlsm: the hidden sheet; .csv: the JSON beside it)."""
    p = Path(path)
    if p.suffix.lower() in (".csv", ".txt"):
        side = csv_record_path(p)
        if not side.is_file():
            return MarkRecord()
        try:
            data = json.loads(side.read_text("utf-8"))
        except (OSError, ValueError):
            return MarkRecord()
        meta = data.get("meta") if isinstance(data, dict) else None
        return MarkRecord(meta={str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {},
                          found=True)
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(p))
        if RECORD_SHEET not in wb.sheet_names:
            return MarkRecord()
        rows = wb.get_sheet_by_name(RECORD_SHEET).to_python(skip_empty_area=False)
    except Exception:  # an unreadable record is no record: the marks are found from the cells instead
        return MarkRecord()
    return parse_rows(rows)


def read_record_meta(path: str | Path) -> dict[str, str]:
    """`WritePlan.record_meta` as the last write-back into the file at `path` stored it ({} if none)."""
    return dict(read_record(path).meta)


def csv_record_path(path: Path) -> Path:
    return path.with_name(path.name + CSV_RECORD_SUFFIX)
