"""The live workbook, read: the orders `Table` of an open xlwings Book, its mark record, a file snapshot.

Works with every xlwings engine that implements the Book API: the classic add-in (Excel on
Windows/macOS over COM/AppleScript), xlwings Lite and xlwings Server (the remote engine). Writing a
`WritePlan` into the open book: `livewrites.py`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pddbatch.errors import InputError
from pddbatch.model import CellValue, DateOnly
from pddbatch.workbook.headers import alias_table
from pddbatch.workbook.marks import (
    RECORD_SHEET,
    MarkRecord,
    parse_rows,
)
from pddbatch.workbook.numfmt import shows_time
from pddbatch.workbook.read import HEADER_SEARCH_ROWS, Table

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
        rows = sheet_values(sh)
        for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            if test([_header_text(v) for v in row]):
                headers = [_header_text(v) for v in row]
                data = [[_cell(v) for v in r] for r in rows[i + 1:]]
                while data and all(v is None or (isinstance(v, str) and not v.strip()) for v in data[-1]):
                    data.pop()
                _mark_date_only(sh, i + 2, data)
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


def sheet_values(sh: Any) -> list[list[Any]]:
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
    if isinstance(v, date):     # an engine that hands date cells over as dates
        return DateOnly(v.year, v.month, v.day)
    return str(v)


def _header_text(v: Any) -> str:
    return "" if v is None else str(v)


DATE_ONLY_LOOKUPS = 500     # cells asked one by one when a column's formats are mixed (COM: ~1 ms each)


def _mark_date_only(sh: Any, first_row: int, data: list[list[CellValue]]) -> None:
    """Excel hands a date cell over as a datetime at midnight: a midnight value whose cell's format shows
    no time is a date (`model.DateOnly`), so a typed-in 承诺发货时间 runs to the end of that day, as it does
    when the file is read (`xlsx.datecells`). Engines that can't read formats here (xlwings Lite, whose
    reads are asynchronous) keep midnight, the safe side of a deadline."""
    at_midnight: dict[int, list[int]] = {}
    for r, row in enumerate(data):
        for c, v in enumerate(row):
            if type(v) is datetime and not (v.hour or v.minute or v.second or v.microsecond):
                at_midnight.setdefault(c, []).append(r)
    lookups = 0
    for c, rows in at_midnight.items():
        try:
            fmt = sh.range((first_row, c + 1), (first_row + len(data) - 1, c + 1)).number_format
            if fmt is None:         # mixed formats down the column (typed dates among text): ask each cell
                if lookups + len(rows) > DATE_ONLY_LOOKUPS:
                    continue
                lookups += len(rows)
                dated = [r for r in rows
                         if isinstance(f := sh.range((first_row + r, c + 1)).number_format, str) and not shows_time(f)]
            else:
                dated = rows if isinstance(fmt, str) and not shows_time(fmt) else []
        except NotImplementedError:
            return
        for r in dated:
            v = data[r][c]
            assert isinstance(v, datetime)
            data[r][c] = DateOnly(v.year, v.month, v.day)



# ---- the record of pddbatch's marks -----------------------------------------------------------------

def read_record(book: Any) -> MarkRecord:
    """The workbook's mark record (`workbook.marks`), empty when there is none."""
    if RECORD_SHEET not in {s.name for s in book.sheets}:
        return MarkRecord()
    return parse_rows(sheet_values(book.sheets[RECORD_SHEET]))



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
        day = wb.add_format({"num_format": "yyyy-mm-dd"})     # a date stays a date for the file's reader
        ws.write_row(table.header_row - 1, 0, table.headers)
        for i, row in enumerate(table.rows):
            r = table.sheet_row(i) - 1
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, datetime):
                    ws.write_datetime(r, c, v, day if type(v) is DateOnly else when)
                elif isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
                    ws.write_number(r, c, float(v))
                else:
                    ws.write_string(r, c, str(v))
    finally:
        wb.close()
    return path
