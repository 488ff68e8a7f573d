"""Hostile-corpus plumbing: print the corpus summary at the end of the session, -s or not."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    import sys

    runner = sys.modules.get("tests.hostile.runner")
    if runner is None or not runner.RESULTS:
        return
    terminalreporter.section("hostile corpus")
    for line in runner.summary(runner.RESULTS):
        terminalreporter.write_line(line)
