"""China time: every deadline and "now" in pddbatch is Asia/Shanghai, whatever the PC's zone.

PDD's exports write times as naive China wall-clock time (承诺发货时间 2026-11-27 10:00:00), so
"now" must be China wall-clock time too, or a seller whose laptop is set to UTC or California
would see deadlines 8 or 16 hours off. China has kept UTC+8 without daylight saving since 1991,
so a fixed offset is exact and needs no time-zone database (Windows has none without `tzdata`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_now() -> datetime:
    """The current China wall-clock time, naive (comparable with the export's times)."""
    return datetime.now(CHINA).replace(tzinfo=None)
