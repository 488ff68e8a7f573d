"""Real processes on one ledger file: concurrent allocation and SIGKILL at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pddbatch.ledger import Ledger, ParcelRequest
from tests.ledger.ledger_worker import requests_for

WORKER = Path(__file__).with_name("ledger_worker.py")


def start(path: Path, tag: str, batches: int, size: int, void_every: int = 0,
          go: Path | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, str(WORKER), str(path), tag, str(batches), str(size), str(void_every)]
    return subprocess.Popen(args + ([str(go)] if go else []), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def parse(stdout: str) -> tuple[dict[str, str], list[str]]:
    numbered: dict[str, str] = {}
    voided: list[str] = []
    for line in stdout.splitlines():
        parts = line.split()
        if parts[:1] == ["A"] and len(parts) == 3:
            numbered[parts[1]] = parts[2]
        elif parts[:1] == ["V"] and len(parts) == 2:
            voided.append(parts[1])
    return numbered, voided


def pool_adds_up(led: Ledger, total: int) -> None:
    (status,) = led.pool_status()
    counts = led.counts()
    assert status.total == total
    # every used number is on exactly one live parcel, every voided one on one voided parcel
    assert status.used + status.voided == counts["parcels"]


@pytest.mark.parametrize("attempt", range(3))
def test_two_processes_never_hand_out_the_same_number(tmp_path: Path, attempt: int) -> None:
    path = tmp_path / "shared.sqlite"
    with Ledger.open(path) as led:
        led.add_range("ZTO", "73100000000001", 20_000, "t")
    go = tmp_path / "go"
    workers = [start(path, f"w{attempt}{n}", 30, 200, go=go) for n in "ab"]
    for w in workers:                       # both are up and have begun their runs: start together
        assert w.stdout is not None and w.stdout.readline() == "ready\n"
    go.touch()
    outputs = [w.communicate(timeout=120) for w in workers]
    for w, (_, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err
    numbered = [parse(out)[0] for out, _ in outputs]
    a_numbers, b_numbers = set(numbered[0].values()), set(numbered[1].values())
    parcels_each = 30 * 200
    assert len(a_numbers) == len(b_numbers) == parcels_each
    assert a_numbers.isdisjoint(b_numbers)
    with Ledger.open(path) as led:
        assert led.check_integrity() == []
        (status,) = led.pool_status()
        assert (status.free, status.used, status.voided) == (20_000 - 2 * parcels_each, 2 * parcels_each, 0)
        pool_adds_up(led, 20_000)
        # the processes interleaved: both were allocating while the other had allocated
        runs = [led.parcels_for_run(r) for r in (1, 2)]
        ids = [(min(p.id for p in ps), max(p.id for p in ps)) for ps in runs]
        assert ids[0][1] > ids[1][0] and ids[1][1] > ids[0][0], "the two runs did not overlap"


def kill_rounds(tmp_path: Path, rounds: int, seed: int) -> dict[str, int]:
    """Kill a worker at a random moment `rounds` times on one ledger; check it after each kill."""
    rng = random.Random(seed)
    path = tmp_path / "crash.sqlite"
    added = 0
    with Ledger.open(path) as led:
        led.add_range("ZTO", "73100000000001", 40_000, "t")
        added = 40_000
    figures = {"kills": 0, "mid_run": 0, "numbers_checked": 0}
    for k in range(rounds):
        tag = f"k{k}"
        worker = start(path, tag, 60, 150, void_every=3)
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(worker.pid, signal.SIGKILL)
        out, _ = worker.communicate(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        figures["kills"] += 1
        figures["mid_run"] += "done" not in out
        numbered, voided = parse(out)
        with Ledger.open(path) as led:
            assert led.check_integrity() == [], f"after kill {k}"
            (status,) = led.pool_status()
            assert status.total == added
            assert status.used + status.voided == led.counts()["parcels"]
            # what the dead process reported as committed is in the ledger, with the same number
            batches = 1 + max((int(o.split("-")[1]) for o in numbered), default=-1)
            existing = led.existing_for_orders(numbered)
            for order, number in numbered.items():
                if order in existing:
                    assert existing[order].tracking_no == number
                else:   # only a void (perhaps committed just before the kill) frees an order
                    (gone,) = led.find_parcels([number], live_only=False)
                    assert gone.state == "voided"
            assert set(voided).isdisjoint(existing)
            figures["numbers_checked"] += len(numbered)
            # the rerun completes the job: same numbers for numbered orders, new ones for the rest
            requests: list[ParcelRequest] = [r for b in range(batches + 1) for r in requests_for(tag, b, 150)]
            run = led.begin_run(f"{tag}.xlsx")
            again = led.allocate(run, requests)
            led.finish_run(run, "done", {})
            by_order = again.by_order()
            for order, parcel in existing.items():
                assert by_order[order].tracking_no == parcel.tracking_no and not by_order[order].is_new
            assert not again.short
            assert led.check_integrity() == []
            assert led.run(1).status in ("running", "failed", "done")
            if status.free < 15_000:
                led.add_range("ZTO", f"{73100000000001 + added}", 40_000, "t")
                added += 40_000
    with Ledger.open(path) as led:
        rep = led.integrity_report()
        assert rep.ok
        # the next run closed every run the killed processes left 'running'
        led.begin_run("last")
        statuses = {led.run(i).status for i in range(1, led.counts()["runs"])}
        assert "running" not in statuses
    return figures


def test_sigkill_mid_allocation_leaves_a_sound_ledger(tmp_path: Path) -> None:
    figures = kill_rounds(tmp_path, rounds=5, seed=20260517)
    print(f"kills survived: {figures}")
    assert figures["kills"] == 5 and figures["mid_run"] >= 4


@pytest.mark.slow
def test_sigkill_100_times(tmp_path: Path) -> None:
    figures = kill_rounds(tmp_path, rounds=100, seed=8)
    print(f"kills survived: {figures}")
    assert figures["kills"] == 100 and figures["mid_run"] >= 90
