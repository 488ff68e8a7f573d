"""Numbering: the ledger gives each planned parcel its tracking number (or says the pool is short).

Stage between the planner (`plan/`) and the row outcomes (`outcomes.py`). An order keeps the live
number the ledger gave it before, whatever the plan says today; a row still showing a number the
ledger voided gets a new one (every order of a voided merged parcel, together again).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pddbatch.carriers import all_carriers
from pddbatch.ledger import Ledger, ParcelRecord, ParcelRequest
from pddbatch.messages import pick
from pddbatch.model import Order, RowOutcome, RowStatus
from pddbatch.plan.parcels import Plan

Known = dict[str, ParcelRecord]                 # order_sn -> its live parcel in the ledger
Numbered = dict[str, tuple[str, int, bool]]     # order_sn -> (tracking no, parcel id, new in this run)

# what a rule, the stock or a merge may decide today, but not for an order already numbered
_NOT_AFTER_NUMBERING = (RowStatus.HELD, RowStatus.OUT_OF_STOCK)


@dataclass
class Numbering:
    """What the allocation gave: the number of every numbered order, new parcel ids, pools short."""

    numbered: Numbered = field(default_factory=dict)
    new_ids: set[int] = field(default_factory=set)
    short: dict[str, int] = field(default_factory=dict)


def voided_numbers(ledger: Ledger, orders: Sequence[Order], known: Mapping[str, ParcelRecord]) -> dict[str, str]:
    """order_sn -> the voided ledger number its row still shows (the order needs a new one).

    A voided merged parcel's number is on several rows: every one of its orders is returned.
    """
    stale: dict[str, list[str]] = {}
    for o in orders:
        if o.tracking_no and (o.order_sn not in known or known[o.order_sn].tracking_no != o.tracking_no):
            stale.setdefault(o.tracking_no, []).append(o.order_sn)
    if not stale:
        return {}
    out: dict[str, str] = {}
    for rec in ledger.find_parcels(list(stale), live_only=False):
        if rec.state != "voided":
            continue
        for sn in stale.get(rec.tracking_no, ()):
            if sn in rec.order_sns:
                out[sn] = rec.tracking_no
    return out


def keep_live_numbers(plan: Plan, orders: Sequence[Order], known: Mapping[str, ParcelRecord], lang: str) -> None:
    """An order the ledger numbered stays 已分配 with its number, even if a rule or the stock would hold it now.

    The ledger and the workbook must never disagree about which orders have a live number; if the
    parcel must not go out, the seller voids the number.
    """
    if not known:
        return
    carriers = all_carriers()
    by_row = {o.row: o for o in orders}
    for row, out in list(plan.outcomes.items()):
        rec = known.get(out.order_sn)
        o = by_row.get(row)
        if rec is None or o is None or out.status not in _NOT_AFTER_NUMBERING:
            continue
        carrier = carriers[rec.carrier_code].pdd_name if rec.carrier_code in carriers else rec.carrier_code
        msg = pick(lang, f"已有单号 {rec.tracking_no}，保持已分配（{out.message}）；如果不应发货，请先作废该单号："
                         f"pddbatch void {rec.tracking_no}",
                   f"Already numbered {rec.tracking_no}; stays allocated ({out.message}); if it must not ship, "
                   f"void the number: pddbatch void {rec.tracking_no}")
        plan.outcomes[row] = RowOutcome(row, out.order_sn, RowStatus.ALLOCATED, msg, carrier, rec.tracking_no)
        plan.explain(out.order_sn, msg)


def kept_numbers(plan: Plan, known: Mapping[str, ParcelRecord]) -> Numbered:
    """The orders `keep_live_numbers` kept outside any parcel, as numbered (not new)."""
    return {out.order_sn: (known[out.order_sn].tracking_no, known[out.order_sn].id, False)
            for out in plan.outcomes.values()
            if out.status is RowStatus.ALLOCATED and out.order_sn in known}


def allocate(ledger: Ledger, run_id: int, plan: Plan, known: Mapping[str, ParcelRecord], workbook: str) -> Numbering:
    """Number every planned parcel in one ledger transaction."""
    requests = [ParcelRequest(p.key, p.carrier.code, p.order_sns) for p in plan.parcels]
    alloc = ledger.allocate(run_id, requests, workbook=workbook)
    by_order = alloc.by_order()
    numbered: Numbered = kept_numbers(plan, known)
    numbered.update({sn: (ap.tracking_no, ap.parcel_id, ap.is_new) for sn, ap in by_order.items()})
    return Numbering(numbered, {ap.parcel_id for ap in by_order.values() if ap.is_new}, dict(alloc.short))


def dry_allocation(known: Mapping[str, ParcelRecord]) -> Numbering:
    """What a real run would keep: orders the ledger numbered before; new ones are counted, not taken."""
    return Numbering({sn: (rec.tracking_no, rec.id, False) for sn, rec in known.items()})
