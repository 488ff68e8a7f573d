"""Alert thresholds at their edges (plain data in, plain data out)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pddbatch.tracking.alerts import AlertKind, ParcelTrack, Thresholds, assess
from pddbatch.tracking.events import TrackingEvent
from pddbatch.tracking.status import Status

T0 = datetime(2026, 11, 26, 9, 0)
H = timedelta(hours=1)


def _p(*events: tuple[timedelta, Status], promised: datetime | None = None, no: str = "N1") -> ParcelTrack:
    return ParcelTrack(no, "ZTO", ("O1",), issued_at=T0, promised_ship_at=promised,
                       events=[TrackingEvent(no, T0 + d, s.text(), s) for d, s in events])


def _kinds(p: ParcelTrack) -> list[str]:
    return [a.kind.value for a in p.alerts]


def test_unpicked_at_the_threshold() -> None:
    young, old = _p(no="A"), _p(no="B")
    assess([young], T0 + 23.9 * H)
    assess([old], T0 + 24 * H)
    assert _kinds(young) == [] and young.status is Status.PENDING
    assert _kinds(old) == ["unpicked"] and old.alerts[0].hours == 24
    pending_scan = _p((H, Status.PENDING))
    assess([pending_scan], T0 + 30 * H)
    assert _kinds(pending_scan) == ["unpicked"]
    assess([old], T0 + 24 * H, Thresholds(unpicked_hours=48))
    assert _kinds(old) == []


def test_stalled_only_while_moving() -> None:
    moving = _p((H, Status.PICKED_UP), (2 * H, Status.IN_TRANSIT))
    assess([moving], T0 + 49.9 * H)
    assert _kinds(moving) == []
    assess([moving], T0 + 50 * H)
    assert _kinds(moving) == ["stalled"]
    done = _p((H, Status.PICKED_UP), (2 * H, Status.DELIVERED))
    assess([done], T0 + 500 * H)
    assert _kinds(done) == [] and done.status is Status.DELIVERED


def test_late_pickup_and_order() -> None:
    promised = T0 + 2 * H
    on_time = _p((H, Status.PICKED_UP), promised=promised, no="A")
    late = _p((3 * H, Status.PICKED_UP), promised=promised, no="B")
    never = _p(promised=promised, no="C")
    problem = _p((H, Status.PICKED_UP), (5 * H, Status.PROBLEM), no="D")
    flagged = assess([on_time, late, never, problem], T0 + 30 * H)
    assert [p.tracking_no for p in flagged] == ["C", "D", "B"]
    assert _kinds(never) == ["unpicked", "late-pickup"] and _kinds(late) == ["late-pickup"]
    assert late.alerts[0].hours == 1 and "申诉" in late.alerts[0].what_to_do(late.status)


def test_latest_scan_wins_even_out_of_order() -> None:
    p = _p((5 * H, Status.DELIVERED), (H, Status.PICKED_UP), (3 * H, Status.IN_TRANSIT))
    assess([p], T0 + 6 * H)
    assert p.status is Status.DELIVERED and p.picked_up_at == T0 + H
    same_second = _p((2 * H, Status.DELIVERING), (2 * H, Status.DELIVERED), (H, Status.PICKED_UP))
    assess([same_second], T0 + 3 * H)
    assert same_second.status is Status.DELIVERED and same_second.last is not None
    assert same_second.last.status is Status.DELIVERED


def test_returns_refusals_problems_at_once() -> None:
    for status, kind in ((Status.REFUSED, AlertKind.REFUSED), (Status.RETURNING, AlertKind.RETURNED),
                         (Status.RETURNED, AlertKind.RETURNED), (Status.PROBLEM, AlertKind.PROBLEM)):
        p = _p((H, Status.PICKED_UP), (2 * H, status))
        assess([p], T0 + 2 * H)
        assert p.alert is not None and p.alert.kind is kind and p.alert.what_to_do(status, "en")
