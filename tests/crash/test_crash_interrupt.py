"""Ctrl-C (SIGINT to the process group) and SIGTERM at seeded random moments of a real `pddbatch process`.

After every signal: a plain 已中断 message (exit 2, no traceback) unless the run had finished; no run
left `running` in the ledger (an interrupted one says so in its summary); the workbook lock released;
no process of the run's group still alive; the workbook old or a complete new version; a rerun
completes with the same numbers.

Short version (8 signals) in the normal suite; 60: `python -m pytest -m slow tests/crash/test_crash_interrupt.py`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.crash.crashkit import (
    EXE,
    LEDGER,
    NOW,
    assert_clean_exit,
    doctor,
    env,
    live_numbers,
    make_shop,
    process,
    workbook_numbers,
    zip_sound,
)

SIGNALS: dict[str, int] = {"runs": 0, "interrupted": 0, "finished_first": 0, "before_run": 0, "old_bytes": 0,
                           "new_version": 0, "numbers_checked": 0}


def group_gone(pgid: int, wait: float = 3.0) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def runs(ledger: Path) -> list[tuple[str, dict[str, object]]]:
    if not ledger.exists():
        return []
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():
            return []
        return [(s, json.loads(j)) for s, j in conn.execute("SELECT status, summary FROM runs ORDER BY id")]


def signal_once(folder: Path, delay: float, how: str) -> None:
    path = make_shop(folder)
    old = path.read_bytes()
    exported = workbook_numbers(path)
    proc = subprocess.Popen([*EXE, "process", path.name, "--now", NOW], cwd=folder, env=env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
        if how == "SIGINT":
            os.killpg(proc.pid, signal.SIGINT)       # Ctrl-C in a terminal: the whole foreground group
        else:
            proc.send_signal(signal.SIGTERM)          # a service manager / kill: the parent only
    out, err = proc.communicate(timeout=120)
    SIGNALS["runs"] += 1
    ledger = folder / LEDGER
    recorded = runs(ledger)

    # 1. a plain sentence; the run recorded; lock and processes gone
    startup = proc.returncode == -signal.SIGTERM or ("KeyboardInterrupt" in err and "pddbatch/pipeline" not in err)
    done = bool(recorded) and recorded[-1][0] == "done"
    if finished or proc.returncode in (0, 1) or (done and proc.returncode == -signal.SIGTERM):
        # (a SIGTERM after the run was complete, while the summary was printed: the default action)
        SIGNALS["finished_first"] += 1
    elif startup and not recorded:
        # the signal came while Python was still importing pddbatch (before any of our code could answer):
        # the default action, and nothing was done
        SIGNALS["before_run"] += 1
        assert path.read_bytes() == old and not (folder / LEDGER).exists(), err
    else:
        assert "Traceback" not in out + err and "内部错误" not in out + err, err
        assert proc.returncode == 2 and "已中断" in err, (proc.returncode, out, err)
        SIGNALS["interrupted"] += 1
    assert all(status != "running" for status, _ in recorded), recorded
    if recorded and recorded[-1][0] == "failed":
        assert recorded[-1][1].get("interrupted") is True, recorded[-1]
    assert not list(folder.glob(".*.pddbatch.lock")), "the workbook lock was left behind"
    assert group_gone(proc.pid), "a process of the run outlived it"

    # 2. the ledger is sound; the workbook is the old one or a complete new one
    before = live_numbers(ledger)
    if ledger.exists():
        doc = doctor(ledger)
        assert doc.returncode == 0, doc.stdout + doc.stderr
    if path.read_bytes() == old:
        SIGNALS["old_bytes"] += 1
    else:
        SIGNALS["new_version"] += 1
        zip_sound(path)
        shown = {sn: tn for sn, tn in workbook_numbers(path).items() if exported.get(sn) != tn}
        assert shown and shown == before, "a new workbook must show exactly the ledger's numbers"

    # 3. a rerun completes with the same numbers
    rerun = process(path)
    assert_clean_exit(rerun)
    after = live_numbers(ledger)
    assert {sn: after.get(sn) for sn in before} == before, "a rerun changed an order's number"
    assert {sn: tn for sn, tn in workbook_numbers(path).items() if exported.get(sn) != tn} == after
    SIGNALS["numbers_checked"] += len(after)
    assert all(status != "running" for status, _ in runs(ledger))


def signal_rounds(tmp_path: Path, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    base = make_shop(tmp_path / "baseline")
    t0 = time.perf_counter()
    assert_clean_exit(process(base))
    span = (time.perf_counter() - t0) * 1.1
    for i in range(rounds):
        signal_once(tmp_path / f"round{i}", rng.uniform(0.3, span), "SIGINT" if i % 2 == 0 else "SIGTERM")


def test_interrupt_short(tmp_path: Path) -> None:
    signal_rounds(tmp_path, 8, seed=14)
    assert SIGNALS["interrupted"] >= 3, SIGNALS


@pytest.mark.slow
def test_interrupt_sixty(tmp_path: Path) -> None:
    signal_rounds(tmp_path, 60, seed=2026)
    assert SIGNALS["interrupted"] >= 30, SIGNALS
