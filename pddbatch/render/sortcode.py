"""The 三段码-style sorting line printed large on a label, derived only from the destination.

Real 三段码 come from the carrier's routing API; offline we print a deterministic stand-in that sorts
the same destination the same way every day: `PPC-CCC-DD SSS` where PPC is the GB/T 2260 province
prefix plus a check digit, CCC and DD are CRC-32 buckets of province+city and +district, and SSS a
bucket of the street. See docs/labels.md.
"""

from __future__ import annotations

import zlib
from functools import cache, lru_cache

from pddbatch.model import Receiver
from pddbatch.resources import load_json


@cache
def _regions() -> tuple[dict[str, int], tuple[str, ...]]:
    data = load_json("label-regions.json")
    return dict(data["provinces"]), tuple(data["suffixes"])


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


def _bucket(text: str, mod: int) -> int:
    return zlib.crc32(text.encode("utf-8")) % mod


@lru_cache(maxsize=65536)
def sort_code(province: str, city: str, district: str, street: str = "") -> str:
    """E.g. `330-417-52 086` for 浙江省 杭州市 西湖区 (deterministic, see module doc)."""
    provinces, _ = _regions()
    prov = short_name(province)
    pcode = provinces.get(prov)
    first = f"{pcode:02d}{pcode % 7}" if pcode is not None else f"9{_bucket(prov, 100):02d}"
    key = f"{prov}/{short_name(city)}"
    second = _bucket(key, 1000)
    third = _bucket(f"{key}/{district.strip()}", 100)
    fourth = _bucket(f"{key}/{district.strip()}/{street.strip()}", 1000)
    return f"{first}-{second:03d}-{third:02d} {fourth:03d}"


def hub_line(r: Receiver) -> str:
    """Destination hub line: `浙江 杭州 西湖区` (municipalities not repeated: `上海 浦东新区`)."""
    parts: list[str] = []
    for p in (short_name(r.province), short_name(r.city), r.district.strip()):
        if p and p not in parts:
            parts.append(p)
    return " ".join(parts)


def pack_hub(r: Receiver) -> str:
    """集包地: the destination's consolidation hub, named after province and city: `浙江杭州`."""
    prov, city = short_name(r.province), short_name(r.city)
    return prov if city == prov or not city else f"{prov}{city}"
