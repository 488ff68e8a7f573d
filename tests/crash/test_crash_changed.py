"""The workbook is saved by someone else while `pddbatch process` runs: the write-back is refused.

A real `pddbatch process` on a few thousand rows is held at each stage (PDDBATCH_TEST_PAUSE), the
file is replaced by a re-sorted copy (the same orders, rows moved, as Excel's sort-and-save does),
and the run is let go. Default run: one stage, 1,000 rows; every stage on 3,000 rows and a forked write-back on 6,000:
`python -m pytest -m slow tests/crash/test_crash_changed.py`. Every time: exit 2 with the plain sentence, the re-sorted file untouched, and
after a rerun on the file as it is now no row's 快递单号 belongs to another order.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.crash.crashkit import EXE, LEDGER, NOW, env, live_numbers, make_shop, process, workbook_numbers
from tests.support import generator, sample_rows

FIGURES = {"runs": 0, "refused": 0, "rows_checked": 0}
STAGES = ["read", "plan", "allocate", "render", "write_back"]


def resorted_copy(path: Path, rows: int, seed: int) -> bytes:
    data = sample_rows(rows, seed=seed, faults=rows >= 160)
    random.Random(seed).shuffle(data)
    tmp = path.with_name("resorted.xlsx")
    generator.write_xlsx(data, tmp)
    out = tmp.read_bytes()
    tmp.unlink()
    return out


def numbers_by_parcel(ledger: Path) -> dict[str, set[str]]:
    """tracking number -> the orders of its parcel (live and voided)."""
    out: dict[str, set[str]] = {}
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as conn:
        for tn, sn in conn.execute("SELECT p.tracking_no, o.order_sn FROM parcels p "
                                   "JOIN parcel_orders o ON o.parcel_id = p.id"):
            out.setdefault(tn, set()).add(sn)
    return out


def assert_no_number_beside_another_order(path: Path) -> None:
    ours = numbers_by_parcel(path.parent / LEDGER)
    shown = workbook_numbers(path)
    for sn, tn in shown.items():
        if tn in ours:
            assert sn in ours[tn], f"row of {sn} shows {tn}, the number of {sorted(ours[tn])}"
    FIGURES["rows_checked"] += len(shown)


def replace_mid_run(folder: Path, stage: str, rows: int, seed: int = 2026) -> None:
    path = make_shop(folder, rows=rows, seed=seed)
    marker = folder / f"paused-{stage}"
    e = {**env(), "PDDBATCH_TEST_PAUSE": f"{stage}:{marker}"}
    proc = subprocess.Popen([*EXE, "process", path.name, "--now", NOW], cwd=folder, env=e, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never reached " + stage
        time.sleep(0.02)
    sorted_bytes = resorted_copy(path, rows, seed)
    tmp = path.with_name("incoming.xlsx")
    tmp.write_bytes(sorted_bytes)
    os.replace(tmp, path)            # what Excel/WPS/a sync client does on save
    marker.unlink()
    out, err = proc.communicate(timeout=300)
    FIGURES["runs"] += 1
    assert proc.returncode == 2, out + err
    assert "被其他程序" in err and "重新运行是安全的" in err and "Traceback" not in err, err
    FIGURES["refused"] += 1
    assert path.read_bytes() == sorted_bytes, "the re-sorted file was written into"
    assert_no_number_beside_another_order(path)
    before = live_numbers(folder / LEDGER)
    rerun = process(path)
    assert rerun.returncode in (0, 1), rerun.stdout + rerun.stderr
    assert_no_number_beside_another_order(path)
    after = live_numbers(folder / LEDGER)
    assert {sn: after[sn] for sn in before} == before, "the rerun changed a number"
    shown = workbook_numbers(path)
    assert all(shown.get(sn) == tn for sn, tn in after.items()), "a numbered order is not shown with its number"


def test_resorted_mid_run_is_refused(tmp_path: Path) -> None:
    replace_mid_run(tmp_path / "render", "render", rows=1000)


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_resorted_at_every_stage_is_refused(tmp_path: Path, stage: str) -> None:
    replace_mid_run(tmp_path / stage, stage, rows=3000)


@pytest.mark.slow
def test_resorted_beside_a_forked_write_back(tmp_path: Path) -> None:
    """6,000 rows: the write-back runs in a child beside the labels; the child refuses too."""
    replace_mid_run(tmp_path / "forked", "write_back", rows=6000)
