"""Build `xw.Book(json=...)` payloads from real workbooks, shaped like what Excel's Office.js client sends.

Format (xlwings/pro/_xlremote.py): client, version, book {name, active_sheet_index, selection}, names,
sheets [{name, values, pictures, tables, notes, visibility, used_range_address, ...}]. Values are the
used range from A1: numbers, strings, booleans, "" for empty cells; date-formatted cells are ISO
strings with milliseconds and "Z" (the client's `toISOString()`).
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import xlwings as xw
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook


def _value(v: Any) -> Any:
    if v is None or v == "":
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(v, time):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)               # JSON from the client carries whole numbers without ".0"
    return v


def sheet_payload(name: str, values: list[list[Any]], *, notes: list[str] = (),  # type: ignore[assignment]
                  visible: bool = True) -> dict[str, Any]:
    rows = len(values)
    cols = max((len(r) for r in values), default=0)
    grid = [[_value(r[c]) if c < len(r) else "" for c in range(cols)] for r in values] or [[]]
    used = f"$A$1:${get_column_letter(cols)}${rows}" if rows and cols else None
    return {"name": name, "values": grid, "pictures": [], "tables": [], "shapes": [], "charts": [],
            "notes": [{"address": a} for a in notes], "visibility": "Visible" if visible else "Hidden",
            "used_range_address": used, "show_gridlines": True, "pivot_tables": []}


def payload_from_xlsx(path: Path, fullname: str | None = None, *,
                      extra_sheets: list[dict[str, Any]] = (),  # type: ignore[assignment]
                      notes: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The payload Excel would send for the workbook at `path` (book name = `fullname`, default the path)."""
    wb = CalamineWorkbook.from_path(str(path))
    sheets = []
    for meta in wb.sheets_metadata:
        values = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
        cell_notes = list((notes or {}).get(meta.name, []))
        sheets.append(sheet_payload(meta.name, values, notes=cell_notes, visible=str(meta.visible).endswith("Visible")))
    sheets.extend(extra_sheets)
    return {
        "client": "Office.js",
        "version": xw.__version__,
        "book": {"name": fullname or str(path), "active_sheet_index": 0, "selection": "A1"},
        "names": [],
        "sheets": sheets,
    }


def book_from_xlsx(path: Path, fullname: str | None = None, **kw: Any) -> xw.Book:
    return xw.Book(json=payload_from_xlsx(path, fullname, **kw))


def actions(book: xw.Book, func: str | None = None) -> list[dict[str, Any]]:
    acts: list[dict[str, Any]] = book.json()["actions"]
    return [a for a in acts if func is None or a["func"] == func]
