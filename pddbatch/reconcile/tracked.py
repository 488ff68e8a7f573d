"""Outbound parcels the ledger's tracking shows back with the seller: evidence that the goods came back.

With `--ledger`, the reconciliation also reads `Ledger.events.returns_by_order()` (the newest scan of
each parcel, joined to its orders). Only status `returned` (退回签收: the carrier handed the parcel
back to the seller) counts as "the goods came back". `refused` (拒收) and `returning` (退回中) mean
the parcel is still on its way back, so they prove nothing yet: a refund whose parcel is only
refused stays `return-not-received` until the tracking shows it returned or the warehouse logs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pddbatch.ledger.events import ReturnRow
from pddbatch.reconcile.inputs import norm_key

CAME_BACK = ("returned",)


@dataclass(frozen=True, slots=True)
class TrackedReturn:
    """One order's outbound parcel whose newest scan says it was returned to the seller."""

    order_sn: str
    order_key: str
    tracking_no: str
    tracking_key: str
    carrier: str
    status: str
    at: datetime | None
    text: str

    @property
    def month(self) -> str:
        return f"{self.at:%Y-%m}" if self.at else ""

    def evidence(self, lang: str = "zh") -> str:
        """'物流显示已退回 YT… 2026-11-20 10:00（台账物流：退回签收）' — what the sheets show instead of a log row."""
        when = f"{self.at:%Y-%m-%d %H:%M}" if self.at else self.text
        scan = f"：{self.text}" if self.text else ""
        if lang == "en":
            return f"Tracking shows returned: {self.tracking_no} {when} (ledger tracking{': ' + self.text if self.text else ''})"
        return f"物流显示已退回 {self.tracking_no} {when}（台账物流{scan}）"


def tracked_returns(rows: Iterable[ReturnRow], order_keys: Iterable[str]) -> dict[str, TrackedReturn]:
    """Order key -> its returned parcel (the newest when several), for the orders in the exports only."""
    wanted = set(order_keys)
    out: dict[str, TrackedReturn] = {}
    for r in rows:
        key = norm_key(r.order_sn)
        if key not in wanted or r.status not in CAME_BACK:
            continue
        t = TrackedReturn(r.order_sn, key, r.tracking_no, norm_key(r.tracking_no), r.carrier, r.status,
                          _when(r.at), r.text)
        if key not in out or (t.at or datetime.min) >= (out[key].at or datetime.min):
            out[key] = t
    return out


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip()[:19])
    except ValueError:
        return None
