"""Run one independent stage beside another on the second core (fork), with errors carried back.

The write-back of a big workbook and the label rendering don't depend on each other; on a 2-core
office PC running them side by side saves their overlap. Off Linux (no fork, or fork-unsafe) the
stage simply runs inline when joined.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

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

    def join(self) -> T:
        self.start()
        if self._proc is None:
            return self._fn()
        try:
            message = self._conn.recv()
        except EOFError:
            message = ("crash", "the background stage ended without a result")
        finally:
            self._proc.join()
            self._conn.close()
        if message[0] == "ok":
            return message[1]  # type: ignore[no-any-return]
        if message[0] == "err":
            _, name, zh, en = message
            cls = getattr(errors, name, PddBatchError)
            raise cls(zh, en)
        raise PddBatchError(f"后台步骤异常结束：{message[1]}", f"A background stage failed: {message[1]}")


def can_fork() -> bool:
    """Linux only: macOS system frameworks are not fork-safe (Python itself defaults to spawn there)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _child(fn: Callable[[], Any], conn: Any, nice: int = 0) -> None:
    if nice:
        os.nice(nice)       # lower priority: use the CPU the parent's more urgent work leaves
    try:
        result = fn()
    except PddBatchError as exc:
        conn.send(("err", type(exc).__name__, exc.message, exc.message_en))
    except BaseException as exc:  # carried back as a sentence; the parent decides
        conn.send(("crash", f"{type(exc).__name__}: {str(exc)[:300]}"))
    else:
        conn.send(("ok", result))
    finally:
        conn.close()
