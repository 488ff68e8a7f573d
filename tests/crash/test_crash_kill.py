"""SIGKILL a real `pddbatch process` at seeded random moments; nothing may be lost or doubled.

After every kill: `pddbatch doctor` passes; the workbook opens (openpyxl and python-calamine) and is
either byte-identical to the old version or a complete new version (every number it shows is the
ledger's number for that order, and every numbered order is shown); a rerun completes and keeps
every number handed out before the kill.

Short version (6 kills) in the normal suite; 100 kills: `python -m pytest -m slow tests/crash`.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from tests.crash.crashkit import (
    LEDGER,
    NOW,
    assert_clean_exit,
    doctor,
    ledger_counts,
    live_numbers,
    make_shop,
    process,
    start,
    workbook_numbers,
    zip_sound,
)

KILLS: dict[str, int] = {"runs": 0, "killed_mid_run": 0, "finished_first": 0, "old_bytes": 0, "new_version": 0}


def baseline_seconds(tmp: Path) -> float:
    path = make_shop(tmp / "baseline")
    t0 = time.perf_counter()
    assert_clean_exit(process(path))
    return time.perf_counter() - t0


def kill_once(folder: Path, delay: float) -> None:
    path = make_shop(folder)
    old = path.read_bytes()
    exported = workbook_numbers(path)        # 已发货 rows carry PDD's numbers already
    proc = start(["process", path.name, "--now", NOW], folder)
    time.sleep(delay)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    KILLS["runs"] += 1
    KILLS["finished_first" if finished else "killed_mid_run"] += 1
    ledger = folder / LEDGER

    # 1. the ledger is sound (a run left 'running' is at most a warning)
    before = live_numbers(ledger)
    if ledger.exists():
        doc = doctor(ledger)
        assert doc.returncode == 0, doc.stdout + doc.stderr
        counts = ledger_counts(ledger)
        assert counts["parcels"] == counts["distinct_numbers"] and counts["used"] == counts["live_parcels"]

    # 2. the workbook is the old one or a complete new one, never a mix
    data = path.read_bytes()
    if data == old:
        KILLS["old_bytes"] += 1
    else:
        KILLS["new_version"] += 1
        zip_sound(path)
        shown = {sn: tn for sn, tn in workbook_numbers(path).items() if exported.get(sn) != tn}
        assert shown, "a changed workbook shows no numbers"
        assert all(before.get(sn) == tn for sn, tn in shown.items()), "workbook numbers not in the ledger"
        assert set(shown) == set(before), "the workbook shows some numbered orders but not others"

    # 3. a rerun completes and keeps every number given before the kill
    rerun = process(path)
    assert_clean_exit(rerun)
    after = live_numbers(ledger)
    assert {sn: after.get(sn) for sn in before} == before, "a rerun changed an order's number"
    assert {sn: tn for sn, tn in workbook_numbers(path).items() if exported.get(sn) != tn} == after
    assert doctor(ledger).returncode == 0
    KILLS["tmp_left"] = KILLS.get("tmp_left", 0) + sum(1 for p in folder.iterdir() if p.suffix == ".pddbatch-tmp")


def kill_rounds(tmp_path: Path, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    span = baseline_seconds(tmp_path) * 1.15
    for i in range(rounds):
        kill_once(tmp_path / f"round{i}", rng.uniform(0.05, span))


def test_sigkill_short(tmp_path: Path) -> None:
    kill_rounds(tmp_path, 6, seed=8)
    assert KILLS["killed_mid_run"] >= 3, KILLS


@pytest.mark.slow
def test_sigkill_hundred(tmp_path: Path) -> None:
    kill_rounds(tmp_path, 100, seed=2026)
    print("kill runs:", KILLS)
    assert KILLS["killed_mid_run"] >= 60, KILLS
