"""`--ledger` tracking as evidence that goods came back: a real SQLite ledger with parcels and scans.

Only a parcel whose newest scan is `returned` (退回签收) counts; `refused` (拒收) is still on its way.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner

from pddbatch.cli.reconcile import reconcile as reconcile_cmd
from pddbatch.ledger import Ledger, ParcelRequest
from pddbatch.ledger.events import EventRow
from tests.reconcile.reconcile_helpers import O1, O3, Case, found

SCANS = {  # status -> (time, text)
    "in-transit": ("2026-11-03 08:00:00", "【杭州】已发出"),
    "refused": ("2026-11-05 10:00:00", "收件人拒收，快件退回中"),
    "returned": ("2026-11-08 15:30:00", "退回件已签收，签收人：商家"),
}


def shipped_ledger(path: Path, order_sn: str, *statuses: str) -> str:
    """A ledger holding one parcel for `order_sn` with the given scans; returns its waybill number."""
    with Ledger.open(path) as led:
        led.add_range("ZTO", "73100000000010", 5)
        run = led.begin_run("orders.xlsx")
        led.allocate(run, [ParcelRequest("p1", "ZTO", (order_sn,))])
        led.finish_run(run, "done", {})
        number = led.existing_for_orders([order_sn])[order_sn].tracking_no
        assert number
        led.events.add(EventRow(f"k-{number}-{s}", number, SCANS[s][0], SCANS[s][1], s, "", "ZTO", "test",
                                "2026-11-20 09:00:00") for s in statuses)
    return number


def _rows(path: Path, sheet: str) -> list[list[object]]:
    return [list(r) for r in openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)]


def test_refund_whose_parcel_returned_is_not_flagged_as_never_received(case: Case) -> None:
    case.aftersales.append(["AS3", O3, "退货退款", "退款成功", 41.5, 41.5, "2026-11-04 10:00:00",
                            "2026-11-09 10:00:00", "", "拒收", "TD-CD"])
    assert found(case.run()) == [("return-not-received", ("AS3",))]          # without --ledger: unchanged
    ledger = case.tmp / "ledger.db"
    number = shipped_ledger(ledger, O3, "in-transit", "refused", "returned")
    r = case.run(ledger=ledger)
    assert found(r) == []
    row = next(x for x in _rows(r.files_written[0], "已匹配") if x[0] == "AS3")
    assert row[11] == number and row[13] == "物流显示已退回"
    assert row[12] is not None and f"{row[12]:%Y-%m-%d %H:%M}" == "2026-11-08 15:30"
    assert row[17] == f"物流显示已退回 {number} 2026-11-08 15:30（台账物流：退回件已签收，签收人：商家）"


def test_refused_parcel_not_yet_back_is_still_not_received(case: Case) -> None:
    case.aftersales.append(["AS3", O3, "退货退款", "退款成功", 41.5, 41.5, "2026-11-04 10:00:00",
                            "2026-11-09 10:00:00", "", "拒收", "TD-CD"])
    ledger = case.tmp / "ledger.db"
    shipped_ledger(ledger, O3, "in-transit", "refused")
    assert found(case.run(ledger=ledger)) == [("return-not-received", ("AS3",))]


def test_returned_parcel_without_any_refund_is_reported(case: Case) -> None:
    ledger = case.tmp / "ledger.db"
    number = shipped_ledger(ledger, O1, "in-transit", "returned")
    assert found(case.run()) == []
    r = case.run(ledger=ledger)
    assert found(r) == [("received-not-refunded", ())]
    f = r.findings[0]
    assert (f.order_sn, f.tracking_no, f.month, f.return_rows) == (O1, number, "2026-11", ())
    assert f.message == (f"订单 {O1} 的发货包裹 {number} 物流显示已退回（2026-11-08 15:30），但该订单没有售后单："
                         "请核实买家是否拒收、是否应退款。")
    row = _rows(r.files_written[0], "异常")[1]
    assert row[0] == "received-not-refunded" and row[5] == number
    assert row[11] == f"物流显示已退回 {number} 2026-11-08 15:30（台账物流：退回件已签收，签收人：商家）"
    assert case.run(ledger=ledger, month="2026-10").findings == []     # returned in November


def test_returned_parcel_with_open_aftersale_names_it(case: Case) -> None:
    case.aftersales.append(["AS3", O3, "退货退款", "待商家收货", 41.5, "", "2026-11-04 10:00:00", "",
                            "", "拒收", "TD-CD"])
    ledger = case.tmp / "ledger.db"
    number = shipped_ledger(ledger, O3, "returned")
    r = case.run(ledger=ledger, lang="en")
    assert found(r) == [("received-not-refunded", ("AS3",))]
    assert r.findings[0].message == (
        f"Order {O3}: tracking shows its parcel {number} returned to you (2026-11-08 15:30), but after-sale "
        "AS3 is '待商家收货' (not refunded): process the after-sale or check whether a refund is due.")


def test_refund_only_after_shipping_not_flagged_when_parcel_returned(case: Case) -> None:
    case.aftersales.append(["AS3", O1, "仅退款", "退款成功", 19.9, 19.9, "2026-11-06", "2026-11-06", "", "", ""])
    ledger = case.tmp / "ledger.db"
    shipped_ledger(ledger, O1, "in-transit")
    assert found(case.run(ledger=ledger)) == [("refund-after-shipping-only", ("AS3",))]
    shipped_ledger(ledger, O1, "returned")                         # the same parcel, now back
    assert found(case.run(ledger=ledger)) == []


def test_parcel_in_returns_log_is_matched_from_the_log_only(case: Case) -> None:
    ledger = case.tmp / "ledger.db"
    number = shipped_ledger(ledger, O1, "returned")
    case.returns.append([number, "2026-11-09", O1, 1, "完好"])
    # the log already reports it (no after-sale for it); the ledger adds no second finding
    assert found(case.run(ledger=ledger)) == [("received-unknown", ())]


def test_cli_ledger_counts_returned_parcel(case: Case) -> None:
    ledger = case.tmp / "ledger.db"
    shipped_ledger(ledger, O1, "returned")
    o, a, r = case.files()
    res = CliRunner().invoke(reconcile_cmd, ["--orders", str(o), "--aftersales", str(a), "--returns", str(r),
                                             "-o", str(case.tmp / "rec.xlsx"), "--ledger", str(ledger)])
    assert res.exit_code == 1 and "已收货未退款 1" in res.output, res.output
