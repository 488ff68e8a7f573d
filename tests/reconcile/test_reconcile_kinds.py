"""Each exception kind is found exactly where it is planted, and nowhere else."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pddbatch.reconcile import KINDS
from tests.reconcile.reconcile_helpers import O1, O2, O3, O4, Case, found


def test_consistent_inputs_have_no_exceptions(case: Case) -> None:
    r = case.run()
    assert found(r) == []
    assert r.refunds_total == Decimal("76.60")
    assert r.matched_total == Decimal("76.60")
    assert r.exceptions == {k: 0 for k in KINDS}
    assert [(m.aftersale.aftersale_sn, m.received.tracking_no if m.received else "")
            for m in r.matching.matched] == [("AS1", ""), ("AS2", "JT0000000000022")]  # type: ignore[union-attr]


def test_refund_without_order(case: Case) -> None:
    case.aftersales.append(["AS9", "261019-300412778015342", "仅退款", "退款成功", 25.8, 25.8,
                            "2026-11-03", "2026-11-03", "", "不想要了", ""])
    r = case.run()
    assert found(r) == [("refund-without-order", ("AS9",))]
    f = r.findings[0]
    assert f.refund == Decimal("25.80") and f.order_rows == () and f.aftersale_rows[0].row == 4
    assert "261019-300412778015342" in f.message and "不在任何订单文件中" in f.message
    assert r.unmatched_total == Decimal("25.80")


def test_withdrawn_after_sale_without_order_is_not_an_exception(case: Case) -> None:
    case.aftersales.append(["AS9", "261019-300412778015342", "仅退款", "买家撤销", 25.8, None,
                            "2026-11-03", None, "", "不想要了", ""])
    assert found(case.run()) == []


@pytest.mark.parametrize(("basis", "expect"), [("buyer_paid", True), ("merchant_received", False)])
def test_refund_exceeds_paid_follows_the_basis(case: Case, basis: str, expect: bool) -> None:
    # O3: buyer paid 41.50, merchant received 42.00; a 42.00 return refund exceeds only the first
    case.aftersales.append(["AS3", O3, "退货退款", "退款成功", 42.0, 42.0, "2026-11-06", "2026-11-10",
                            "YT2000000000003", "质量问题", "TD-CD"])
    case.returns.append(["YT2000000000003", "2026-11-09", O3, 1, "完好"])
    r = case.run(basis=basis)
    assert found(r) == ([("refund-exceeds-paid", ("AS3",))] if expect else [])
    if expect:
        assert (r.findings[0].refund, r.findings[0].paid) == (Decimal("42.00"), Decimal("41.50"))


def test_duplicate_refund_is_reported_once_not_also_as_exceeding(case: Case) -> None:
    case.aftersales.append(["AS1B", O4, "仅退款", "退款成功", "¥30.00", "30元", "2026-11-03", "2026-11-03", "",
                            "拍错", "TD-CD"])
    r = case.run()
    assert found(r) == [("duplicate-refund", ("AS1", "AS1B"))]
    assert r.findings[0].refund == Decimal("60.00")


def test_return_not_received(case: Case) -> None:
    case.returns.clear()
    r = case.run()
    assert found(r) == [("return-not-received", ("AS2",))]
    assert r.findings[0].tracking_no == "JT0000000000022"


def test_received_not_refunded(case: Case) -> None:
    case.aftersales[1][3] = "用户已发货,待商家收货"
    case.aftersales[1][5] = None
    case.aftersales[1][7] = None
    r = case.run()
    assert found(r) == [("received-not-refunded", ("AS2",))]
    assert "用户已发货,待商家收货" in r.findings[0].message
    assert [s.row for s in r.findings[0].return_rows] == [2]


def test_exchange_received_without_refund_is_fine(case: Case) -> None:
    case.aftersales[1][2] = "换货"
    case.aftersales[1][3] = "换货中"
    assert found(case.run()) == []


def test_received_unknown(case: Case) -> None:
    case.returns.append(["JT9999999999999", "2026-11-10", "", 1, "完好"])
    r = case.run()
    assert found(r) == [("received-unknown", ())]
    assert r.findings[0].tracking_no == "JT9999999999999"


def test_refund_only_after_shipping(case: Case) -> None:
    case.aftersales.append(["AS3", O3, "仅退款", "退款成功", 41.5, 10.0, "2026-11-06", "2026-11-06", "",
                            "协商一致退款", "TD-CD"])
    r = case.run()
    assert found(r) == [("refund-after-shipping-only", ("AS3",))]


def test_shipped_means_a_tracking_number_even_when_the_status_says_otherwise(case: Case) -> None:
    case.orders[0][7] = "73100000000001"           # O1 待发货 but has a waybill number
    case.aftersales.append(["AS3", O1, "仅退款", "退款成功", 19.9, 19.9, "2026-11-06", "2026-11-06", "", "", ""])
    assert found(case.run()) == [("refund-after-shipping-only", ("AS3",))]


def test_damaged_return_in_full_but_not_when_partly_refunded(case: Case) -> None:
    case.returns[0][4] = "破损"
    assert found(case.run()) == [("damaged-return", ("AS2",))]
    case.aftersales[1][5] = 20.0
    assert found(case.run()) == []


def test_blank_condition_is_not_damaged(case: Case) -> None:
    case.returns[0][4] = None
    assert found(case.run()) == []


def test_ambiguous_shared_waybill_pairs_nothing(case: Case) -> None:
    case.aftersales.append(["AS3", O3, "退货退款", "退款成功", 41.5, 41.5, "2026-11-06", "2026-11-10",
                            "JT0000000000022", "质量问题", "TD-CD"])
    case.returns[0][2] = ""                             # the log does not say which order
    r = case.run()
    assert found(r) == [("ambiguous-match", ("AS2", "AS3"))]
    assert all(m.received is None for m in r.matching.matched)  # type: ignore[union-attr]


def test_the_logged_order_number_settles_a_shared_waybill(case: Case) -> None:
    case.aftersales.append(["AS3", O3, "退货退款", "退款成功", 41.5, 41.5, "2026-11-06", "2026-11-10",
                            "JT0000000000022", "质量问题", "TD-CD"])
    r = case.run()                                      # the log row names O2: AS2 got it, AS3's is missing
    assert found(r) == [("return-not-received", ("AS3",))]


def test_ambiguous_when_the_log_has_the_parcel_twice(case: Case) -> None:
    case.returns.append(["jt 0000000000022", "2026-11-09", "", 1, "完好"])
    r = case.run()
    assert found(r) == [("ambiguous-match", ("AS2",))]
    assert [s.row for s in r.findings[0].return_rows] == [2, 3]


def test_ambiguous_when_one_after_sale_is_claimed_by_two_parcels(case: Case) -> None:
    case.returns[0][0] = ""                             # matched by order number only...
    case.returns.append(["", "2026-11-09", O2, 1, "完好"])  # ...twice
    r = case.run()
    assert found(r) == [("ambiguous-match", ("AS2",))]


def test_withdrawn_duplicate_does_not_make_a_match_ambiguous(case: Case) -> None:
    case.aftersales.insert(1, ["AS2-OLD", O2, "退货退款", "买家撤销", 46.6, None, "2026-11-04", None,
                               "JT0000000000022", "质量问题", "PG-5J"])
    assert found(case.run()) == []


@pytest.mark.parametrize("typed", ["jt0000000000022", " JT 0000 0000 00022 ", "ＪＴ０００００００００００２２",
                                   "'JT0000000000022"])
def test_tolerant_waybill_matching(case: Case, typed: str) -> None:
    case.returns[0][0] = typed
    case.returns[0][2] = ""                             # no order number to fall back on
    r = case.run()
    assert found(r) == []
    assert r.matching.matched[1].received is not None  # type: ignore[union-attr]


def test_tolerant_order_number_matching(case: Case) -> None:
    case.aftersales[0][1] = " " + O4.replace("-", "－") + " "    # full-width hyphen, spaces
    assert found(case.run()) == []


def test_intercepted_parcel_comes_back_on_the_outbound_number(case: Case) -> None:
    case.aftersales.append(["AS3", O3, "拦截退货", "退款成功", 41.5, 41.5, "2026-11-06", "2026-11-07", "",
                            "快递拦截", "TD-CD"])
    case.returns.append(["yt1000000000003", "2026-11-09", "", 1, "完好"])
    r = case.run()
    assert found(r) == []
    m = [x for x in r.matching.matched if x.aftersale.aftersale_sn == "AS3"]  # type: ignore[union-attr]
    assert m[0].received is not None and m[0].received.source.row == 3


def test_month_filter_uses_refund_then_application_date(case: Case) -> None:
    case.aftersales.append(["AS9", "261019-300412778015342", "仅退款", "退款成功", 25.8, 25.8,
                            "2026-10-30", "2026-10-31", "", "不想要了", ""])
    r = case.run(month="2026-11")
    assert found(r) == [] and r.aftersales == 2 and r.refunds_total == Decimal("76.60")
    r = case.run(month="2026-10")
    assert found(r) == [("refund-without-order", ("AS9",))] and r.aftersales == 1


def test_every_kind_on_a_generated_month(tmp_path: Path) -> None:
    """make_aftersales over a freshly generated order export (another seed): findings == plants."""
    from tests.reconcile.reconcile_helpers import make_aftersales

    gen = _orders_generator()
    rows = list(gen.iter_orders(400, seed=7))
    gen.write_xlsx(rows, tmp_path / "orders.xlsx")
    g = make_aftersales.generate(tmp_path / "orders.xlsx", tmp_path, seed=11)
    from pddbatch.reconcile import reconcile

    r = reconcile([tmp_path / "orders.xlsx"], [tmp_path / "售后-sample.xlsx"], [tmp_path / "退货登记-sample.xlsx"],
                  out=tmp_path / "r.xlsx")
    assert found(r) == sorted((p.kind, p.aftersale_sns) for p in g.plants)
    assert {p.kind for p in g.plants} == set(KINDS)
    unknown = [f for f in r.findings if f.kind == "received-unknown"]
    assert [f.tracking_no for f in unknown] == [p.tracking_no for p in g.plants if p.kind == "received-unknown"]


def _orders_generator():  # type: ignore[no-untyped-def]
    import sys

    mod = sys.modules.get("pddbatch_sample_generate")
    if mod is None:
        from tests.reconcile.reconcile_helpers import SAMPLE, _load

        mod = _load("pddbatch_sample_generate", SAMPLE / "generate.py")
    return mod


def test_o1_unused_orders_are_fine(case: Case) -> None:
    # orders with no after-sale never produce findings (O1 here)
    assert O1 not in {f.order_sn for f in case.run().findings}
