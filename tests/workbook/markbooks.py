"""Helpers for the workbook-seam tests: a seller's workbook, editors' round trips, Excel replaying a
live book's actions, and one snapshot of what a seller sees (values, fills, notes, the mark record)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from python_calamine import CalamineWorkbook

from pddbatch.model import IssuesSheet, OwnedColumn, WritePlan, col_letter
from pddbatch.workbook.marks import RECORD_SHEET, read_record

HEADERS = ["订单号", "收货人", "手机", "详细地址", "金额"]
SHEET = "订单"
ROWS = 12                      # data rows 2..13


def seller_book(path: Path, rows: int = ROWS) -> Path:
    """An orders sheet with the seller's own red cell (C4), own note (B5), own light-red "Bad" cell
    without a note (E7, pddbatch's exact colour) and another own note (D8); a second sheet."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    other = wb.add_worksheet("汇总")
    bold = wb.add_format({"bold": True})
    ws.write_row(0, 0, HEADERS, bold)
    for i in range(1, rows + 1):
        ws.write_string(i, 0, f"260517-{i:015d}")
        ws.write_string(i, 1, f"张{i}")
        ws.write_string(i, 2, f"138{i:08d}")
        ws.write_string(i, 3, f"杭州市西湖区文一西路{i}号")
        ws.write_number(i, 4, 10.5 * i)
    ws.write("C4", "13800000004", wb.add_format({"bg_color": "#FF0000"}))
    ws.write_comment("B5", "卖家自己的批注", {"author": "店主"})
    ws.write("E7", 73.5, wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}))
    ws.write_comment("D8", "门牌号待确认", {"author": "店主"})
    other.write("A1", "合计")
    wb.close()
    return path


def plan(marks: dict[tuple[int, int], str], *, new: bool = True, meta: dict[str, str] | None = None,
         status: str = "校验通过", rows: int = ROWS) -> WritePlan:
    cols = (OwnedColumn("处理状态", 6, new), OwnedColumn("处理说明", 7, new))
    values: dict[tuple[int, int], Any] = {}
    for r in range(2, rows + 2):
        values[(r, 6)] = status
        values[(r, 7)] = f"第{r}行" if r % 3 else None
    issues = IssuesSheet("问题清单", ("工作表", "单元格", "说明"),
                         tuple((SHEET, f"{chr(64 + c)}{r}", m) for (r, c), m in sorted(marks.items())))
    return WritePlan(SHEET, 1, cols, values, marks, issues, last_row=rows + 1, record_meta=dict(meta or {}))


# ---- editors ----------------------------------------------------------------------------------------------

def libreoffice_save(path: Path) -> None:
    """Open and save `path` in LibreOffice (what `soffice --convert-to xlsx` writes)."""
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as profile:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        "xlsx", "--outdir", out, str(path)], check=True, capture_output=True, timeout=180)
        shutil.copy(Path(out) / (path.stem + ".xlsx"), path)


def openpyxl_save(path: Path, *, drop_record: bool = False) -> None:
    wb = openpyxl.load_workbook(path)
    if drop_record and RECORD_SHEET in wb.sheetnames:
        del wb[RECORD_SHEET]
    wb.save(path)


# ---- Excel replaying a live book's actions ------------------------------------------------------------

def play(actions: list[dict[str, Any]], path: Path, author: str = "店主") -> None:
    """Apply a remote book's actions to the file as Excel would, then save (notes get the user's name)."""
    wb = openpyxl.load_workbook(path)
    for a in actions:
        func = a["func"]
        if func == "addSheet":
            wb.create_sheet(a["args"][1], a["args"][0])
            continue
        if a.get("sheet_position") is None:
            continue
        ws = wb.worksheets[a["sheet_position"]]
        r0, c0 = (a["start_row"] or 0) + 1, (a["start_column"] or 0) + 1
        if func == "setValues":
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    if isinstance(v, str) and v.startswith("'"):
                        v = v[1:]                 # Excel's text prefix is not part of the value
                    ws.cell(r0 + i, c0 + j).value = None if v == "" else v
        elif func == "setRangeColors":
            for i, row in enumerate(a["args"][0]):
                for j, color in enumerate(row):
                    if color == "keep":
                        continue
                    ws.cell(r0 + i, c0 + j).fill = (PatternFill(fill_type=None) if color is None else
                                                    PatternFill("solid", fgColor="FF" + color.lstrip("#").upper()))
        elif func == "addNote":
            ws.cell(r0, c0).comment = Comment(a["args"][1], author)
        elif func == "deleteNote":
            ws.cell(r0, c0).comment = None
        elif func == "setSheetVisibility":
            ws.sheet_state = "hidden" if a["args"][0] == "Hidden" else "visible"
        elif func in ("sheetClear", "sheetClearContents"):
            for row in ws.iter_rows():
                for cell in row:
                    cell.value = None
    wb.save(path)


def payload(path: Path) -> dict[str, Any]:
    """What Excel's Office.js client sends for the workbook at `path` (values, note addresses)."""
    import xlwings as xw

    notes = {ws.title: [f"${c.column_letter}${c.row}" for row in ws.iter_rows() for c in row if c.comment]
             for ws in openpyxl.load_workbook(path).worksheets}
    cal = CalamineWorkbook.from_path(str(path))
    sheets = []
    for meta in cal.sheets_metadata:
        values = cal.get_sheet_by_name(meta.name).to_python(skip_empty_area=False) or [[]]
        width = max(len(r) for r in values)
        grid = [[_json(r[c]) if c < len(r) else "" for c in range(width)] for r in values]
        sheets.append({"name": meta.name, "values": grid, "pictures": [], "tables": [], "shapes": [],
                       "charts": [], "notes": [{"address": a} for a in notes.get(meta.name, [])],
                       "visibility": "Visible" if str(meta.visible).endswith("Visible") else "Hidden",
                       "used_range_address": f"$A$1:${col_letter(width)}${len(grid)}" if width else None,
                       "show_gridlines": True, "pivot_tables": []})
    return {"client": "Office.js", "version": xw.__version__,
            "book": {"name": str(path), "active_sheet_index": 0, "selection": "A1"}, "names": [], "sheets": sheets}


def _json(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def live_book(path: Path) -> Any:
    import xlwings as xw

    return xw.Book(json=payload(path))


# ---- what the seller sees -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    sheets: tuple[tuple[str, str], ...]                   # (name, state) in order
    values: dict[str, Any]                                # "F2" -> value of the orders sheet
    fills: dict[str, str]                                 # "C3" -> "FFC7CE" (solid fills only)
    notes: dict[str, str]                                 # "C3" -> text
    record: frozenset[tuple[str, str, str, bool]]         # (sheet, cell, fill before, note added)
    meta: tuple[tuple[str, str], ...]
    issues: tuple[tuple[Any, ...], ...]


def snapshot(path: Path) -> Snapshot:
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    values, fills, notes = {}, {}, {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None:
                values[c.coordinate] = c.value
            if c.fill is not None and c.fill.fill_type == "solid":
                fills[c.coordinate] = str(c.fill.fgColor.rgb)[-6:].upper()
            if c.comment is not None:
                notes[c.coordinate] = c.comment.text
    rec = read_record(path)
    issues = tuple(tuple(r) for r in wb["问题清单"].iter_rows(values_only=True)) if "问题清单" in wb.sheetnames else ()
    return Snapshot(tuple((s.title, s.sheet_state) for s in wb.worksheets), values, fills, notes,
                    frozenset((m.sheet, f"{chr(64 + m.col)}{m.row}", m.fill, m.noted) for m in rec.marks.values()),
                    tuple(sorted(rec.meta.items())), issues)
