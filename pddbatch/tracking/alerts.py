"""Which parcels need the seller now, most urgent first.

- 未揽收: no pickup scan `unpicked_hours` (default 24, PDD's 虚假发货 clock) after the number was
  issued or uploaded — always the top of the list;
- 疑难 / 拒收: as soon as seen (the buyer or the courier needs a call);
- 停滞: picked up but no new scan for `stalled_hours` (default 48);
- 退回: on its way back or signed back (after-sales and the accountant need it);
- 揽收超时: picked up after 承诺发货时间 (延迟发货), or not picked up and the time has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pddbatch.messages import pick
from pddbatch.tracking.events import TrackingEvent
from pddbatch.tracking.status import Status


@dataclass(frozen=True)
class Thresholds:
    unpicked_hours: float = 24.0
    stalled_hours: float = 48.0


class AlertKind(StrEnum):
    UNPICKED = "unpicked"          # 未揽收
    PROBLEM = "problem"            # 疑难
    REFUSED = "refused"            # 拒收
    STALLED = "stalled"            # 停滞
    RETURNED = "returned"          # 退回 (退回中 or 退回签收)
    LATE_PICKUP = "late-pickup"    # 揽收超时

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def text(self, lang: str = "zh") -> str:
        zh, en = _NAMES[self]
        return pick(lang, zh, en)


_ORDER = list(AlertKind)
_NAMES = {
    AlertKind.UNPICKED: ("未揽收", "not picked up"),
    AlertKind.PROBLEM: ("疑难", "problem"),
    AlertKind.REFUSED: ("拒收", "refused"),
    AlertKind.STALLED: ("停滞", "stalled"),
    AlertKind.RETURNED: ("退回", "returned"),
    AlertKind.LATE_PICKUP: ("揽收超时", "picked up late"),
}


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    hours: float            # how long: since issue (未揽收), without a scan (停滞), past the deadline (揽收超时)

    def what_to_do(self, status: Status, lang: str = "zh") -> str:
        k = self.kind
        if k is AlertKind.UNPICKED:
            return pick(lang, f"已出单 {self.hours:.0f} 小时仍无揽收扫描：马上联系快递网点上门揽收并补扫描，"
                              "否则可能被判虚假发货",
                        f"No pickup scan {self.hours:.0f} h after the number was issued: call the depot to collect "
                        "and scan it now, or PDD may rule it a fake shipment")
        if k is AlertKind.PROBLEM:
            return pick(lang, "问题件：联系快递网点问明原因（地址不详、联系不上收件人等），再联系买家核对地址电话",
                        "Problem parcel: ask the depot why (bad address, buyer unreachable …), then check with the buyer")
        if k is AlertKind.REFUSED:
            return pick(lang, "买家拒收：联系买家确认原因，决定重发或退款；包裹退回后登记入库",
                        "Refused by the buyer: ask why, resend or refund; log the parcel when it comes back")
        if k is AlertKind.STALLED:
            return pick(lang, f"已 {self.hours:.0f} 小时没有新的物流信息：向快递网点催件或投诉，并告知买家",
                        f"No new scan for {self.hours:.0f} h: chase the carrier (or complain) and tell the buyer")
        if k is AlertKind.RETURNED:
            if status is Status.RETURNED:
                return pick(lang, "退件已签收：检查货物并入库，核对售后和退款（对账会用到这条记录）",
                            "The return was signed for: check the goods, restock, match the refund")
            return pick(lang, "包裹正在退回：留意签收，联系买家处理售后或重发",
                        "On its way back: watch for it, settle the after-sale or resend with the buyer")
        return pick(lang, f"揽收晚于承诺发货时间（超时 {self.hours:.0f} 小时）：保留与网点的沟通记录，必要时在后台申诉",
                    f"Picked up {self.hours:.0f} h after the promised ship time: keep the depot's messages, "
                    "appeal in the seller back office if needed")


@dataclass
class ParcelTrack:
    """One parcel as tracking sees it. `events` oldest first; `assess` fills the rest."""

    tracking_no: str
    carrier: str                                   # carrier code (ZTO)
    order_sns: tuple[str, ...]
    issued_at: datetime | None = None              # number issued (ledger) or uploaded (发货时间)
    promised_ship_at: datetime | None = None       # earliest 承诺发货时间 of its orders
    phone: str = ""                                # the receiver's phone (for services that ask)
    events: list[TrackingEvent] = field(default_factory=list)
    status: Status = Status.PENDING
    picked_up_at: datetime | None = None
    alerts: tuple[Alert, ...] = ()
    hours_since_issue: float | None = None

    @property
    def last(self) -> TrackingEvent | None:
        return self.events[-1] if self.events else None

    @property
    def alert(self) -> Alert | None:
        """The most urgent alert (what the sheet's fill and the 异常件 row are about)."""
        return self.alerts[0] if self.alerts else None

    def latest_text(self) -> str:
        last = self.last
        return f"{last.at.strftime('%Y-%m-%d %H:%M')} {last.text}" if last else ""


_ADVANCE = {s: i for i, s in enumerate((Status.PENDING, Status.PICKED_UP, Status.IN_TRANSIT, Status.DELIVERING,
                                        Status.PROBLEM, Status.REFUSED, Status.RETURNING, Status.DELIVERED,
                                        Status.RETURNED))}


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def assess(parcels: Iterable[ParcelTrack], now: datetime, limits: Thresholds = Thresholds()) -> list[ParcelTrack]:
    """Status and alerts of every parcel; returns the parcels with alerts, most urgent first."""
    flagged: list[ParcelTrack] = []
    for p in parcels:
        _assess_one(p, now, limits)
        if p.alerts:
            flagged.append(p)
    return sorted(flagged, key=urgency)


def urgency(p: ParcelTrack) -> tuple[int, float, str]:
    a = p.alert
    return (a.kind.rank if a else len(_ORDER), -(p.hours_since_issue or 0.0), p.tracking_no)


def _assess_one(p: ParcelTrack, now: datetime, limits: Thresholds) -> None:
    events = p.events
    if len(events) > 1 and any(events[i].at > events[i + 1].at for i in range(len(events) - 1)):
        events.sort(key=lambda e: (e.at, _ADVANCE[e.status]))
    if events:
        # scans in the same second: the most advanced one is the state
        latest = max((e for e in events if e.at == events[-1].at), key=lambda e: _ADVANCE[e.status])
        p.status = latest.status
        if latest is not events[-1]:
            events.remove(latest)
            events.append(latest)
    else:
        p.status = Status.PENDING
    p.picked_up_at = next((e.at for e in events if e.status is not Status.PENDING), None)
    p.hours_since_issue = _hours(now, p.issued_at) if p.issued_at else None
    found: list[Alert] = []
    if p.picked_up_at is None and p.hours_since_issue is not None and p.hours_since_issue >= limits.unpicked_hours:
        found.append(Alert(AlertKind.UNPICKED, p.hours_since_issue))
    if p.status is Status.PROBLEM:
        found.append(Alert(AlertKind.PROBLEM, 0.0))
    elif p.status is Status.REFUSED:
        found.append(Alert(AlertKind.REFUSED, 0.0))
    elif p.status in (Status.RETURNING, Status.RETURNED):
        found.append(Alert(AlertKind.RETURNED, 0.0))
    elif p.status.moving and events and _hours(now, events[-1].at) >= limits.stalled_hours:
        found.append(Alert(AlertKind.STALLED, _hours(now, events[-1].at)))
    if p.promised_ship_at is not None:
        picked = p.picked_up_at
        if picked is not None and picked > p.promised_ship_at:
            found.append(Alert(AlertKind.LATE_PICKUP, _hours(picked, p.promised_ship_at)))
        elif picked is None and now > p.promised_ship_at:
            found.append(Alert(AlertKind.LATE_PICKUP, _hours(now, p.promised_ship_at)))
    p.alerts = tuple(sorted(found, key=lambda a: a.kind.rank))


def alert_counts(parcels: Sequence[ParcelTrack]) -> dict[str, int]:
    """Parcels per alert kind (a parcel with two alerts counts under both), every kind listed."""
    out = {k.value: 0 for k in AlertKind}
    for p in parcels:
        for a in p.alerts:
            out[a.kind.value] += 1
    return out
