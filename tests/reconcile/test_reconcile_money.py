"""Money is exact: Decimal yuan from Excel floats and typed text, never a silent rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pddbatch.money import format_yuan, parse_money
from tests.reconcile.reconcile_helpers import O4, Case


@pytest.mark.parametrize(("value", "expect"), [
    (0.1 + 0.2, "0.30"), (19.9, "19.90"), (7.000000000000001, "7.00"), (3, "3.00"), (Decimal("2.5"), "2.50"),
    ("¥1,234.50", "1234.50"), ("￥ 12.3", "12.30"), ("12.3元", "12.30"), ("１２．５０", "12.50"),
    ("(5.00)", "-5.00"), ("-0.01", "-0.01"), ("RMB 8", "8.00"), (" 46.6 ", "46.60"),
])
def test_parse_money(value: object, expect: str) -> None:
    assert parse_money(value) == Decimal(expect)
    assert str(parse_money(value)) == expect


@pytest.mark.parametrize("value", [None, "", "   ", "\t"])
def test_blank_is_none(value: object) -> None:
    assert parse_money(value) is None


@pytest.mark.parametrize("value", ["免费", "12.3.4", "1e3", "12.345", 8.991, True, float("nan"), "¥"])
def test_unreadable_or_sub_fen_amounts_raise(value: object) -> None:
    with pytest.raises(ValueError):
        parse_money(value)


@given(st.integers(min_value=-10**11, max_value=10**11))
def test_every_fen_amount_round_trips_through_an_excel_float(fen: int) -> None:
    exact = Decimal(fen) / 100
    assert parse_money(fen / 100) == exact
    assert parse_money(f"{exact:,}") == exact


def test_format_yuan() -> None:
    assert format_yuan(Decimal("1234.5")) == "¥1,234.50"


def test_totals_are_exact_where_floats_drift(case: Case) -> None:
    # ten refunds of 0.10 and one of 0.20 in float arithmetic sum to 1.2000000000000002
    case.orders.append(["261101-000000000000009", "未发货，退款成功", "退款成功", "贴纸", "TZ", "9.99", "9.99", "", ""])
    for i in range(10):
        case.aftersales.append([f"ASX{i}", "261101-000000000000009", "仅退款", "退款成功", 0.1, 0.1,
                                "2026-11-02", "2026-11-02", "", "补差价", f"TZ{i}"])
    case.aftersales.append(["ASY", O4, "仅退款", "买家撤销", 0.2, None, "2026-11-02", None, "", "", ""])
    r = case.run()
    running = 0.0
    for _ in range(10):      # adding one refund at a time, as a naive total does (sum() compensates since 3.12)
        running += 0.1
    assert running != 1.0
    assert r.refunds_total == Decimal("77.60")        # 30.00 + 46.60 + 10 x 0.10
    assert r.exception_count == 0
