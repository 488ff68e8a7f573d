"""Helpers for the crash tests: a seller's folder, real `pddbatch` subprocesses, ledger and workbook checks."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support import SAMPLE, generator, sample_rows

EXE = [sys.executable, "-c", "from pddbatch.cli import run; run()"]
LEDGER = "pddbatch-ledger.sqlite"
NOW = "2026-11-26 08:00:00"


def make_shop(folder: Path, rows: int = 320, seed: int = 2026, name: str = "orders.xlsx") -> Path:
    """A seller's folder: one export, the demo config and pools. Returns the workbook path."""
    folder.mkdir(parents=True, exist_ok=True)
    data = sample_rows(rows, seed=seed, faults=rows >= 160)
    path = folder / name
    generator.write_xlsx(data, path)
    for f in [SAMPLE / "pddbatch.toml", *SAMPLE.glob("demo-pool-*.txt")]:
        if not (folder / f.name).exists():
            shutil.copy(f, folder / f.name)
    return path


def env() -> dict[str, str]:
    e = {**os.environ, "PDDBATCH_LANG": "zh"}
    e.pop("PDDBATCH_DEBUG", None)
    return e


def start(args: list[str], cwd: Path, preexec: object = None) -> subprocess.Popen[str]:
    return subprocess.Popen(EXE + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(), preexec_fn=preexec)  # type: ignore[arg-type]


def run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(EXE + args, cwd=cwd, capture_output=True, text=True, env=env(), timeout=timeout)


def process(workbook: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run(["process", workbook.name, "--now", NOW], workbook.parent, timeout)


def doctor(ledger: Path) -> subprocess.CompletedProcess[str]:
    return run(["doctor", "--ledger", str(ledger)], ledger.parent)


def assert_clean_exit(proc: subprocess.CompletedProcess[str], allowed: tuple[int, ...] = (0, 1)) -> None:
    text = proc.stdout + proc.stderr
    assert proc.returncode in allowed, text
    assert "Traceback" not in text and "内部错误" not in text, text


def live_numbers(ledger: Path) -> dict[str, str]:
    """order_sn -> tracking number of its live parcel."""
    if not ledger.exists():
        return {}
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'parcel_orders'").fetchone():
            return {}       # a ledger whose creation was cut short holds nothing yet
        return dict(conn.execute(
            "SELECT o.order_sn, p.tracking_no FROM parcel_orders o JOIN parcels p ON p.id = o.parcel_id "
            "WHERE p.state = 'live'").fetchall())


def ledger_counts(ledger: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as conn:
        parcels = conn.execute("SELECT COUNT(*) FROM parcels WHERE state = 'live'").fetchone()[0]
        used = conn.execute("SELECT COUNT(*) FROM numbers WHERE state = 'used'").fetchone()[0]
        distinct = conn.execute("SELECT COUNT(DISTINCT tracking_no) FROM parcels").fetchone()[0]
        total = conn.execute("SELECT COUNT(*) FROM parcels").fetchone()[0]
    return {"live_parcels": parcels, "used": used, "distinct_numbers": distinct, "parcels": total}


def workbook_numbers(path: Path) -> dict[str, str]:
    """order_sn -> 快递单号 as the workbook shows it, read by openpyxl AND python-calamine (must agree)."""
    import openpyxl
    from python_calamine import CalamineWorkbook

    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[wb.sheetnames[0]]
    rows = [[("" if v is None else str(v)) for v in r] for r in ws.iter_rows(values_only=True)]
    wb.close()
    cal = CalamineWorkbook.from_path(str(path))
    crow = cal.get_sheet_by_name(cal.sheet_names[0]).to_python()
    assert len(crow) >= len(rows) - 1
    head = [h.strip() for h in rows[0]]
    sn, tn = head.index("订单号"), head.index("快递单号")
    out = {r[sn].strip(): r[tn].strip() for r in rows[1:] if r[sn].strip() and r[tn].strip()}
    chead = [str(h).strip() for h in crow[0]]
    cout = {str(r[chead.index("订单号")]).strip(): str(r[chead.index("快递单号")]).strip()
            for r in crow[1:] if str(r[chead.index("订单号")]).strip() and str(r[chead.index("快递单号")]).strip()}
    assert out == cout, "openpyxl and calamine disagree"
    return out


def zip_sound(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
