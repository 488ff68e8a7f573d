"""One money reader: the order sheet's cells and the accountant's inputs read an amount the same way."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pddbatch.money import parse_money
from pddbatch.workbook.values import money


@pytest.mark.parametrize("cell,expected", [
    ("39.90", "39.90"), (0.30000000000000004, "0.30"), (39.9, "39.90"), (12, "12.00"),
    ("¥1,234.50", "1234.50"), ("12.3元", "12.30"), ("１２．５０", "12.50"), ("(5.00)", "-5.00"),
    ("RMB 8", "8.00"), (Decimal("3.1"), "3.10"),
])
def test_the_order_sheet_reads_an_amount_as_parse_money_does(cell: object, expected: str) -> None:
    assert money(cell)[0] == expected  # type: ignore[arg-type]
    assert parse_money(cell) == Decimal(expected)


@pytest.mark.parametrize("cell", ["三十", 8.991, "1.2.3"])
def test_what_is_not_an_amount_reaches_the_schema_as_typed(cell: object) -> None:
    with pytest.raises(ValueError):
        parse_money(cell)
    assert money(cell)[0] == str(cell)  # type: ignore[arg-type]
