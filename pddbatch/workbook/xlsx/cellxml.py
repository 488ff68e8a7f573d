"""Cell-level XML for the sheet rewriter: references, values, one row's cells."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache

from pddbatch.model import CellValue, col_letter, col_number
from pddbatch.workbook.xlsx.parts import esc

_REF = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})$")
_ATTR_R = re.compile(rb'\sr\s*=\s*"([^"]*)"')
_ATTR_S = re.compile(rb'\ss\s*=\s*"([^"]*)"')
_ATTR_SPANS = re.compile(rb'\sspans\s*=\s*"([^"]*)"')
MAX_EXACT_INT = 10**15   # Excel keeps 15 significant digits: longer integers are written as text


letters_of = cache(col_letter)
# b"A".."XFD" -> column number: lets the row fast path read a reference with one dict look-up
COL_OF: dict[bytes, int] = {col_letter(c).encode(): c for c in range(1, 16385)}


def col_index(letters: bytes) -> int:
    return COL_OF.get(letters) or col_number(letters.decode("ascii"))


def split_ref(ref: bytes) -> tuple[int, int] | None:
    """b'AB12' -> (12, 28); None when it is not a plain A1 cell reference."""
    m = _REF.match(ref) or _REF.match(ref.replace(b"$", b""))
    if m is None:
        return None
    letters, digits = m.groups()
    return int(digits), col_index(letters)


def parse_range(ref: bytes) -> tuple[int, int, int, int] | None:
    """b'A1:Y100' -> (first_row, first_col, last_row, last_col)."""
    parts = ref.split(b":")
    a = split_ref(parts[0])
    b = split_ref(parts[-1])
    if a is None or b is None:
        return None
    return a[0], a[1], b[0], b[1]


def range_ref(r1: int, c1: int, r2: int, c2: int) -> bytes:
    first = f"{col_letter(c1)}{r1}"
    last = f"{col_letter(c2)}{r2}"
    return (first if first == last else f"{first}:{last}").encode()


def get_attr(tag: bytes, pattern: re.Pattern[bytes]) -> bytes | None:
    m = pattern.search(tag)
    return m.group(1) if m else None


def set_attr(tag: bytes, name: bytes, value: bytes | None) -> bytes:
    """Set/replace/remove one attribute in an element's start tag (kept as the original bytes)."""
    pat = re.compile(rb"\s" + name + rb'\s*=\s*"[^"]*"')
    if value is None:
        return pat.sub(b"", tag, count=1)
    new = b" " + name + b'="' + value + b'"'
    if pat.search(tag):
        return pat.sub(lambda _m: new, tag, count=1)
    # insert right after the element name
    m = re.match(rb"<[\w:.-]+", tag)
    assert m is not None
    return tag[:m.end()] + new + tag[m.end():]


def value_xml(p: bytes, ref: str, style: int | None, value: CellValue) -> bytes:
    """A complete <c> element for a value pddbatch writes. Strings are inline text, never formulas."""
    s = f' s="{style}"' if style is not None else ""
    pc = p.decode()
    if type(value) is str:            # the common case first; same bytes as the general branch below
        space = ' xml:space="preserve"' if value != value.strip() or "\n" in value else ""
        return (f'<{pc}c r="{ref}"{s} t="inlineStr"><{pc}is><{pc}t{space}>{esc(value)}</{pc}t>'
                f'</{pc}is></{pc}c>').encode()
    if value is None:
        return f'<{pc}c r="{ref}"{s}/>'.encode() if style is not None else b""
    if isinstance(value, bool):
        return f'<{pc}c r="{ref}"{s} t="b"><{pc}v>{int(value)}</{pc}v></{pc}c>'.encode()
    num: str | None = None
    if isinstance(value, int) and abs(value) < MAX_EXACT_INT:
        num = str(value)
    elif isinstance(value, float) and math.isfinite(value):
        num = repr(value)
    elif isinstance(value, Decimal) and value.is_finite() and abs(value) < MAX_EXACT_INT:
        num = format(value, "f")
    if num is not None:
        return f'<{pc}c r="{ref}"{s}><{pc}v>{num}</{pc}v></{pc}c>'.encode()
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date | time):
        text = value.isoformat()
    else:
        text = str(value)
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return (f'<{pc}c r="{ref}"{s} t="inlineStr"><{pc}is><{pc}t{space}>{esc(text)}</{pc}t>'
            f'</{pc}is></{pc}c>').encode()


class RowCells:
    """The cells of one <row>, parsed just enough to edit some of them and keep the rest as bytes."""

    __slots__ = ("cols", "raws", "had_missing_r", "p", "prefix", "row")

    def __init__(self, p: bytes, row: int, inner: bytes, cell_re: re.Pattern[bytes], min_col: int = 0) -> None:
        self.p = p
        self.row = row
        self.cols: list[int] = []
        self.raws: list[bytes] = []
        self.had_missing_r = False
        self.prefix = b""
        if min_col > 1:
            inner = self._skip_prefix(inner, min_col)
        prev = 0
        for m in cell_re.finditer(inner):
            raw = m.group(0)
            head = m.group(1)
            ref = get_attr(head, _ATTR_R)
            rc = split_ref(ref) if ref else None
            if rc is None:
                col = prev + 1
                self.had_missing_r = True
                cut = 2 + len(p)   # just after "<c" / "<x:c"
                raw = raw[:cut] + f' r="{col_letter(col)}{row}"'.encode() + raw[cut:]
            else:
                col = rc[1]
            self.cols.append(col)
            self.raws.append(raw)
            prev = col

    def _skip_prefix(self, inner: bytes, min_col: int) -> bytes:
        """Keep the cells left of `min_col` as one untouched blob when that is provably safe.

        Safe when every cell starts `<c r="..."` (so each cell's column is known without parsing):
        cells are walked back from the row's end, which is where pddbatch's columns usually are.
        """
        tag = b"<" + self.p + b'c r="'
        if inner.count(b"<" + self.p + b"c") != inner.count(tag):
            return inner
        cut = len(inner)
        while True:
            i = inner.rfind(tag, 0, cut)
            if i < 0:
                break
            j = inner.find(b'"', i + len(tag))
            rc = split_ref(inner[i + len(tag):j]) if j > 0 else None
            if rc is None or rc[0] != self.row:
                return inner
            if rc[1] < min_col:
                break
            cut = i
        self.prefix = inner[:cut]
        return inner[cut:]

    def holds_in_prefix(self, col: int) -> bool:
        return bool(self.prefix) and f'r="{letters_of(col)}{self.row}"'.encode() in self.prefix

    def find(self, col: int) -> int:
        for i, c in enumerate(self.cols):
            if c == col:
                return i
        return -1

    def style_of(self, i: int) -> int | None:
        s = get_attr(self.head(i), _ATTR_S)
        return int(s) if s and s.isdigit() else None

    def head(self, i: int) -> bytes:
        raw = self.raws[i]
        return raw[: raw.index(b">") + 1]

    def put(self, col: int, raw: bytes) -> None:
        """Replace the cell at `col` (or insert it in column order); empty raw removes it."""
        i = self.find(col)
        if i >= 0:
            if raw:
                self.raws[i] = raw
            else:
                del self.cols[i]
                del self.raws[i]
            return
        if not raw:
            return
        j = len(self.cols)
        while j > 0 and self.cols[j - 1] > col:
            j -= 1
        self.cols.insert(j, col)
        self.raws.insert(j, raw)

    def restyle(self, i: int, style: int | None) -> None:
        raw = self.raws[i]
        head = self.head(i)
        new_head = set_attr(head, b"s", None if style is None else str(style).encode())
        self.raws[i] = new_head + raw[len(head):]
        if style is None and self.is_blank(i):
            del self.cols[i]
            del self.raws[i]

    def is_blank(self, i: int) -> bool:
        """A cell with nothing but a reference (no value, style or other attribute)."""
        raw = self.raws[i]
        return raw.endswith(b"/>") and re.fullmatch(rb'<[\w:]*c\s+r="[A-Z]+\d+"\s*/>', raw) is not None

    def spans(self) -> tuple[int, int] | None:
        if not self.cols:
            return None
        return min(self.cols), max(self.cols)

    def render(self) -> bytes:
        return self.prefix + b"".join(self.raws)


__all__ = ["COL_OF", "RowCells", "_ATTR_R", "_ATTR_S", "_ATTR_SPANS", "col_index", "get_attr", "parse_range",
           "range_ref", "set_attr", "split_ref", "value_xml"]
