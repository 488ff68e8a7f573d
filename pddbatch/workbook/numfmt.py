"""Excel number formats, as far as pddbatch needs them: whether a format shows a time of day.

A date cell and a date-and-time cell hold the same kind of number; only the format tells a seller's
typed 2026/11/30 (a deadline that runs to the end of the day) from 2026-11-30 00:00:00 (a deadline at
midnight). Readers that hand over a bare date or datetime (calamine, xlwings) lose that: they ask here.
"""

from __future__ import annotations

import re

# Built-in formats (ECMA-376 18.8.30, and the zh-CN built-ins 27-36 / 50-58 Excel writes by id) that show
# a time: h:mm AM/PM … m/d/yy h:mm, h"时"mm"分" …, mm:ss, [h]:mm:ss, mmss.0, 上午/下午h"时"mm"分" ….
TIME_BUILTINS = frozenset({18, 19, 20, 21, 22, 32, 33, 34, 35, 45, 46, 47, 55, 56})

_LITERAL = re.compile(r'"[^"]*"|\\.|\[(?!h+\]|m+\]|s+\])[^\]]*\]', re.IGNORECASE)
_TIME_CODE = re.compile(r"[hs]|am/pm|a/p|\[(h+|m+|s+)\]", re.IGNORECASE)


def shows_time(code: str) -> bool:
    """Whether format code `code` shows a time of day (hours, seconds, AM/PM). Quoted text, escaped
    characters and [$-804]/[DBNum1]-style sections are not codes: `yyyy"年"m"月"d"日"` is a date."""
    return bool(_TIME_CODE.search(_LITERAL.sub("", code)))


def id_shows_time(num_fmt_id: int, custom: dict[int, str]) -> bool:
    """As `shows_time`, for a cell format's numFmtId (a workbook's own formats are in `custom`)."""
    code = custom.get(num_fmt_id)
    return shows_time(code) if code is not None else num_fmt_id in TIME_BUILTINS
