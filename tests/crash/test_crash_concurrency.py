"""Concurrent `pddbatch process` runs: same workbook (one waits or refuses clearly); different workbooks
sharing one ledger and pool (no number twice, pool counts add up, doctor passes).

Normal suite: 3 rounds of 4 parallel runs. Slow: 20 rounds of 6 (`python -m pytest -m slow tests/crash`).
"""

from __future__ import annotations

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
)

FIGURES: dict[str, int] = {"parallel_runs": 0, "rounds": 0, "parcels": 0, "duplicates_found": 0,
                           "same_workbook_refused": 0, "same_workbook_waited": 0}


def test_two_runs_on_one_workbook(tmp_path: Path) -> None:
    path = make_shop(tmp_path)
    procs = [start(["process", path.name, "--now", NOW], tmp_path) for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    codes = [p.returncode for p in procs]
    for (out, err), rc in zip(outs, codes, strict=True):
        assert "Traceback" not in out + err and "内部错误" not in out + err
        assert rc in (0, 1, 2), out + err
    assert any(rc in (0, 1) for rc in codes), outs
    for (_, err), rc in zip(outs, codes, strict=True):
        if rc == 2:
            FIGURES["same_workbook_refused"] += 1
            assert "正在" in err or "占用" in err or "锁" in err or "其他" in err, err
        else:
            FIGURES["same_workbook_waited"] += 1
    numbers = live_numbers(tmp_path / LEDGER)
    counts = ledger_counts(tmp_path / LEDGER)
    assert counts["parcels"] == counts["distinct_numbers"] and counts["used"] == counts["live_parcels"]
    assert doctor(tmp_path / LEDGER).returncode == 0
    assert_clean_exit(process(path))
    assert live_numbers(tmp_path / LEDGER) == numbers


def parallel_round(folder: Path, n: int, seed: int) -> None:
    """n workbooks in one folder (one config, one ledger, one pool), processed at the same time."""
    books = [make_shop(folder, rows=60, seed=seed * 100 + i, name=f"orders-{i}.xlsx") for i in range(n)]
    exported = {b.name: workbook_numbers(b) for b in books}
    procs = [start(["process", b.name, "--now", NOW], folder) for b in books]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode in (0, 1), out + err
        assert "Traceback" not in out + err and "内部错误" not in out + err
    FIGURES["parallel_runs"] += n
    FIGURES["rounds"] += 1
    ledger = folder / LEDGER
    numbers = live_numbers(ledger)
    counts = ledger_counts(ledger)
    FIGURES["parcels"] += counts["live_parcels"]
    dupes = counts["parcels"] - counts["distinct_numbers"]
    FIGURES["duplicates_found"] += dupes
    assert dupes == 0
    assert counts["used"] == counts["live_parcels"], counts        # pool counts add up
    per_parcel = {}
    for sn, tn in numbers.items():
        per_parcel.setdefault(tn, set()).add(sn)
    assert len(per_parcel) == counts["live_parcels"]
    shown: dict[str, str] = {}
    for b in books:   # every workbook shows exactly the ledger's numbers for its orders
        mine = {sn: tn for sn, tn in workbook_numbers(b).items() if exported[b.name].get(sn) != tn}
        assert all(numbers[sn] == tn for sn, tn in mine.items())
        assert not set(mine) & set(shown)
        shown.update(mine)
    assert shown == numbers
    doc = doctor(ledger)
    assert doc.returncode == 0, doc.stdout


def test_parallel_workbooks_share_one_pool(tmp_path: Path) -> None:
    for r in range(3):
        parallel_round(tmp_path / f"round{r}", 4, seed=r + 1)


@pytest.mark.slow
def test_parallel_workbooks_many_rounds(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    for r in range(20):
        parallel_round(tmp_path / f"round{r}", 6, seed=100 + r)
    print("parallel:", FIGURES, f"{time.perf_counter() - t0:.0f}s")
