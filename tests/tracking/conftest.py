"""A shop that has shipped the sample day: orders processed, numbers in the ledger, issued at a known time.

`process` runs once per session on a copy of the sample; each test gets its own copy of the folder.
The parcels' issue time is set to ISSUED (China time) in the ledger so that hours and alerts don't
depend on when the tests run.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from pddbatch.cli import main
from tests.support import SAMPLE, generator, sample_rows
from tests.tracking.shop import ISSUED


@pytest.fixture(scope="session")
def shipped_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shipped") / "shop"
    folder.mkdir()
    generator.write_xlsx(sample_rows(), folder / "orders.xlsx", side_tables=True)
    for name in ("pddbatch.toml", "demo-pool-ZTO.txt", "demo-pool-YZXB.txt", "demo-pool-SF.txt"):
        shutil.copy(SAMPLE / name, folder / name)
    res = CliRunner().invoke(main, ["process", str(folder / "orders.xlsx"), "--now", "2026-11-26 09:00:00"])
    assert res.exit_code in (0, 1), res.output
    con = sqlite3.connect(folder / "pddbatch-ledger.sqlite")
    con.execute("UPDATE parcels SET created_at = ?", (ISSUED.isoformat() + "+08:00",))
    con.commit()
    con.close()
    shutil.rmtree(folder / "pddbatch-backup", ignore_errors=True)
    return folder


@pytest.fixture
def shop(shipped_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(shipped_template, target)
    return target
