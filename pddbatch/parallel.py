"""Run one independent stage beside another on the second core (fork), with errors carried back.

The write-back of a big workbook and the label rendering don't depend on each other; on a 2-core
office PC running them side by side saves their overlap. Off Linux (no fork, or fork-unsafe) the
stage simply runs inline when joined. `can_fork()` is the one answer to "may we fork here?".

A child never outlives its parent: it is killed when the parent dies (Linux PR_SET_PDEATHSIG), and
`cancel()` stops it when the run is interrupted (it writes atomically, so its file stays as it was).
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from pddbatch import errors
from pddbatch.errors import PddBatchError

T = TypeVar("T")


class Background(Generic[T]):
    """`fn` run in a forked child from `start()` (or inline when joined); `join()` returns its result."""

    def __init__(self, fn: Callable[[], T], *, fork: bool = True, start: bool = True, nice: int = 0) -> None:
        self._fn = fn
        self._nice = nice
        self._proc: Any = None
        self._conn: Any = None
        self._fork = fork and can_fork()
        self._started = False
        if start:
            self.start()

    @classmethod
    def deferred(cls, fn: Callable[[], T]) -> Background[T]:
        """Run `fn` inline when joined (small jobs, or state a child can't share)."""
        return cls(fn, fork=False, start=False)

    def start(self) -> None:
        """Fork now (idempotent); without fork nothing happens until `join()`."""
        if self._started:
            return
        self._started = True
        if self._fork:
            ctx = multiprocessing.get_context("fork")
            parent, child = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(target=_child, args=(self._fn, child, self._nice), daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent

    def cancel(self) -> None:
        """Stop a forked child that has not finished (interrupted run); an inline stage never runs."""
        self._started = True
        if self._proc is None:
            self._fn = _cancelled
            return
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        self._conn.close()
        self._proc = None
        self._fn = _cancelled

    def join(self) -> T:
        self.start()
        if self._proc is None:
            return self._fn()
        try:
            message = self._conn.recv()
        except EOFError:
            message = ("crash", "the background stage ended without a result")
        except BaseException:
            # not received (stopped, out of memory): a child still writing its result would block on
            # the pipe for good, and the join below with it
            if self._proc.is_alive():
                self._proc.terminate()
            raise
        finally:
            self._proc.join()
            self._conn.close()
        return unwrap(message)  # type: ignore[no-any-return]


class Handoff(Generic[T]):
    """One value for a stage forked before the value existed: the parent `give`s it once, the stage
    `take`s it (in a forked child from a pipe made before the fork; inline, as it was given).

    The write-back is forked before the render pool (a process with the pool's threads must not fork)
    but its plan is made after the pool has started: the parent works out the rows' outcomes while
    the workers draw, instead of before them.
    """

    def __init__(self) -> None:
        self.given = False
        self._value: T | None = None
        self._recv: Any = None
        self._send: Any = None

    def across_fork(self) -> None:
        """The stage taking the value will be a forked child: call before forking it (the value then
        goes through a pipe the child inherits; without this it stays in this process)."""
        self._recv, self._send = multiprocessing.get_context("fork").Pipe(duplex=False)

    def give(self, value: T) -> None:
        if self.given:
            raise RuntimeError("a handoff takes one value")
        self.given = True
        self._value = value
        if self._send is not None:
            with contextlib.suppress(OSError):     # the stage has gone (killed): its join tells
                self._send.send(value)
            self._send.close()

    def take(self) -> T:
        if self.given:                       # inline: this process gave it
            return cast(T, self._value)
        if self._recv is None:
            raise RuntimeError("nothing was given")
        self._send.close()        # a forked child: the parent sends it (or closes: EOFError, not a hang)
        return cast(T, self._recv.recv())


def outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    """`fn()` as a message a parent process can take: ("ok", result), ("err", …) for our own errors
    (rebuilt as the same class by `unwrap`), ("crash", sentence) for anything else."""
    try:
        result = fn()
    except PddBatchError as exc:
        return ("err", type(exc).__module__, type(exc).__name__, exc.message, exc.message_en)
    except MemoryError:
        oom = errors.OutOfMemory()
        return ("err", errors.__name__, "OutOfMemory", oom.message, oom.message_en)
    except BaseException as exc:  # carried back as a sentence; the parent decides
        return ("crash", f"{type(exc).__name__}: {str(exc)[:300]}")
    return ("ok", result)


def unwrap(message: tuple[Any, ...]) -> Any:
    """The result an `outcome` message carries, or its error raised here."""
    if message[0] == "ok":
        return message[1]
    if message[0] == "err":
        _, module, name, zh, en = message
        raise _error_class(module, name)(zh, en)
    raise PddBatchError(f"后台步骤异常结束：{message[1]}", f"A background stage failed: {message[1]}")


def _cancelled() -> Any:
    raise PddBatchError("后台步骤已取消", "The background stage was cancelled")


def _error_class(module: str, name: str) -> type[PddBatchError]:
    """The child's PddBatchError subclass, found again in the parent (same code: a fork)."""
    with contextlib.suppress(Exception):
        cls = getattr(importlib.import_module(module), name)
        if isinstance(cls, type) and issubclass(cls, PddBatchError):
            return cls
    found = getattr(errors, name, PddBatchError)
    return found if isinstance(found, type) and issubclass(found, PddBatchError) else PddBatchError


def die_with_parent() -> None:
    """Linux: the kernel kills this child when the parent dies (a killed run leaves no writer behind)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:       # the parent died before prctl took effect
        os._exit(1)


def can_fork() -> bool:
    """Linux only (macOS system frameworks are not fork-safe; Python itself defaults to spawn there),
    and only from a process with one thread: a child forked while another thread holds a lock — the
    import lock, say — can hang for good (a host such as a server running the Excel face has threads)."""
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


def _child(fn: Callable[[], Any], conn: Any, nice: int = 0) -> None:
    die_with_parent()
    if nice:
        os.nice(nice)       # lower priority: use the CPU the parent's more urgent work leaves
    try:
        conn.send(outcome(fn))
    finally:
        conn.close()
