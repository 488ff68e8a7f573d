"""Shared fixtures: fresh copies of the bundled sample data, built by the committed generator."""

from __future__ import annotations

import os

# xlwings reads its licence key when it is first imported, and any test folder may import it first:
# the remote engine (xw.Book(json=...)) that the Excel-face tests drive needs the free key.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import shutil  # noqa: E402
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import SAMPLE, generator, sample_rows


@pytest.fixture
def gen() -> ModuleType:
    return generator


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A folder like a seller's: the sample export, the demo config and demo pools (no ledger yet)."""
    folder = tmp_path / "shop"
    folder.mkdir()
    generator.write_xlsx(sample_rows(), folder / "orders.xlsx", side_tables=True)
    for name in ("pddbatch.toml", "demo-pool-ZTO.txt", "demo-pool-YZXB.txt", "demo-pool-SF.txt"):
        shutil.copy(SAMPLE / name, folder / name)
    return folder


@pytest.fixture
def orders_xlsx(shop: Path) -> Path:
    return shop / "orders.xlsx"
