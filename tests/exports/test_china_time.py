"""Deadlines and "now" are China time whatever the PC's zone (TZ=UTC, TZ=America/Los_Angeles).

PDD writes 承诺发货时间 as China wall-clock time; a laptop set to UTC is 8 hours behind it and one
in California 15-16 hours: without China time, an order due in 3 hours would look 11 or 19 hours
away and get no warning. Run for real, in a subprocess with TZ set and in-process with time.tzset().
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pddbatch.clock import china_now
from pddbatch.pipeline.batch import Options, process
from tests.exports.dialect import ROWS, write_openpyxl
from tests.support import SAMPLE

ZONES = ["UTC", "America/Los_Angeles"]


def _china() -> datetime:
    """China wall-clock time computed independently of pddbatch: UTC + 8 h."""
    return (datetime.now(UTC) + timedelta(hours=8)).replace(tzinfo=None)


def _book(folder: Path) -> tuple[Path, dict[str, str]]:
    """Three shippable orders: due in 3 h, 2 h overdue, due in 12 h (China time, from now)."""
    from dataclasses import replace

    now = _china()
    due = {"in3h": now + timedelta(hours=3), "late2h": now - timedelta(hours=2), "in12h": now + timedelta(hours=12)}
    rows = [replace(r, promised=d.strftime("%Y-%m-%d %H:%M:%S")) for r, d in zip(ROWS[:3], due.values(), strict=True)]
    for name in ("pddbatch.toml", "demo-pool-ZTO.txt", "demo-pool-YZXB.txt", "demo-pool-SF.txt"):
        shutil.copy(SAMPLE / name, folder / name)
    return write_openpyxl(folder / "orders.xlsx", rows), dict(zip(due, (r.sn for r in rows), strict=True))


def _check_urgent(urgent: list[dict[str, object]], sns: dict[str, str]) -> None:
    by_sn = {u["order_sn"]: u for u in urgent}
    assert set(by_sn) == {sns["in3h"], sns["late2h"]}
    soon, late = by_sn[sns["in3h"]], by_sn[sns["late2h"]]
    assert abs(float(str(soon["hours_left"])) - 3) <= 0.2 and soon["overdue"] is False
    assert abs(float(str(late["hours_left"])) + 2) <= 0.2 and late["overdue"] is True


@pytest.mark.parametrize("zone", ZONES)
def test_cli_in_another_zone_warns_by_china_time(tmp_path: Path, zone: str) -> None:
    book, sns = _book(tmp_path)
    env = dict(os.environ, TZ=zone)
    code = "from pddbatch.cli import run; run()"
    proc = subprocess.run([sys.executable, "-c", code, "process", str(book), "--json", "--no-zpl"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    result = json.loads(proc.stdout)
    _check_urgent(result["urgent"], sns)
    # the label's print time is China time too
    text = subprocess.run(["pdftotext", str(tmp_path / "orders.pddbatch" / "labels-ZTO.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    stamps = {(_china() - timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M") for m in range(3)}
    assert any(f"打印时间 {s}" in text for s in stamps), text[-200:]


@pytest.fixture(params=ZONES)
def zone(request: pytest.FixtureRequest) -> Iterator[str]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_in_process_after_tzset(tmp_path: Path, zone: str) -> None:
    local = datetime.now()
    assert abs((local - _china()).total_seconds()) > 7 * 3600      # the zone really is not China's
    assert abs((china_now() - _china()).total_seconds()) < 5
    book, sns = _book(tmp_path)
    result = process(book, Options(dry_run=True))
    _check_urgent(result.urgent, sns)
