"""The reading side of the `Sheet` seam: find the table in a workbook or CSV and return its cells.

Files: `.xlsx` / `.xlsm` (python-calamine), `.csv` (UTF-8, UTF-8 with BOM, GB18030 detected).
The live-Excel backend lives with the Excel face (`excel.py`) and returns the same `Table`.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from pddbatch.errors import InputError, OutOfMemory
from pddbatch.memory import fits
from pddbatch.model import CellValue, DateOnly

HEADER_SEARCH_ROWS = 10
MAX_FILE_BYTES = 512 * 1024 * 1024          # a day's export is a few tens of MB
MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200                  # real sheets compress ~10-30x; bombs 1000x+
MAX_ROWS = 1_100_000                         # Excel's own limit is 1,048,576
# a sheet read into Python cells takes more than 2.5 times its XML (measured: 2.7x with inline strings
# as our generator and xlsxwriter write them, 3.9x with shared strings as LibreOffice writes them):
# a sheet that can't fit is refused before the native reader tries it and dies in Rust
READ_BYTES_PER_XML_BYTE = 2.5
SPLIT_BYTES_PER_XML_BYTE = READ_BYTES_PER_XML_BYTE + 2    # + the XML and the parts' packages, for a moment
SHARE_SAMPLE_ROWS = 5000                     # CSV rows whose repeated values are kept once
SHARE_MAX_LEN = 64

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt"}


@dataclass
class Table:
    """A rectangular block of cells under a header row.

    `rows[i]` is sheet row `header_row + 1 + i`; all coordinates the rest of pddbatch reports are
    1-based sheet coordinates. Empty cells are None. CSV cells are always strings.
    """

    path: str
    sheet: str
    header_row: int
    headers: list[str]
    rows: list[list[CellValue]]
    kind: str = "xlsx"             # "xlsx" | "xlsm" | "csv" | "excel" (live book)
    encoding: str | None = None    # CSV only
    sheet_names: list[str] = field(default_factory=list)

    def sheet_row(self, index: int) -> int:
        return self.header_row + 1 + index

    @property
    def width(self) -> int:
        return len(self.headers)


HeaderTest = Callable[[Sequence[CellValue]], bool]


def read_table(path: str | os.PathLike[str], header_test: HeaderTest, sheet: str | None = None,
               what: str = "订单", expect: str = "订单号") -> Table:
    """Read the table whose header row passes `header_test` (e.g. "holds 订单号").

    Raises InputError with a seller-facing sentence for anything unreadable.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"找不到文件：{p}", f"File not found: {p}")
    if p.is_dir():
        raise InputError(f"这是一个文件夹，不是{what}文件：{p}", f"This is a folder, not a file: {p}")
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"文件是空的（0 字节）：{p.name}", f"The file is empty (0 bytes): {p.name}")
    if size > MAX_FILE_BYTES:
        raise InputError(f"文件太大（{size // 2**20} MB），超过 {MAX_FILE_BYTES // 2**20} MB 上限：{p.name}",
                         f"File too large ({size // 2**20} MB > {MAX_FILE_BYTES // 2**20} MB): {p.name}")
    suffix = p.suffix.lower()
    with p.open("rb") as fh:
        magic = fh.read(8)
    if suffix in CSV_SUFFIXES:
        if magic.startswith(b"PK\x03\x04"):
            raise InputError(f"{p.name} 的扩展名是 .csv，但内容是 Excel 工作簿；请改名为 .xlsx",
                             f"{p.name} is named .csv but is an Excel workbook; rename it to .xlsx")
        return _read_csv(p, header_test, what, expect)
    if suffix in WORKBOOK_SUFFIXES:
        _check_zip(p, magic)
        return _read_workbook(p, header_test, sheet, what, suffix.lstrip("."), expect)
    if suffix == ".xls":
        raise InputError(f"不支持旧版 .xls 格式：请在 Excel 中另存为 .xlsx 后再处理（{p.name}）",
                         f"Old .xls files are not supported: save it as .xlsx in Excel first ({p.name})")
    raise InputError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请使用 .xlsx、.xlsm 或 .csv（{p.name}）",
                     f"Unsupported file type {suffix or '(none)'}: use .xlsx, .xlsm or .csv ({p.name})")


def _check_zip(p: Path, magic: bytes) -> None:
    """Refuse what isn't a sound, reasonably sized zip before any XML parser sees it."""
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{p.name} 是加密（设置了打开密码）的工作簿或旧版 .xls 文件：请取消密码并另存为 .xlsx",
            f"{p.name} is password-protected or an old .xls file: remove the password and save as .xlsx")
    if not magic.startswith(b"PK"):
        head = magic.decode("utf-8", "replace")
        looks_text = all(ch.isprintable() or ch in "\r\n\t" for ch in head)
        hint_zh = "内容看起来是文本（CSV？），请改扩展名为 .csv" if looks_text else "文件已损坏或不是 Excel 文件"
        hint_en = "it looks like text (CSV?): rename it to .csv" if looks_text else "corrupt or not Excel"
        raise InputError(f"{p.name} 不是有效的 .xlsx 工作簿：{hint_zh}",
                         f"{p.name} is not a valid .xlsx workbook: {hint_en}")
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            total = 0
            for info in infos:
                total += info.file_size
                if info.flag_bits & 0x1:
                    raise InputError(f"{p.name} 内含加密内容，无法读取", f"{p.name} has encrypted parts")
                if info.file_size > 10 * 2**20 and info.compress_size and \
                        info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
                    raise _bomb(p)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise _bomb(p)
            for info in infos[:400]:
                if info.filename.endswith(".xml") and info.file_size >= 2:
                    try:
                        with zf.open(info) as fh:
                            lead = fh.read(2)
                    except (zlib.error, EOFError, OSError) as exc:    # a damaged member
                        raise zipfile.BadZipFile(str(exc)) from exc
                    if lead in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in lead:
                        raise InputError(
                            f"{p.name} 的部件 {info.filename} 以 UTF-16 编码保存，读不出它的数据：请用 Excel 或 WPS "
                            "打开后另存为 .xlsx", f"Part {info.filename} of {p.name} is stored as UTF-16 and "
                            "cannot be read: open it in Excel or WPS and save it as .xlsx")
    except zipfile.BadZipFile as exc:
        raise InputError(f"{p.name} 已损坏（不是完整的 zip/xlsx 文件）：请重新导出",
                         f"{p.name} is corrupt (not a complete zip/xlsx): export it again") from exc
    # sheets are found through the workbook's relationships, wherever a producer stored them
    if "[Content_Types].xml" not in names or not any(n.endswith(".xml") and n != "[Content_Types].xml"
                                                     for n in names):
        raise InputError(f"{p.name} 不是 Excel 工作簿（缺少工作表部件）",
                         f"{p.name} is not an Excel workbook (no worksheet parts)")


def _sheet_parts(p: Path) -> dict[str, tuple[str, int]]:
    """Each sheet's name, its XML part and that part's unpacked size ({} when the package can't say)."""
    # (imported here: xlwings Lite's Pyodide reads no files and has no defusedxml)
    from pddbatch.workbook.xlsx.package import workbook_sheets

    try:
        with zipfile.ZipFile(p) as zf:
            return {name: (rel.target, zf.getinfo(rel.target).file_size)
                    for name, rel in workbook_sheets(zf).sheets.items() if rel.target in zf.NameToInfo}
    except (InputError, OSError, KeyError, zipfile.BadZipFile):
        return {}


def _sheet_rows(p: Path, wb: Any, name: str, part: tuple[str, int] | None) -> list[list[Any]]:
    """The sheet's cells as calamine gives them; a big sheet read in parts side by side (split_read)."""
    if part is not None:
        from pddbatch.workbook.split_read import parts_for, read_split

        parts = parts_for(part[1])
        if parts > 1 and fits(int(SPLIT_BYTES_PER_XML_BYTE * part[1])):
            try:
                with zipfile.ZipFile(p) as zf:
                    rows = read_split(zf, part[0], name, parts)
            except (OSError, KeyError, ValueError, zipfile.BadZipFile, zlib.error):
                rows = None          # read whole below: calamine says what is wrong, if anything is
            if rows is not None:
                return rows
    whole: list[list[Any]] = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return whole


def _bomb(p: Path) -> InputError:
    return InputError(f"{p.name} 解压后过大（疑似压缩炸弹），已拒绝读取",
                      f"{p.name} expands to an unreasonable size (zip bomb?); refused")


def _read_workbook(p: Path, header_test: HeaderTest, sheet: str | None, what: str, kind: str,
                   expect: str) -> Table:
    from python_calamine import CalamineWorkbook  # imported here: CSV runs don't pay for it

    try:
        wb = CalamineWorkbook.from_path(str(p))
    except Exception as exc:  # calamine raises its own error types for every corruption
        raise InputError(f"无法读取 {p.name}：文件已损坏或格式不对（{_short(exc)}）",
                         f"Cannot read {p.name}: corrupt or not a workbook ({_short(exc)})") from exc
    names = list(wb.sheet_names)
    if sheet is not None:
        if sheet not in names:
            raise InputError(f"{p.name} 中没有名为“{sheet}”的工作表（有：{'、'.join(names)}）",
                             f"No sheet named '{sheet}' in {p.name} (sheets: {', '.join(names)})")
        candidates = [sheet]
    else:
        # visible sheets first; a hidden sheet is only used when nothing visible holds orders
        meta = {m.name: str(m.visible).endswith("Visible") for m in wb.sheets_metadata}
        candidates = [n for n in names if meta.get(n, True)] + [n for n in names if not meta.get(n, True)]
    parts = _sheet_parts(p)
    dates: list[DateOnly] = []

    def plain(v: object) -> CellValue:      # (only for the cells calamine gives as dates, times, …)
        out = _plain(v)
        if type(out) is DateOnly:
            dates.append(out)
        return out

    for name in candidates:
        if not fits(int(READ_BYTES_PER_XML_BYTE * parts.get(name, ("", 0))[1])):
            raise OutOfMemory
        try:
            rows = _sheet_rows(p, wb, name, parts.get(name))
        except MemoryError:
            raise
        except BaseException as exc:       # a Rust panic arrives as pyo3's PanicException (a BaseException)
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            if isinstance(exc.__context__, MemoryError) or "null" in str(exc).lower():
                raise OutOfMemory from exc   # Python could not make a cell: out of memory
            raise InputError(f"无法读取工作表“{name}”：{_short(exc)}",
                             f"Cannot read sheet '{name}': {_short(exc)}") from exc
        if len(rows) > MAX_ROWS:
            raise InputError(f"工作表“{name}”超过 {MAX_ROWS:,} 行，无法处理",
                             f"Sheet '{name}' has more than {MAX_ROWS:,} rows")
        found = _find_header([[_plain(v) for v in r] for r in rows[:HEADER_SEARCH_ROWS]], header_test)
        if found is None:
            continue
        header_idx = found
        headers = [_header_text(_plain(v)) for v in rows[header_idx]]
        dates.clear()
        data: list[list[CellValue]] = [
            [None if v == "" else (v if type(v) in _PLAIN else plain(v)) for v in r]
            for r in rows[header_idx + 1:]]
        _trim_trailing(data)
        if dates:
            _undate_timed_cells(p, name, header_idx + 2, data)
        return Table(str(p), name, header_idx + 1, headers, data, kind=kind, sheet_names=names)
    where = f"工作表“{sheet}”" if sheet else f"{p.name} 的任何工作表"
    where_en = f"sheet '{sheet}'" if sheet else f"any sheet of {p.name}"
    raise InputError(f"在{where}的前 {HEADER_SEARCH_ROWS} 行中找不到{what}表头（应含“{expect}”等列）",
                     f"No {what} header row (with {expect} etc.) in the first {HEADER_SEARCH_ROWS} rows of {where_en}")


def _read_csv(p: Path, header_test: HeaderTest, what: str, expect: str) -> Table:
    text, encoding = decode_text(p.read_bytes())
    if "\x00" in text[:4096]:
        raise InputError(f"{p.name} 不是文本 CSV 文件（含二进制内容）", f"{p.name} is not a text CSV (binary content)")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(_csv_lines(text), dialect)
    try:
        head = list(itertools.islice(reader, HEADER_SEARCH_ROWS))
        found = _find_header(head, header_test)
        if found is None:
            raise InputError(f"在 {p.name} 的前 {HEADER_SEARCH_ROWS} 行中找不到{what}表头（应含“{expect}”等列）",
                             f"No {what} header row in the first {HEADER_SEARCH_ROWS} rows of {p.name}")
        # Values that repeat down an export (statuses, products, provinces, the shop's own text) are
        # kept once: a million-row export is then a few hundred MB of cells, not over a GB.
        sample = head[found + 1:] + list(itertools.islice(reader, SHARE_SAMPLE_ROWS))
        seen: Counter[str] = Counter(v for r in sample for v in r if len(v) <= SHARE_MAX_LEN)
        shared = {v: v for v, n in seen.items() if n > 1}
        del seen
        data: list[list[CellValue]] = []
        for rows in (sample, reader):
            for r in rows:
                data.append([shared.get(v, v) or None for v in r])
                if len(data) > MAX_ROWS:
                    raise InputError(f"{p.name} 超过 {MAX_ROWS:,} 行，无法处理",
                                     f"{p.name} has more than {MAX_ROWS:,} rows")
    except csv.Error as exc:
        raise InputError(f"{p.name} 的 CSV 格式有误：{exc}", f"Malformed CSV in {p.name}: {exc}") from exc
    headers = [_header_text(v) for v in head[found]]
    _trim_trailing(data)
    return Table(str(p), p.stem, found + 1, headers, data, kind="csv", encoding=encoding)


def _csv_lines(text: str, piece: int = 1 << 20) -> Iterator[str]:
    """The lines of `text` as `open(newline="")` gives them (ends kept; \n, \r\n and \r end a line),
    a piece at a time: one StringIO over the whole text would hold it again at 4 bytes a character."""
    start, end = 0, len(text)
    while start < end:
        cut = text.rfind("\n", start, start + piece) + 1 if start + piece < end else end
        if cut <= start:                 # no \n in a whole piece (a file with \r alone): all the rest
            cut = end
        yield from io.StringIO(text[start:cut], newline="")
        start = cut


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 with BOM, UTF-8, else GB18030 (a superset of GBK)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "replace"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        # mixed encodings in one file: keep what decodes; bad bytes become U+FFFD and get flagged
        return raw.decode("utf-8", "replace"), "utf-8"


def _find_header(rows: Sequence[Sequence[CellValue]], header_test: HeaderTest) -> int | None:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if header_test([_header_text(v) for v in row]):
            return i
    return None


_PLAIN = {str, int, float, bool, datetime}


def _plain(v: object) -> CellValue:
    """calamine also returns date, time and timedelta: map them onto `CellValue` (time-only as text)."""
    if v is None or type(v) in _PLAIN:
        return v  # type: ignore[return-value]
    if isinstance(v, datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, date):
        return DateOnly(v.year, v.month, v.day)
    if isinstance(v, dt_time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, timedelta):
        total = int(v.total_seconds())
        return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
    return str(v)


def _undate_timed_cells(p: Path, sheet: str, first_row: int, data: list[list[CellValue]]) -> None:
    """calamine gives a date-time cell at 00:00:00 as a date whatever its format: a cell whose number format
    shows a time is midnight, not a date (`xlsx.datecells`). Only sheets holding such cells pay for it."""
    dated = [(first_row + i, c + 1) for i, row in enumerate(data) if DateOnly in map(type, row)
             for c, v in enumerate(row) if type(v) is DateOnly]
    from pddbatch.workbook.xlsx.datecells import cells_showing_time

    timed = cells_showing_time(p, sheet, dated)
    for r, c in dated if timed is None else timed:
        v = data[r - first_row][c - 1]
        assert isinstance(v, datetime)
        data[r - first_row][c - 1] = datetime(v.year, v.month, v.day)


def _header_text(v: CellValue) -> str:
    return "" if v is None else str(v)


def _trim_trailing(rows: list[list[CellValue]]) -> None:
    while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
        rows.pop()


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
