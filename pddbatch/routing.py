"""Carrier routing: the 三段码 (sorting code) and 集包地 a label may print, from real data only.

A 三段码 tells a sorting centre where a parcel goes; a wrong one sends it the wrong way. So pddbatch
prints one only when it comes from data the seller brings, never a code of its own making:

- a routing table per carrier from the courier outlet (网点): CSV (UTF-8 or GBK) or XLSX, one row per
  destination, headers 省 / 市 / 区 / 街道 (optional) / 三段码 / 集包地 (optional); spellings in
  `schemas/routing_columns.json`; configured as `[labels.routing] ZTO = "routing-ZTO.csv"`;
- a 三段码 / 集包地 column in the export (see `Order.sort_code`), used by the label code itself;
- later, a carrier's routing API: anything with `route(receiver) -> Route | None` (`RouteSource`).

A table row with 区 (or 市) left empty covers the whole city (or province); the most specific row
wins. A destination no row covers has no code: the label then shows the destination in words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Protocol

from pddbatch.errors import ConfigError, PddBatchError
from pddbatch.model import Receiver
from pddbatch.resources import load_json

COLUMNS = "routing_columns.json"
MAX_CODE = 24        # longest 三段码 / 大头笔 we accept (real ones are 8-16 characters)
MAX_HUB = 30
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Route:
    """Where a destination sorts for one carrier: the code, the 集包地 (may be empty), and its source."""

    sort_code: str
    pack_hub: str = ""
    source: str = ""          # "routing-ZTO.csv 第 12 行" or "订单表" — for messages and explain


class RouteSource(Protocol):
    """Anything that can route a receiver for one carrier: a table today, a carrier API later."""

    def route(self, receiver: Receiver) -> Route | None: ...


@cache
def _regions() -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = load_json("label-regions.json")
    return tuple(data["provinces"]), tuple(data["suffixes"])


@lru_cache(maxsize=8192)
def short_name(name: str) -> str:
    """浙江省 -> 浙江, 杭州市 -> 杭州, 广西壮族自治区 -> 广西; districts (西湖区) stay as they are."""
    name = name.strip()
    provinces, suffixes = _regions()
    for p in provinces:
        if name.startswith(p):
            return p
    for s in suffixes:
        if name.endswith(s) and len(name) > len(s) + 1:
            return name[: -len(s)]
    return name


def _place(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


Key = tuple[str, str, str, str]


def place_key(province: str, city: str, district: str = "", street: str = "") -> Key:
    """Comparable form of a destination: short province/city names, no spaces, NFKC."""
    return (short_name(_place(province)), short_name(_place(city)), _place(district), _place(street))


@dataclass(frozen=True)
class RoutingTable:
    """One carrier's routing table, loaded and checked (`load_routing_table`)."""

    carrier: str
    path: Path
    routes: Mapping[Key, Route]

    def route(self, receiver: Receiver) -> Route | None:
        p, c, d, s = place_key(receiver.province, receiver.city, receiver.district, receiver.street)
        for key in ((p, c, d, s), (p, c, d, ""), (p, c, "", ""), (p, "", "", "")):
            hit = self.routes.get(key)
            if hit is not None:
                return hit
        return None

    def codes(self) -> set[str]:
        return {r.sort_code for r in self.routes.values()}


def _cell(cells: Sequence[object], col: int | None) -> str:
    v = cells[col - 1] if col is not None and col - 1 < len(cells) else None
    return "" if v is None else str(v).strip()


def load_routing_table(path: Path, carrier: str) -> RoutingTable:
    """Read and check a routing table; every problem is a ConfigError naming the file and row."""
    from pddbatch.workbook.headers import alias_table, map_headers
    from pddbatch.workbook.read import read_table

    aliases = alias_table(COLUMNS)
    try:
        table = read_table(path, aliases.is_header_row, what="分拣码表", expect="三段码")
        cmap = map_headers(table.headers, aliases, table.sheet, table.header_row)
    except PddBatchError as exc:
        raise ConfigError(f"{carrier} 的分拣码表 {path.name}：{exc.message}",
                          f"{carrier} routing table {path.name}: {exc.message_en}") from exc
    col = {f: cmap.col(f) for f in ("province", "city", "district", "street", "sort_code", "pack_hub")}
    routes: dict[Key, Route] = {}
    problems: list[tuple[str, str]] = []
    for i, cells in enumerate(table.rows):
        row = table.sheet_row(i)

        prov, city, dist, street, code, hub = (_cell(cells, c) for c in col.values())
        if not any((prov, city, dist, street, code, hub)):
            continue
        where_zh, where_en = f"第 {row} 行", f"row {row}"
        before = len(problems)
        if not code:
            problems.append((f"{where_zh}没有三段码", f"{where_en} has no 三段码"))
        elif len(code) > MAX_CODE or _CONTROL.search(code):
            problems.append((f"{where_zh}的三段码“{code[:30]}”不像分拣码（最多 {MAX_CODE} 个字符）",
                             f"{where_en}: 三段码 '{code[:30]}' is not a sorting code (at most {MAX_CODE} chars)"))
        if len(hub) > MAX_HUB or _CONTROL.search(hub):
            problems.append((f"{where_zh}的集包地太长（最多 {MAX_HUB} 个字符）",
                             f"{where_en}: 集包地 is too long (at most {MAX_HUB} chars)"))
        if not prov or (dist and not city) or (street and not dist):
            problems.append((f"{where_zh}的地区不完整：要写省；写了区就要写市，写了街道就要写区",
                             f"{where_en}: incomplete place — a province is needed, a district needs its city, "
                             "a street its district"))
        if len(problems) > before:
            continue
        key = place_key(prov, city, dist, street)
        route = Route(code, hub, f"{path.name} 第 {row} 行")
        old = routes.get(key)
        if old is not None and (old.sort_code, old.pack_hub) != (code, hub):
            problems.append((f"{where_zh}与{old.source.removeprefix(path.name).strip()}是同一地区，分拣码却不同",
                             f"{where_en} names the same place as an earlier row with a different code"))
            continue
        routes.setdefault(key, route)
    if problems:
        more = f"（另有 {len(problems) - 10} 处）" if len(problems) > 10 else ""
        raise ConfigError(f"{carrier} 的分拣码表 {path.name} 有问题：" + "；".join(p[0] for p in problems[:10]) + more,
                          f"{carrier} routing table {path.name}: " + "; ".join(p[1] for p in problems[:10]))
    if not routes:
        raise ConfigError(f"{carrier} 的分拣码表 {path.name} 没有任何行", f"{carrier} routing table {path.name} is empty")
    return RoutingTable(carrier, path, routes)
