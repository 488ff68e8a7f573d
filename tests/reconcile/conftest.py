"""Fixtures for the reconciliation tests (helpers live in reconcile_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reconcile.reconcile_helpers import Case, base_aftersales, base_orders, base_returns


@pytest.fixture
def case(tmp_path: Path) -> Case:
    """A small consistent set of orders, after-sales and returns log; tests add one discrepancy."""
    return Case(tmp_path, base_orders(), base_aftersales(), base_returns())
