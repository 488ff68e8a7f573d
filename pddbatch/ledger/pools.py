"""Numbers for a pool: ranges a courier outlet issues, and pool files (text, CSV or workbook)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pddbatch.errors import InputError, LedgerError
from pddbatch.model import CellValue
from pddbatch.workbook.read import decode_text, read_table

MAX_RANGE = 10_000_000
MAX_NUMBER_LEN = 40
NUMBER_HEADER = "快递单号"
CARRIER_HEADER = "快递公司"
_RANGE_START = re.compile(r"^([A-Z]*)(\d+)$")
_VALID = re.compile(r"^[0-9A-Z][0-9A-Z-]*$")
_CARRIER_LINE = re.compile(r"^#\s*(?:carrier|快递公司|快递)\s*[:：=]\s*(\S+)", re.IGNORECASE)
_SHEET_SUFFIXES = {".xlsx", ".xlsm"}


def range_numbers(start: str, count: int) -> list[str]:
    """`count` numbers from `start` up: a letter prefix is kept, the digit tail keeps its width.

    "YT0000000000098", 3 -> YT0000000000098, YT0000000000099, YT0000000000100.
    """
    text = start.strip().upper()
    m = _RANGE_START.match(text)
    if not m:
        raise LedgerError(f"起始单号“{start}”无效：应为若干字母加数字（如 73100000000001 或 YT1000000000001）",
                          f"Bad start number '{start}': expected letters then digits "
                          "(e.g. 73100000000001 or YT1000000000001)")
    if not 0 < count <= MAX_RANGE:
        raise LedgerError(f"数量 {count} 无效：应在 1 到 {MAX_RANGE} 之间",
                          f"Bad count {count}: must be 1 to {MAX_RANGE}")
    prefix, digits = m.group(1), m.group(2)
    width, first = len(digits), int(digits)
    last = first + count - 1
    if len(str(last)) > width:
        raise LedgerError(f"号段越界：从 {text} 起 {count} 个号码超出了 {width} 位数字",
                          f"Range overflows: {count} numbers from {text} need more than {width} digits")
    return [f"{prefix}{n:0{width}d}" for n in range(first, last + 1)]


def normalize(raw: str) -> str:
    """A number as the ledger stores it: no surrounding blanks, letters upper-case."""
    return raw.strip().upper()


def is_valid_number(number: str) -> bool:
    return len(number) <= MAX_NUMBER_LEN and _VALID.match(number) is not None


@dataclass(frozen=True, slots=True)
class PoolFile:
    carrier: str | None     # from a `# carrier: ZTO` line or a 快递公司 column
    numbers: list[str]


def read_pool_file(path: Path) -> PoolFile:
    """Read numbers from a text file (one a line, `#` comments) or a sheet with a 快递单号 column."""
    if not path.is_file():
        raise InputError(f"找不到单号文件：{path}", f"Number file not found: {path}")
    if path.suffix.lower() in _SHEET_SUFFIXES:
        return _read_sheet(path)
    text, _ = decode_text(path.read_bytes())
    lines = text.splitlines()
    head = [ln for ln in lines[:12] if ln.strip() and not ln.lstrip().startswith("#")]
    if any(NUMBER_HEADER in ln for ln in head[:10]):
        return _read_sheet(path)
    carrier: str | None = None
    numbers: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = _CARRIER_LINE.match(stripped)
            if m and carrier is None and not numbers:
                carrier = m.group(1)
            continue
        # tolerate "number,anything" lines from a one-column export
        numbers.append(stripped.split(",")[0].split("\t")[0])
    return PoolFile(carrier, numbers)


def _read_sheet(path: Path) -> PoolFile:
    table = read_table(path, lambda row: any(_header(v) == NUMBER_HEADER for v in row), what="单号")
    headers = [_header(h) for h in table.headers]
    col = headers.index(NUMBER_HEADER)
    ccol = headers.index(CARRIER_HEADER) if CARRIER_HEADER in headers else None
    numbers = [_cell_text(r[col]) for r in table.rows if col < len(r)]
    carriers = {_cell_text(r[ccol]) for r in table.rows if ccol is not None and ccol < len(r)} - {""}
    return PoolFile(next(iter(carriers)) if len(carriers) == 1 else None, [n for n in numbers if n])


def _header(v: object) -> str:
    return "" if v is None else re.sub(r"\s+", "", str(v))


def _cell_text(v: CellValue) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))    # Excel stores digit-only numbers as floats
    return str(v).strip()


def split_numbers(numbers: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    """Normalise input: (unique valid numbers in order, repeats within the input, invalid ones)."""
    seen: set[str] = set()
    unique: list[str] = []
    repeats: list[str] = []
    invalid: list[str] = []
    for raw in numbers:
        n = normalize(raw)
        if not n:
            continue
        if not is_valid_number(n):
            invalid.append(raw.strip())
        elif n in seen:
            repeats.append(n)
        else:
            seen.add(n)
            unique.append(n)
    return unique, repeats, invalid


def chunks(seq: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
