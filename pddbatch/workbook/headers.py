"""Header mapping: the spellings a file uses -> pddbatch field names (alias tables in `schemas/`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pddbatch.errors import InputError
from pddbatch.messages import pick
from pddbatch.model import CellValue, RowIssue
from pddbatch.resources import load_json

_SPACE = re.compile(r"\s+")


def norm_header(text: str) -> str:
    """Normalise a header for comparison: NFKC (full-width -> half-width) and no whitespace."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


@dataclass(frozen=True)
class AliasTable:
    name: str
    key_field: str
    lookup: dict[str, str]               # normalised header -> field
    required: tuple[str, ...]
    display: dict[str, str]              # field -> the canonical (first) header spelling
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)   # field -> field whose column stands in

    def is_header_row(self, cells: Sequence[CellValue]) -> bool:
        """True when the row holds the key column's header (e.g. 订单号)."""
        return any(self.lookup.get(norm_header(str(c))) == self.key_field for c in cells if c)


@cache
def alias_table(name: str = "columns.json") -> AliasTable:
    data = load_json(name)
    lookup: dict[str, str] = {}
    required: list[str] = []
    display: dict[str, str] = {}
    fallbacks: dict[str, str] = {}
    for fname, spec in data["fields"].items():
        display[fname] = spec["headers"][0]
        if spec.get("fallback"):
            fallbacks[fname] = spec["fallback"]
        if spec.get("required"):
            required.append(fname)
        for h in spec["headers"]:
            lookup[norm_header(h)] = fname
    return AliasTable(data.get("table", name), data["key_field"], lookup, tuple(required), display, data,
                      fallbacks)


def key_header(table: AliasTable) -> str:
    """How the key column is spelled, for messages ("a header row holding 订单号")."""
    return table.display[table.key_field]


@dataclass(frozen=True)
class ColumnMap:
    """Where each known field sits in the sheet (1-based column) and how its header is spelled."""

    cols: dict[str, int]
    headers: dict[str, str]
    unknown: tuple[str, ...]      # headers we don't know (kept, never touched)
    issues: tuple[RowIssue, ...]  # header-level warnings (duplicates)

    def col(self, fname: str) -> int | None:
        return self.cols.get(fname)


def map_headers(headers: Sequence[str], table: AliasTable, sheet: str, header_row: int,
                lang: str = "zh", required: Sequence[str] | None = None) -> ColumnMap:
    """Map a header row; raise InputError naming every missing required column."""
    cols: dict[str, int] = {}
    spelled: dict[str, str] = {}
    unknown: list[str] = []
    issues: list[RowIssue] = []
    for idx, raw in enumerate(headers, start=1):
        if not raw or not str(raw).strip():
            continue
        fname = table.lookup.get(norm_header(str(raw)))
        if fname is None:
            unknown.append(str(raw))
            continue
        if fname in cols:
            msg = (f"表头“{raw.strip()}”重复出现，只使用第一个（{_letter(cols[fname])} 列）"
                   if lang != "en" else
                   f"Header '{raw.strip()}' appears twice; only the first (column {_letter(cols[fname])}) is used")
            issues.append(RowIssue(sheet, header_row, idx, fname, str(raw).strip(), "duplicate-header", msg,
                                   "warning"))
            continue
        cols[fname] = idx
        spelled[fname] = str(raw).strip()
    for fname, alt in table.fallbacks.items():
        # an export without 详细地址 whose 街道 holds street and house number: 街道 is the address
        if fname not in cols and alt in cols:
            cols[fname] = cols.pop(alt)
            spelled[fname] = spelled.pop(alt)
    need = table.required if required is None else tuple(required)
    absent = [f for f in need if f not in cols]
    if absent:
        hint = table.raw.get("missing_hint", {"zh": "请在拼多多后台导出订单时勾选这些字段。",
                                              "en": "Tick these fields when exporting from the PDD seller back office."})
        zh = "、".join(_missing_name(table, f, "zh") for f in absent)
        en = ", ".join(_missing_name(table, f, "en") for f in absent)
        raise InputError(
            f"缺少必需的列：{zh}（工作表“{sheet}”第 {header_row} 行）。{hint['zh']}",
            f"Missing required column(s): {en} (sheet '{sheet}', row {header_row}). {hint['en']}")
    return ColumnMap(cols, spelled, tuple(unknown), tuple(issues))


def _missing_name(table: AliasTable, fname: str, lang: str) -> str:
    """How a missing column is named: 详细地址（或 街道） when another column could stand in."""
    alt = table.fallbacks.get(fname)
    if alt is None:
        return table.display[fname]
    name, other = table.display[fname], table.display[alt]
    return pick(lang, f"{name}（或 {other}）", f"{name} (or {other})")


def _letter(col: int) -> str:
    from pddbatch.model import col_letter

    return col_letter(col)
