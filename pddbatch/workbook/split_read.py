"""A big sheet read in parts, one thread each: calamine parses XML without holding the GIL.

calamine parses one sheet on one core (50,000 orders: 103 MB of XML, 1.2 s), and everything after
the read waits for it while the PC's other core has nothing to do. Here the sheet's XML is cut at
row boundaries into `parts` stand-alone worksheets — the same head (columns, formats) and tail around
each share of the rows — each put in a small stored (uncompressed) package with the workbook's other
parts, and the packages are parsed side by side in threads (50,000 orders, 2 cores: 0.64 s for the
two halves, after 0.1 s of inflating and cutting). No row crosses a process boundary: the rows come
back as the same Python objects `to_python` makes.

It pays where the cells hold their own text (inline strings, numbers, dates); a sheet whose text sits
in a big shared-strings part is read whole (`SHARED_STRINGS_SHARE`).

The result is exactly what `to_python(skip_empty_area=False)` gives for the whole sheet; where the
sheet's shape leaves any doubt (a namespace prefix, a row without its number where a part would start,
rows out of order at a cut), `read_split` returns None and the caller reads the sheet whole.
"""

from __future__ import annotations

import io
import os
import re
import struct
import sys
import threading
import zipfile
from collections.abc import Sequence
from typing import Any

from pddbatch.deflate import crc32, read_member

MIN_PART_BYTES = 4 << 20         # a part at least this big (5,000 orders, 8 MB of XML: 0.12 -> 0.08 s in halves)
MAX_PARTS = 4
# Shared strings (Excel, WPS, LibreOffice write them) are parsed by every part's reader, and by the
# whole workbook's: an export's unique names, phones and addresses make them as big as the sheet
# (20,000 orders saved by LibreOffice: 27 MB of strings, 26 MB of sheet; in two parts 0.73 s against
# 0.56 s whole). Above this share of the sheet's size the sheet is read whole.
SHARED_STRINGS_SHARE = 0.25
_SHARED_STRINGS = re.compile(r"(^|/)sharedStrings[^/]*\.xml$", re.I)
SMALL_MEMBER = 1 << 20          # other members up to this size go into every part's package as they are
_NEEDED = re.compile(r"(sharedStrings|styles|workbook)[^/]*\.xml(\.rels)?$", re.I)   # whatever their size
_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')
_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*>")
_DIMENSION = re.compile(rb"<dimension\b[^>]*/>")
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\sr="(\d+)"')

Rows = list[list[Any]]


def parts_for(size: int) -> int:
    """How many parts a sheet part of `size` unpacked bytes is read in here (1: read it whole)."""
    if sys.platform == "emscripten":       # Pyodide (xlwings Lite): no threads
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_PARTS, size // MIN_PART_BYTES))


def read_split(zf: zipfile.ZipFile, sheet_part: str, sheet_name: str, parts: int) -> Rows | None:
    """The sheet's rows as `to_python(skip_empty_area=False)` gives them, read in `parts` threads;
    None when the sheet can't be cut safely (the caller then reads it whole)."""
    shared = sum(i.file_size for i in zf.infolist() if _SHARED_STRINGS.search(i.filename))
    if shared > SHARED_STRINGS_SHARE * zf.getinfo(sheet_part).file_size:
        return None         # every part would parse the shared strings again: slower than one whole read
    xml = read_member(zf, sheet_part)
    pieces = _cut(xml, parts)
    if pieces is None:
        return None
    others = [(info.filename, _other(zf, info)) for info in zf.infolist() if info.filename != sheet_part]
    packages = [_package(others, sheet_part, piece) for piece in pieces]
    del xml, pieces
    sheets: list[Any] = [None] * len(packages)
    errors: list[BaseException] = []

    def parse(k: int) -> None:
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_filelike(packages[k])
            sheets[k] = book.get_sheet_by_name(sheet_name)
        except BaseException as exc:
            # any trouble reading a part: the caller reads the sheet whole (and says what is wrong);
            # Ctrl-C / SIGTERM in this (main) thread stop the run as everywhere else
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            errors.append(exc)
        finally:
            packages[k] = io.BytesIO()          # let the package go once parsed

    threads = [threading.Thread(target=parse, args=(k,), name=f"pddbatch-read-{k}") for k in range(1, len(packages))]
    for t in threads:
        t.start()
    try:
        parse(0)
    finally:
        for t in threads:           # never leave a thread behind: a fork may follow the read
            t.join()
    if errors or any(s is None for s in sheets):
        return None
    return _joined(sheets)


def _other(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """What a part's package holds of another member: the workbook's structure, styles (dates) and
    shared strings as they are, any other worksheet as an empty one, big media left empty."""
    name = info.filename
    if re.search(r"(^|/)worksheets/[^/]*\.xml$", name, re.I):
        return _EMPTY_SHEET
    if info.file_size <= SMALL_MEMBER or _NEEDED.search(name):
        return zf.read(info)
    return b""


def _cut(xml: bytes, parts: int) -> list[tuple[bytes, memoryview, bytes]] | None:
    """(head, rows, tail) per part, cut before a `<row r="N">` each; None if the sheet won't cut cleanly."""
    m = _SHEET_DATA.search(xml)
    end = xml.rfind(b"</sheetData>")
    if m is None or m.group(0).endswith(b"/>") or end < m.end():
        return None
    head, tail = _DIMENSION.sub(b"", xml[:m.end()], count=1), xml[end:]
    view = memoryview(xml)
    cuts = [m.end()]
    last_row = 0
    for k in range(1, parts):
        at = xml.find(b"<row", m.end() + (end - m.end()) * k // parts, end)
        if at < 0 or at <= cuts[-1]:
            return None
        number = _ROW_NUMBER.match(xml, at)
        if number is None or xml.find(b">", at) < number.end():      # the row's own number, in its tag
            return None
        row = int(number.group(1))
        if row <= last_row:
            return None
        last_row = row
        cuts.append(at)
    cuts.append(end)
    return [(head, view[a:b], tail) for a, b in zip(cuts, cuts[1:], strict=False)]


def _package(others: Sequence[tuple[str, bytes]], sheet_part: str,
             piece: tuple[bytes, memoryview, bytes]) -> io.BytesIO:
    """A stored zip of `others` and the sheet part made of `piece`, ready to read (written piece by
    piece: no copy of the rows but the one in the package)."""
    out = io.BytesIO()
    central: list[bytes] = []

    def member(name: str, chunks: Sequence[bytes | memoryview]) -> None:
        crc, size = 0, 0
        for c in chunks:
            crc = crc32(c, crc)
            size += len(c)
        raw = name.encode("utf-8")
        offset = out.tell()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, 0, 0, 0x21, crc, size, size, len(raw), 0))
        out.write(raw)
        for c in chunks:
            out.write(c)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x800, 0, 0, 0x21, crc, size, size,
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)

    for name, data in others:
        member(name, [data])
    member(sheet_part, list(piece))
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start, 0))
    out.seek(0)
    return out


def _joined(sheets: Sequence[Any]) -> Rows | None:
    """The parts' rows as one sheet read whole: from row 1 and column A, every row as wide as the
    widest. None when a part holds a row above the previous part's last (rows stored out of order)."""
    width = max((s.end[1] + 1 for s in sheets if s.height), default=0)
    rows: Rows = []
    for s in sheets:
        if not s.height:
            continue
        top, left = s.start
        if len(rows) > top:
            return None
        rows.extend([""] * width for _ in range(top - len(rows)))
        pad_left, pad_right = [""] * left, [""] * (width - 1 - s.end[1])
        for r in s.to_python(skip_empty_area=True):
            rows.append(pad_left + r + pad_right if left or pad_right else r)
    return rows
