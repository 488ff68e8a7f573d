"""Rows stored out of order: the sheet rewrite refuses them, `sort_rows` puts them in order first."""

from __future__ import annotations

import re

from pddbatch.errors import InputError
from pddbatch.workbook.xlsx.cellxml import _ATTR_R, get_attr


class RowsOutOfOrder(InputError):
    """The sheet stores its rows out of order (some tools do after an edit): `sort_rows` first."""


def sort_rows(xml: bytes) -> bytes:
    """The worksheet part with its <row> elements in row order, everything else as it was.

    Rows out of order are legal to read but the streaming rewrite needs them sorted; a sheet whose
    rows number the same row twice (or leave a row unnumbered) is refused: which one wins is unclear.
    """
    m = re.search(rb"<([\w.-]+:)?sheetData\b[^>]*>", xml)
    end = xml.rfind(b"</" + ((m.group(1) or b"") if m else b"") + b"sheetData>")
    if m is None or end < 0:
        raise InputError("工作表部件缺少 sheetData，无法安全写回", "Sheet part has no sheetData")
    p = m.group(1) or b""
    inner = xml[m.end():end]
    rows = list(re.finditer(rb"<" + p + rb"row\b[^>]*?(?:/>|>.*?</" + p + rb"row>)", inner, re.S))
    keyed: dict[int, bytes] = {}
    for row in rows:
        r = get_attr(row.group(0)[: row.group(0).index(b">") + 1], _ATTR_R)
        if r is None or not r.isdigit() or int(r) in keyed:
            raise InputError("工作表的行顺序异常（有行号重复或缺少行号），无法安全写回",
                             "Rows are out of order with duplicate or missing row numbers; cannot write back")
        keyed[int(r)] = row.group(0)
    body = b"".join(keyed[r] for r in sorted(keyed))
    return xml[:m.end()] + body + xml[end:]
