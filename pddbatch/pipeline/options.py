"""What a face asks of a run (`Options`), and the small machinery every run shares: progress, stage clock."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Generic, Protocol, TypeVar

Progress = Callable[[str, int, int], None]


@dataclass
class Options:
    """What a face asks for. Unset values come from the config."""

    config: Path | None = None
    sheet: str | None = None
    lang: str | None = None
    dry_run: bool = False
    out_dir: Path | None = None
    label_size: str | None = None
    zpl: bool | None = None
    now: datetime | None = None
    backup: bool = True
    extra: dict[str, object] = field(default_factory=dict)
    # the run's working state (rows, orders, plan) goes here instead of being freed when the call
    # returns: a face that ends the process right after (the CLI) skips freeing a big day's millions
    # of objects one by one (100,000 orders: ~0.2 s after the answer is ready)
    keep: list[object] | None = field(default=None, repr=False, compare=False)


class Timed(Protocol):
    """A run's result that keeps seconds per stage."""

    timings: dict[str, float]


R = TypeVar("R", bound=Timed)


class Clock(Generic[R]):
    """Seconds spent per stage, summed into `result.timings` (a run's BatchResult, a TrackResult)."""

    def __init__(self, result: R) -> None:
        self.result = result

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.result.timings[name] = self.result.timings.get(name, 0.0) + time.perf_counter() - t0


@contextmanager
def no_cycle_collector() -> Iterator[None]:
    """Pause Python's cycle collector for the run.

    A run builds a few million small objects and makes almost no reference cycles; the collector's
    full passes over that heap cost ~15% of a 100,000-order run (measured), and in forked label
    workers they also defeat copy-on-write. Reference counting still frees everything.

    While the collector is off, every object the run makes and keeps stays in the youngest
    generation, so the first allocation after turning it back on walked them all (a 100,000-order
    run: 0.06 s in its serial tail). They are moved to the oldest generation instead (freeze +
    unfreeze, two list splices), where the next full collection looks at them as usual. Not when the
    host program froze objects of its own: unfreezing would hand those back to the collector.
    """
    was = gc.isenabled()
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if not frozen and not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def no_progress(stage: str, done: int, total: int) -> None:
    return None


PAUSE_ENV = "PDDBATCH_TEST_PAUSE"      # "<stage>:<file>": the fault-injection tests stop a real run here


def checkpoint(stage: str) -> None:
    """Where a run may be held for a fault-injection test (`PDDBATCH_TEST_PAUSE=<stage>:<file>`).

    At that stage the run writes `<file>` and waits (at most a minute) until the test removes it.
    Costs one environment lookup otherwise.
    """
    spec = os.environ.get(PAUSE_ENV)
    if not spec or not spec.startswith(stage + ":"):
        return
    marker = Path(spec.split(":", 1)[1])
    marker.write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + 60
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
