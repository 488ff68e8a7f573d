"""A parcel's normalised status: 待揽收 / 已揽收 / 运输中 / 派件中 / 已签收 / 拒收 / 退回中 / 退回签收 / 疑难.

Read from the source's status code when it has one (快递100 `state`), else from a status column's
text, else from the event text through the keyword table `schemas/tracking_keywords.json` (data, so
a seller or a maintainer adds a carrier's new wording without touching code).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from pddbatch.messages import pick
from pddbatch.resources import load_json


class Status(StrEnum):
    PENDING = "pending"            # 待揽收
    PICKED_UP = "picked-up"        # 已揽收
    IN_TRANSIT = "in-transit"      # 运输中
    DELIVERING = "delivering"      # 派件中
    DELIVERED = "delivered"        # 已签收
    REFUSED = "refused"            # 拒收
    RETURNING = "returning"        # 退回中
    RETURNED = "returned"          # 退回签收
    PROBLEM = "problem"            # 疑难

    def text(self, lang: str = "zh") -> str:
        zh, en = _NAMES[self]
        return pick(lang, zh, en)

    @property
    def final(self) -> bool:
        """Nothing more will happen to the parcel: no need to ask a tracking service again."""
        return self in (Status.DELIVERED, Status.RETURNED)

    @property
    def moving(self) -> bool:
        """Picked up and on its way to the buyer (the states in which a parcel can stall)."""
        return self in (Status.PICKED_UP, Status.IN_TRANSIT, Status.DELIVERING)


_NAMES: dict[Status, tuple[str, str]] = {
    Status.PENDING: ("待揽收", "awaiting pickup"),
    Status.PICKED_UP: ("已揽收", "picked up"),
    Status.IN_TRANSIT: ("运输中", "in transit"),
    Status.DELIVERING: ("派件中", "out for delivery"),
    Status.DELIVERED: ("已签收", "delivered"),
    Status.REFUSED: ("拒收", "refused"),
    Status.RETURNING: ("退回中", "returning"),
    Status.RETURNED: ("退回签收", "returned to sender"),
    Status.PROBLEM: ("疑难", "problem"),
}
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class _Rule:
    status: Status
    any: tuple[str, ...]
    none: tuple[str, ...]


@dataclass(frozen=True)
class _Table:
    codes: dict[str, dict[str, Status]]
    names: dict[str, Status]
    rules: tuple[_Rule, ...]


@cache
def _table() -> _Table:
    data = load_json("tracking_keywords.json")
    codes = {src: {str(k): Status(v) for k, v in m.items()} for src, m in data["codes"].items()}
    names = {_norm(k): Status(v) for k, v in data["names"].items()}
    rules = tuple(_Rule(Status(r["status"]), tuple(_norm(w) for w in r["any"]),
                        tuple(_norm(w) for w in r.get("none", ()))) for r in data["rules"])
    return _Table(codes, names, rules)


def _norm(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def status_from_code(code: str | int | None, source: str = "kuaidi100") -> Status | None:
    """The status a source's numeric code means (快递100: 0 在途, 1 揽收, … 301 正常签收), None if unknown."""
    if code is None:
        return None
    key = str(code).strip()
    if key.endswith(".0"):          # a code a spreadsheet stored as a number
        key = key[:-2]
    table = _table().codes.get(source, {})
    hit = table.get(key)
    if hit is None and len(key) == 3 and key.isdigit():   # a newer sub-state: its family's status
        hit = table.get(key[0]) if key[0] != "0" else None
    return hit


def status_from_name(name: str | None) -> Status | None:
    """The status a source's status text names exactly (在途, 已签收, 退签 …), None if not one."""
    if not name:
        return None
    return _table().names.get(_norm(name))


def status_from_text(text: str) -> Status:
    """The status an event text describes by the keyword table; 运输中 when no word matches.

    A text no rule knows is still a scan of a parcel on its way, so 运输中 is the honest default.
    """
    t = _norm(text)
    for rule in _table().rules:
        if any(w in t for w in rule.any) and not any(w in t for w in rule.none):
            return rule.status
    return Status.IN_TRANSIT


def event_status(text: str, *, code: str | int | None = None, name: str | None = None,
                 source: str = "kuaidi100") -> Status:
    """Code first, then a status name, then the text."""
    return status_from_code(code, source) or status_from_name(name) or status_from_text(text)
