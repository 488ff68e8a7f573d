"""Crash-test plumbing: print what the kill and concurrency runs went through, -s or not."""

from __future__ import annotations

import sys
from typing import Any


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    lines = []
    kill = sys.modules.get("tests.crash.test_crash_kill")
    if kill is not None and kill.KILLS["runs"]:
        lines.append("SIGKILL runs: " + ", ".join(f"{k} {v}" for k, v in kill.KILLS.items()))
    conc = sys.modules.get("tests.crash.test_crash_concurrency")
    if conc is not None and conc.FIGURES["parallel_runs"]:
        lines.append("parallel runs: " + ", ".join(f"{k} {v}" for k, v in conc.FIGURES.items()))
    changed = sys.modules.get("tests.crash.test_crash_changed")
    if changed is not None and changed.FIGURES["runs"]:
        lines.append("workbook changed mid-run: " + ", ".join(f"{k} {v}" for k, v in changed.FIGURES.items()))
    interrupt = sys.modules.get("tests.crash.test_crash_interrupt")
    if interrupt is not None and interrupt.SIGNALS["runs"]:
        lines.append("SIGINT/SIGTERM runs: " + ", ".join(f"{k} {v}" for k, v in interrupt.SIGNALS.items()))
    if lines:
        terminalreporter.section("crash tests")
        for line in lines:
            terminalreporter.write_line(line)
