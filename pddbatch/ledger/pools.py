"""Numbers for a pool: ranges a courier outlet issues, and pool files (text, CSV or workbook).

Every number must fit its carrier's format (schemas/carriers.json): `SF…` into 中通, `1234` or `1`..`5`
are refused with a sentence, not added with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pddbatch.carriers import all_carriers, matches_pattern
from pddbatch.errors import InputError, LedgerError
from pddbatch.model import Carrier, CellValue
from pddbatch.resources import load_json
from pddbatch.workbook.read import decode_text, read_table

MAX_RANGE = 10_000_000
CONFIRM_COUNT = 200_000      # `pool add` asks before adding more than this many at once
CHUNK = 50_000               # numbers per round trip (memory stays flat for any range)
MAX_NUMBER_LEN = 40
_RANGE_START = re.compile(r"^([A-Z]*)(\d+)$")
_VALID = re.compile(r"^[0-9A-Z][0-9A-Z-]*$")
_CARRIER_LINE = re.compile(r"^#\s*(?:carrier|快递公司|快递)\s*[:：=]\s*(\S+)", re.IGNORECASE)
_SHEET_SUFFIXES = {".xlsx", ".xlsm"}


@cache
def column_aliases() -> tuple[frozenset[str], frozenset[str]]:
    """(number headers, carrier headers) from schemas/pool_columns.json, blanks removed, lower-case."""
    data = load_json("pool_columns.json")
    return (frozenset(_header(h).lower() for h in data["number"]),
            frozenset(_header(h).lower() for h in data["carrier"]))


def check_range(start: str, count: int) -> tuple[str, int, int]:
    """(letter prefix, first number, digit width) of a valid range; LedgerError otherwise."""
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
    if len(str(first + count - 1)) > width:
        raise LedgerError(f"号段越界：从 {text} 起 {count} 个号码超出了 {width} 位数字",
                          f"Range overflows: {count} numbers from {text} need more than {width} digits")
    return prefix, first, width


def range_chunks(start: str, count: int, size: int = CHUNK) -> Iterator[list[str]]:
    """The range's numbers, `size` at a time (a 10-million range never sits in memory whole)."""
    prefix, first, width = check_range(start, count)
    for lo in range(first, first + count, size):
        yield [f"{prefix}{n:0{width}d}" for n in range(lo, min(lo + size, first + count))]


def range_ends(start: str, count: int) -> tuple[str, str]:
    prefix, first, width = check_range(start, count)
    return f"{prefix}{first:0{width}d}", f"{prefix}{first + count - 1:0{width}d}"


def normalize(raw: str) -> str:
    """A number as the ledger stores it: no surrounding blanks, letters upper-case."""
    return raw.strip().upper()


def is_valid_number(number: str) -> bool:
    return len(number) <= MAX_NUMBER_LEN and _VALID.match(number) is not None


def refuse_wrong_numbers(carrier: Carrier, numbers: Sequence[str], what: str, en_what: str) -> None:
    """LedgerError naming the numbers that are not `carrier`'s (or no tracking number at all).

    Nothing is added then: a file with another courier's or made-up numbers is the wrong file, and
    half of it in the pool would be harder to undo than none.
    """
    bad = [n for n in numbers if not is_valid_number(normalize(n)) or not matches_pattern(carrier, normalize(n))]
    if not bad:
        return
    shown = "、".join(bad[:5]) + (f" 等 {len(bad)} 个" if len(bad) > 5 else "")
    shown_en = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    others = _likely_carriers(bad[:50], carrier.code)
    hint = f"它们看起来像{others}的单号；" if others else ""
    hint_en = f"They look like {others} numbers; " if others else ""
    raise LedgerError(
        f"{what}中有 {len(bad)} 个号码不是{carrier.pdd_name}的单号：{shown}。{hint}没有加入任何单号，"
        "请核对快递公司（--carrier）和号段",
        f"{en_what} holds {len(bad)} values that are not {carrier.code} tracking numbers: {shown_en}. {hint_en}"
        "nothing was added; check the carrier (--carrier) and the numbers")


def _likely_carriers(numbers: Sequence[str], own: str) -> str:
    found = []
    for c in all_carriers().values():
        if c.code != own and c.pattern and any(matches_pattern(c, normalize(n)) for n in numbers):
            found.append(c.pdd_name)
    return "、".join(found[:3])


@dataclass(frozen=True, slots=True)
class PoolFile:
    carrier: str | None     # from a `# carrier: ZTO` line or a 快递公司 column
    numbers: list[str]


def read_pool_file(path: Path) -> PoolFile:
    """Numbers from a courier outlet's file: .txt, .csv or .xlsx, UTF-8 or GBK.

    With a header row (any spelling in schemas/pool_columns.json: 快递单号, 运单号, 单号, 面单号, …)
    the numbers are that column and a 快递公司 column names the carrier; without one, the first
    column of every line is a number and a `# carrier: ZTO` line may name the carrier.
    """
    if not path.is_file():
        raise InputError(f"找不到单号文件：{path}", f"Number file not found: {path}")
    if path.suffix.lower() in _SHEET_SUFFIXES:
        return _read_sheet(path)
    text, _ = decode_text(path.read_bytes())
    lines = text.splitlines()
    numbers_h, _carriers_h = column_aliases()
    head = [ln for ln in lines[:12] if ln.strip() and not ln.lstrip().startswith("#")]
    if any(_header(cell).lower() in numbers_h for ln in head[:10] for cell in re.split(r"[,\t;]", ln)):
        return _read_sheet(path)
    carrier: str | None = None
    numbers: list[str] = []
    for line in lines:
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = _CARRIER_LINE.match(stripped)
            if m and carrier is None and not numbers:
                carrier = m.group(1)
            continue
        # tolerate "number,anything" lines from a one-column export
        numbers.append(re.split(r"[,\t;]", stripped)[0].strip().strip('"'))
    return PoolFile(carrier, numbers)


def _read_sheet(path: Path) -> PoolFile:
    numbers_h, carriers_h = column_aliases()

    def is_header(row: Sequence[object]) -> bool:
        return any(_header(v).lower() in numbers_h for v in row)

    try:
        table = read_table(path, is_header, what="单号", expect="快递单号")
        headers = [_header(h).lower() for h in table.headers]
        col = next(i for i, h in enumerate(headers) if h in numbers_h)
        ccol = next((i for i, h in enumerate(headers) if h in carriers_h), None)
        rows = table.rows
    except InputError:
        if path.suffix.lower() not in _SHEET_SUFFIXES:
            raise
        # a workbook with no header at all: the first column holds the numbers
        table = read_table(path, lambda row: True, what="单号", expect="快递单号")
        col, ccol = 0, None
        rows = [list(table.headers), *table.rows]
    numbers = [_cell_text(r[col]) for r in rows if col < len(r)]
    carriers = {_cell_text(r[ccol]) for r in rows if ccol is not None and ccol < len(r)} - {""}
    return PoolFile(next(iter(carriers)) if len(carriers) == 1 else None, [n for n in numbers if n])


def _header(v: object) -> str:
    return "" if v is None else re.sub(r"\s+", "", str(v))


def _cell_text(v: CellValue | object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))    # Excel stores digit-only numbers as floats
    text = str(v).strip()
    # a header row read as text keeps the float's ".0" (a workbook with no header at all)
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


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
