"""The small interface a live tracking service sits behind, and the polite way to ask it.

A provider answers one number at a time (`TrackingProvider.query`). `ask_live` asks for every parcel
that can still change, at most once per number per `min_interval` (remembered in the ledger across
runs), stops after a few time-outs in a row, and lets a fatal answer (bad key, no balance) stop the
run with a clear sentence. 快递100 is `tracking.kuaidi100.Kuaidi100`; PDD's own trace API or another
aggregator is one more class beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from pddbatch.errors import PddBatchError
from pddbatch.ledger.events import EventTable
from pddbatch.tracking.events import TrackingEvent

MAX_TIMEOUTS_IN_A_ROW = 3
_EXT = re.compile(r"(?:-|转|【|\[)\s*(\d{3,6})\s*(?:】|\])?\s*$")


class TrackingServiceError(PddBatchError):
    """The tracking service refused every query (bad key, no balance): nothing more can be asked."""


@dataclass(frozen=True)
class LiveQuery:
    tracking_no: str
    carrier: str            # carrier code (ZTO)
    phone: str = ""         # the receiver's phone as the sheet has it


@dataclass
class LiveAnswer:
    """What the service said about one number: events, or an error code and a sentence."""

    tracking_no: str
    events: list[TrackingEvent] = field(default_factory=list)
    error: str = ""         # "" | unknown-number | bad-request | phone-check | busy | timeout | bad-answer
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class TrackingProvider(Protocol):
    name: str                       # stored with the query memory ("kuaidi100")
    min_interval: timedelta         # the service's rule: ask a number at most this often

    def query(self, q: LiveQuery, lang: str = "zh") -> LiveAnswer:
        """Ask about one number; raise TrackingServiceError when no query can succeed."""
        ...


def query_phone(phone: str) -> str:
    """The 4 digits a service checks: a virtual number's extension (…-1234, 【1234】), else the last 4."""
    s = (phone or "").strip()
    m = _EXT.search(s)
    if m:
        return m.group(1)[-4:]
    digits = re.sub(r"\D", "", s)
    return digits[-4:]


@dataclass
class LiveRun:
    """The outcome of asking a service about many numbers."""

    asked: int = 0
    answered: int = 0
    throttled: list[tuple[str, str]] = field(default_factory=list)   # (number, last asked at)
    failed: list[LiveAnswer] = field(default_factory=list)
    events: list[TrackingEvent] = field(default_factory=list)
    stopped: str = ""                                                 # why the run stopped early


def ask_live(provider: TrackingProvider, queries: Sequence[LiveQuery], table: EventTable, now: datetime,
             lang: str = "zh", progress: Callable[[int, int], None] | None = None) -> LiveRun:
    """Ask `provider` about each query not asked within its interval; remember every ask in the ledger."""
    run = LiveRun()
    last = table.last_asked(provider.name, [q.tracking_no for q in queries])
    due: list[LiveQuery] = []
    for q in queries:
        prev = last.get(q.tracking_no, "")
        asked_at = _parse(prev)
        if asked_at is not None and now - asked_at < provider.min_interval:
            run.throttled.append((q.tracking_no, prev))
        else:
            due.append(q)
    timeouts = 0
    asked: list[tuple[str, str, str]] = []
    try:
        for i, q in enumerate(due):
            if progress:
                progress(i, len(due))
            stamp = now.strftime("%Y-%m-%d %H:%M:%S")
            try:
                answer = provider.query(q, lang)
            except TrackingServiceError:
                asked.append((q.tracking_no, stamp, "refused"))
                raise
            run.asked += 1
            asked.append((q.tracking_no, stamp, answer.error or "ok"))
            if answer.ok:
                run.answered += 1
                run.events.extend(answer.events)
                timeouts = 0
                continue
            run.failed.append(answer)
            timeouts = timeouts + 1 if answer.error == "timeout" else 0
            if timeouts >= MAX_TIMEOUTS_IN_A_ROW:
                run.stopped = (f"连续 {timeouts} 次查询超时，已停止查询；其余 {len(due) - i - 1} 个单号稍后再查"
                               if lang != "en" else
                               f"{timeouts} time-outs in a row: stopped; {len(due) - i - 1} numbers left for later")
                break
    finally:     # what was asked is remembered even when the service stopped the run
        table.remember_asked(provider.name, asked)
    return run


def _parse(text: str) -> datetime | None:
    try:
        return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None

