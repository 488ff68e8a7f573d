"""The print room's workers: forked processes that share out one run's drawing.

A big day's documents are many label runs (2,500 labels each, for every label file) and a few whole
documents (the A4 tables, the two workbooks). `RenderPool` forks its workers once, with everything
they need already in memory (parcels are inherited, never pickled), and hands them tasks from one
queue: the long single documents first, then the label runs in file order. Neither core waits while
the other still has work — a lane of its own per document kind left one core idle at the end of a
big run (50,000 one-label orders: the packing slips ran alone for the last 2.7 s).

The parent writes each label file from its runs in order as they arrive (labels.write_label_file).
A worker draws its runs of one file in file order (one queue), which the ZPL writer relies on. With
a folder for part files (`spool_dir`; the run's documents use `spool_folder()`, the system's temp
folder), a worker writes a run's ZPL labels (~5 KB a label, most of a run's bytes) to a part file in a
hidden folder there and the parent copies them in the kernel: 50,000 labels no longer cross a pipe as
277 MB of pickled strings. The temp folder, not the output folder: an output folder on a network
drive would carry every label three times.
Errors come back as the parent's own exception types; a stopped or failed run kills the workers.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType
from typing import Any

from pddbatch.parallel import die_with_parent, outcome, unwrap
from pddbatch.render.labels import LabelJob, draw_run, run_bounds
from pddbatch.render.labels_zpl import ZplGlyphs


@dataclass
class _State:
    pool: int
    jobs: Sequence[LabelJob]
    tasks: Sequence[Callable[[], Any]]
    spool: Path | None = None     # where workers leave their runs' ZPL labels for the parent


SPOOL_PREFIX = ".pddbatch-zpl-"


# Set in the parent before the workers fork; read in the workers.
_STATE: _State | None = None
_POOL_IDS = itertools.count(1)
_WORKER_GLYPHS: dict[tuple[int, int], ZplGlyphs] = {}     # in a worker: (pool, job) -> its ZPL glyphs


def _label_run(args: tuple[int, int, int, int]) -> tuple[Any, ...]:
    pool, j, lo, hi = args
    state = _STATE
    assert state is not None and state.pool == pool, "workers are forked after the pool's state is set"
    job = state.jobs[j]
    glyphs = None
    if job.zpl:
        glyphs = _WORKER_GLYPHS.get((pool, j))
        if glyphs is None:
            glyphs = _WORKER_GLYPHS[(pool, j)] = ZplGlyphs(job.fonts())
    spool = state.spool / f"{j}-{lo}.zpl" if state.spool is not None and job.zpl else None
    return outcome(lambda: draw_run(job, lo, hi, glyphs, spool))


def _task(args: tuple[int, int]) -> tuple[Any, ...]:
    pool, k = args
    state = _STATE
    assert state is not None and state.pool == pool, "workers are forked after the pool's state is set"
    return outcome(state.tasks[k])


def taken(pending: list[Pending]) -> Iterator[Any]:
    """The results in order, each let go of once taken (a big file's drawn runs are not all kept)."""
    pending.reverse()
    while pending:
        yield pending.pop().result()


class Pending:
    """A task's result once its worker is done: `result()` re-raises the worker's error here."""

    def __init__(self, future: Future[tuple[Any, ...]]) -> None:
        self._future = future

    def result(self) -> Any:
        return unwrap(self._future.result())


class RenderPool:
    """`workers` forked processes for `jobs` (label files) and `tasks` (whole documents).

    Use as a context manager; the workers fork at the first submit, so submit before starting any
    thread of your own. Leaving it by an exception kills the workers at once (their files are
    written atomically, so nothing half-written is left under a real name).
    """

    def __init__(self, workers: int, jobs: Sequence[LabelJob], tasks: Sequence[Callable[[], Any]] = (), *,
                 spool_dir: Path | None = None) -> None:
        self.workers = workers
        self.state = _State(next(_POOL_IDS), jobs, tasks)
        self.spool_dir = spool_dir
        self._ex: ProcessPoolExecutor | None = None

    def __enter__(self) -> RenderPool:
        global _STATE
        for job in self.state.jobs:
            job.prepare()      # layout and font metrics loaded once here, inherited by every worker
        if self.spool_dir is not None and any(job.zpl for job in self.state.jobs):
            self.state.spool = _spool(self.spool_dir)
        _STATE = self.state
        gc.freeze()            # keep the parent's objects out of the workers' GC scans (and copy-on-write)
        self._ex = ProcessPoolExecutor(self.workers, mp_context=get_context("fork"), initializer=die_with_parent)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        global _STATE
        ex, self._ex = self._ex, None
        try:
            if ex is not None:
                if kind is not None:
                    _kill(ex)
                ex.shutdown(wait=True, cancel_futures=True)
        finally:
            _STATE = None
            gc.unfreeze()
            if self.state.spool is not None:
                shutil.rmtree(self.state.spool, ignore_errors=True)

    def task(self, k: int) -> Pending:
        """Start whole document `k` (its callable's return value comes back pickled)."""
        assert self._ex is not None
        return Pending(self._ex.submit(_task, (self.state.pool, k)))

    def label_runs(self, j: int) -> list[Pending]:
        """Start every run of label file `j`, in file order."""
        assert self._ex is not None
        pool, total = self.state.pool, len(self.state.jobs[j].parcels)
        return [Pending(self._ex.submit(_label_run, (pool, j, lo, hi))) for lo, hi in run_bounds(total)]


def _kill(ex: ProcessPoolExecutor) -> None:
    """Stop the workers now rather than after their current task (a stopped run must stop)."""
    terminate = getattr(ex, "terminate_workers", None)      # Python 3.14
    if callable(terminate):
        terminate()
        return
    for proc in list((getattr(ex, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()


def spool_folder() -> Path:
    """Where a run's workers leave their part files: the system's temp folder (TMPDIR), local to
    this PC; sendfile copies across file systems."""
    return Path(tempfile.gettempdir())


def _spool(folder: Path) -> Path | None:
    """A new hidden folder for this pool's part files in `folder`, after removing any a killed run
    left behind (named for its process, which is gone). None if it can't be made: the runs come back
    by pipe."""
    with contextlib.suppress(OSError):
        for old in folder.glob(f"{SPOOL_PREFIX}*"):
            pid = old.name[len(SPOOL_PREFIX):].split("-")[0]
            if pid.isdigit() and not _running(int(pid)):
                shutil.rmtree(old, ignore_errors=True)
    try:
        return Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=folder))
    except OSError:
        return None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True         # someone else's process
    return True
