"""Carriers as PDD knows them, and the tracking-number providers behind one small interface."""

from __future__ import annotations

import re
from functools import cache

from pddbatch.errors import ConfigError
from pddbatch.model import Carrier
from pddbatch.resources import load_json


@cache
def all_carriers() -> dict[str, Carrier]:
    """Code -> Carrier, from schemas/carriers.json."""
    out: dict[str, Carrier] = {}
    for c in load_json("carriers.json")["carriers"]:
        out[c["code"]] = Carrier(c["code"], c["pdd_name"], int(c["pdd_id"]), c.get("pattern", ""))
    return out


def carrier(code_or_name: str) -> Carrier:
    """Look a carrier up by code (ZTO), PDD name (中通快递) or short name (中通)."""
    key = code_or_name.strip()
    cs = all_carriers()
    if key.upper() in cs:
        return cs[key.upper()]
    for c in load_json("carriers.json")["carriers"]:
        if key in (c["pdd_name"], c.get("short")):
            return cs[c["code"]]
    known = "、".join(f"{c.code}（{c.pdd_name}）" for c in cs.values())
    raise ConfigError(f"不认识的快递公司“{key}”；可用：{known}",
                      f"Unknown carrier '{key}'; known: {', '.join(cs)}")


def matches_pattern(c: Carrier, tracking_no: str) -> bool:
    """Advisory check of a number against the carrier's known format (warn, don't reject)."""
    return not c.pattern or re.fullmatch(c.pattern, tracking_no) is not None
