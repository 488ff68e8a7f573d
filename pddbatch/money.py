"""Exact money: cell values (Excel floats, typed text) -> `Decimal` yuan with at most 2 decimals.

`parse_money` never rounds silently: a value with fractions of a fen (e.g. 8.991 from a formula)
raises `ValueError`, so the caller can report the cell instead of summing a guess.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

FEN = Decimal("0.01")
_STRIP = re.compile(r"[\s,¥￥$]|元|RMB|CNY|人民币", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_money(value: object) -> Decimal | None:
    """Parse a money cell to `Decimal` yuan quantised to 0.01; None for a blank cell.

    Accepts int/Decimal, Excel floats (read back at Excel's 15 significant digits, so
    0.30000000000000004 is 0.30), and text such as "¥1,234.50", "12.3元", "１２．５０", "(5.00)".
    Raises ValueError for text that is not an amount or an amount with fractions of a fen.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        return _fen(value, value)
    if isinstance(value, int):
        return Decimal(value).quantize(FEN)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"not an amount: {value!r}")
        # Excel stores doubles and shows 15 significant digits; that is the number the seller saw.
        return _fen(Decimal(format(value, ".15g")), value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    text = _STRIP.sub("", text)
    if not _NUMBER.match(text):
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValueError(f"not an amount: {value!r}") from exc
    return _fen(-amount if negative else amount, value)


def _fen(amount: Decimal, original: object) -> Decimal:
    quantised = amount.quantize(FEN)
    if quantised != amount:
        raise ValueError(f"amount has fractions of a fen: {original!r}")
    return quantised


def format_yuan(amount: Decimal) -> str:
    """`Decimal('1234.5')` -> '¥1,234.50' (for summaries printed to people)."""
    return f"¥{amount.quantize(FEN):,}"
