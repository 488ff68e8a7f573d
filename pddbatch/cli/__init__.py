"""The terminal face: `pddbatch …` commands (click). Every command translates arguments into one
library call and its result into text or JSON and an exit code.

`app` holds the group and what all commands share; `commands` registers one module per kind of
work. `run()` is the installed entry point. Ctrl-C and SIGTERM while the commands are still being
imported give the plain 已中断 sentence too, never a traceback: quiet handlers are installed first
thing (and restored after the import, so importing this package changes nothing for its caller).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from typing import NoReturn

_NOT_STARTED = ("已中断：还没有开始处理，没有分配任何单号，工作簿未改动；可以直接重新运行。",
                "Interrupted before anything started: no number allocated, the workbook unchanged; just run again.")


def _quiet_stop(signum: int, frame: object) -> None:
    english = "--lang=en" in sys.argv or ("--lang" in sys.argv and "en" in sys.argv) \
        or os.environ.get("PDDBATCH_LANG", "").strip().lower() == "en"
    sys.stderr.write(("Error: " + _NOT_STARTED[1]) if english else ("错误：" + _NOT_STARTED[0]))
    sys.stderr.write("\n")
    os._exit(2)     # nothing to clean up yet; don't unwind half-done imports into a traceback


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_before = {s: signal.signal(s, _quiet_stop) for s in _SIGNALS}


def run() -> None:
    """`pddbatch`: the commands, with every stop and every error as one plain sentence."""
    for s in _SIGNALS:
        signal.signal(s, _quiet_stop)
    from pddbatch.cli.app import run as run_app
    from pddbatch.cli.commands import main  # noqa: F401  (registers every command)

    signal.signal(signal.SIGINT, signal.default_int_handler)     # from here the run says 已中断 itself
    signal.signal(signal.SIGTERM, _raise_interrupt)
    status: object = 0
    try:
        run_app()
    except SystemExit as done:      # (app.run turns every error into one)
        status = done.code
    finally:        # the run has answered (its exit code is set): a stop now would only kill the exit itself
        for s in _SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        if not os.environ.get("PDDBATCH_DEBUG"):
            sys.unraisablehook = _after_answer
    leave(status)


def leave(status: object) -> NoReturn:
    """End the process with `status` (as `sys.exit` takes it), without the interpreter's teardown.

    The run has answered and closed what it opened; what is left is freeing its heap object by
    object (a 100,000-order run, with what `cli.app.KEPT` holds: ~0.3 s after the answer, for nothing). The exit handlers still run
    (temporary folders registered for removal, multiprocessing's bookkeeping) and the output is
    flushed first. mypy ends the same way. Under PDDBATCH_DEBUG, when coverage is measuring, or
    while a thread of ours is still running (the ordinary exit waits for it), the ordinary exit.
    """
    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:
        sys.stderr.write(f"{status}\n")
        code = 1
    threading = sys.modules.get("threading")
    if os.environ.get("PDDBATCH_DEBUG") or "coverage" in sys.modules or \
            (threading is not None and any(not t.daemon and t is not threading.main_thread() for t in threading.enumerate())):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):      # a reader that went away: nothing more can be said to it
            code = code or 1
    os._exit(code)


def _after_answer(unraisable: object) -> None:
    """Objects a stop abandoned mid-write (a zip with a member still open) are collected as the process
    ends and complain in `__del__`; the run has already said what happened, so nothing more is printed."""


def __getattr__(name: str) -> object:
    if name == "main":      # `from pddbatch.cli import main`: the click group with every command
        from pddbatch.cli.commands import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


for _s, _h in _before.items():
    signal.signal(_s, _h)

__all__ = ["main", "run"]
