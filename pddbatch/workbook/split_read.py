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
from typing import IO, Any

from pddbatch.deflate import crc32, read_member

MIN_PART_BYTES = 4 << 20         # a part at least this big (5,000 orders, 8 MB of XML: 0.12 -> 0.08 s in halves)
MAX_PARTS = 4
# The rows become Python objects (`to_python`, holding the GIL: ~1/6 of a part's parse) in each part's
# own thread as soon as it is parsed; the first part's, in the calling thread, after every part is
# done. So the first part is the bigger one: the other parts' threads finish parsing sooner and make
# their rows while it still parses (100,000 orders, 2 cores: 0.42 s of making rows after the parse ->
# ~0.23 s).
FIRST_SHARE = 1.17
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
    pieces = _cut(xml, parts, FIRST_SHARE)
    if pieces is None:
        return None
    others = [(info.filename, _other(zf, info)) for info in zf.infolist() if info.filename != sheet_part]
    packages: list[Package] = []
    try:
        for piece in pieces:
            packages.append(_package(others, sheet_part, piece))
        del xml, pieces
        return _parse(packages, sheet_name)
    finally:
        for package in packages:
            package.close()


def _parse(packages: Sequence[Package], sheet_name: str) -> Rows | None:
    """Every package's sheet parsed in a thread of its own (the first in this one), joined."""
    sheets: list[Any] = [None] * len(packages)
    errors: list[BaseException] = []
    rows: list[Rows | None] = [None] * len(packages)

    def parse(k: int) -> None:
        try:
            book = packages[k].open()
            sheet = sheets[k] = book.get_sheet_by_name(sheet_name)
            book.close()
            if k:       # (the first part's rows are made once every thread is done: see FIRST_SHARE)
                rows[k] = sheet.to_python(skip_empty_area=True) if sheet.height else []
        except BaseException as exc:
            # any trouble reading a part: the caller reads the sheet whole (and says what is wrong);
            # Ctrl-C / SIGTERM in this (main) thread stop the run as everywhere else
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            errors.append(exc)
        finally:
            packages[k].close()          # let the package go once parsed

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
    rows[0] = sheets[0].to_python(skip_empty_area=True) if sheets[0].height else []
    return _joined(sheets, rows)


def _other(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """What a part's package holds of another member: the workbook's structure, styles (dates) and
    shared strings as they are, any other worksheet as an empty one, big media left empty."""
    name = info.filename
    if re.search(r"(^|/)worksheets/[^/]*\.xml$", name, re.I):
        return _EMPTY_SHEET
    if info.file_size <= SMALL_MEMBER or _NEEDED.search(name):
        return zf.read(info)
    return b""


def _cut(xml: bytes, parts: int, first: float = 1.0) -> list[tuple[bytes, memoryview, bytes]] | None:
    """(head, rows, tail) per part, cut before a `<row r="N">` each; None if the sheet won't cut cleanly.
    The first part weighs `first` against 1 for each other part."""
    m = _SHEET_DATA.search(xml)
    end = xml.rfind(b"</sheetData>")
    if m is None or m.group(0).endswith(b"/>") or end < m.end():
        return None
    head, tail = _DIMENSION.sub(b"", xml[:m.end()], count=1), xml[end:]
    view = memoryview(xml)
    cuts = [m.end()]
    last_row = 0
    total = first + parts - 1
    for k in range(1, parts):
        at = xml.find(b"<row", m.end() + int((end - m.end()) * (first + k - 1) / total), end)
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


# Linux: a part's package is an anonymous in-memory file (memfd) that calamine opens by its /proc
# path. From a file-like object calamine copies the package in through read() calls of doubling size,
# holding the GIL: 55 MB in 0.20 s, against 0.03 s to write the memfd and 0.02 s to open it.
MEMFD = hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")


class Package:
    """One part's stored zip, in a memfd (see MEMFD) or in memory."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self.buffer: io.BytesIO | None = None
        if MEMFD:
            self.fd = os.memfd_create("pddbatch-part", getattr(os, "MFD_CLOEXEC", 0))
        else:
            self.buffer = io.BytesIO()

    def writer(self) -> IO[bytes]:
        if self.fd is not None:
            return open(self.fd, "wb", closefd=False)       # noqa: SIM115 (closed by the caller)
        assert self.buffer is not None
        return self.buffer

    def open(self) -> Any:
        """The package as a calamine workbook."""
        from python_calamine import CalamineWorkbook

        if self.fd is not None:
            return CalamineWorkbook.from_path(f"/proc/self/fd/{self.fd}")
        assert self.buffer is not None
        self.buffer.seek(0)
        return CalamineWorkbook.from_filelike(self.buffer)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.buffer = None


def _package(others: Sequence[tuple[str, bytes]], sheet_part: str,
             piece: tuple[bytes, memoryview, bytes]) -> Package:
    """A stored zip of `others` and the sheet part made of `piece`, ready to read (written piece by
    piece: no copy of the rows but the one in the package)."""
    package = Package()
    try:
        out = package.writer()
        _write_package(out, others, sheet_part, piece)
        if package.fd is not None:
            out.close()
    except BaseException:
        package.close()
        raise
    return package


def _write_package(out: IO[bytes], others: Sequence[tuple[str, bytes]], sheet_part: str,
                   piece: tuple[bytes, memoryview, bytes]) -> None:
    central: list[bytes] = []
    at = 0

    def write(data: bytes | memoryview) -> None:
        nonlocal at
        out.write(data)
        at += len(data)

    def member(name: str, chunks: Sequence[bytes | memoryview]) -> None:
        crc, size = 0, 0
        for c in chunks:
            crc = crc32(c, crc)
            size += len(c)
        raw = name.encode("utf-8")
        offset = at
        write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, 0, 0, 0x21, crc, size, size, len(raw), 0))
        write(raw)
        for c in chunks:
            write(c)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x800, 0, 0, 0x21, crc, size, size,
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)

    for name, data in others:
        member(name, [data])
    member(sheet_part, list(piece))
    start = at
    for entry in central:
        write(entry)
    write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), at - start, start, 0))


def _joined(sheets: Sequence[Any], parts: Sequence[Rows | None]) -> Rows | None:
    """The parts' rows (each sheet's `to_python(skip_empty_area=True)`) as one sheet read whole: from
    row 1 and column A, every row as wide as the widest. None when a part holds a row above the
    previous part's last (rows stored out of order)."""
    width = max((s.end[1] + 1 for s in sheets if s.height), default=0)
    rows: Rows = []
    for s, part in zip(sheets, parts, strict=True):
        if not s.height or not part:
            continue
        top, left = s.start
        if len(rows) > top:
            return None
        rows.extend([""] * width for _ in range(top - len(rows)))
        if left or width - 1 > s.end[1]:
            pad_left, pad_right = [""] * left, [""] * (width - 1 - s.end[1])
            rows.extend([pad_left + r + pad_right for r in part])
        else:
            rows.extend(part)
    return rows
