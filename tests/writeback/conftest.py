"""Fixtures for write-back tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.writeback.wb_fixtures import build_rich


@pytest.fixture()
def rich_xlsx(tmp_path: Path) -> Path:
    return build_rich(tmp_path / "orders.xlsx")


@pytest.fixture()
def rich_xlsm(tmp_path: Path) -> Path:
    return build_rich(tmp_path / "orders.xlsm")
