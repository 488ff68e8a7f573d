"""Shared helpers for the ledger tests: a real ledger file per test, request builders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pddbatch.ledger import Ledger


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "ledger.sqlite"


@pytest.fixture
def ledger(ledger_path: Path) -> Iterator[Ledger]:
    with Ledger.open(ledger_path) as led:
        yield led
