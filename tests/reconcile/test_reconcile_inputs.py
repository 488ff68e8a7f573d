"""Inputs: xlsx or CSV (UTF-8 BOM, GB18030), headers by alias, missing columns named."""

from __future__ import annotations

from pathlib import Path

import pytest

from pddbatch.errors import InputError
from pddbatch.reconcile import reconcile
from tests.reconcile.reconcile_helpers import (
    AS_HEADERS,
    ORDER_HEADERS,
    RET_HEADERS,
    Case,
    base_aftersales,
    base_orders,
    base_returns,
    found,
    write_csv,
    write_xlsx,
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_inputs(tmp_path: Path, encoding: str) -> None:
    o = write_csv(tmp_path / "orders.csv", ORDER_HEADERS, base_orders(), encoding)
    a = write_csv(tmp_path / "售后.csv", AS_HEADERS, base_aftersales(), encoding)
    rets = base_returns()
    rets[0][4] = "破损"
    r_ = write_csv(tmp_path / "退货登记.csv", RET_HEADERS, rets, encoding)
    r = reconcile([o], [a], [r_], out=tmp_path / "out.xlsx")
    assert found(r) == [("damaged-return", ("AS2",))]
    assert r.findings[0].return_rows[0].label() == "退货登记.csv / 退货登记 / 第2行"


def test_several_files_of_each_kind_and_overlapping_exports(tmp_path: Path) -> None:
    orders = base_orders()
    o1 = write_xlsx(tmp_path / "o1.xlsx", ORDER_HEADERS, orders[:2])
    o2 = write_xlsx(tmp_path / "o2.xlsx", ORDER_HEADERS, orders[1:])      # O2 in both exports
    a1 = write_xlsx(tmp_path / "a1.xlsx", AS_HEADERS, base_aftersales())
    a2 = write_xlsx(tmp_path / "a2.xlsx", AS_HEADERS, base_aftersales()[1:])  # AS2 in both exports
    r_ = write_xlsx(tmp_path / "r.xlsx", RET_HEADERS, base_returns())
    r = reconcile([o1, o2], [a1, a2], [r_], out=tmp_path / "out.xlsx")
    assert found(r) == [] and r.aftersales == 2 and r.orders == 4 and r.issues == []


def test_aliases_and_extra_columns(tmp_path: Path) -> None:
    heads = [" 售后单号", "订单编号", "退款类型", "退款状态", "申请退款金额", "实际退款金额", "申请时间", "退款成功时间",
             "退货运单号", "退款原因", "商家编码", "客服备注"]
    rows = [r + ["备注"] for r in base_aftersales()]
    a = write_xlsx(tmp_path / "a.xlsx", heads, rows)
    o = write_xlsx(tmp_path / "o.xlsx", ORDER_HEADERS, base_orders())
    rl = write_xlsx(tmp_path / "r.xlsx", ["运单号", "签收日期", "货物状况"], [["JT0000000000022", "2026-11-08", "完好"]])
    assert found(reconcile([o], [a], [rl], out=tmp_path / "out.xlsx")) == []


def test_missing_required_columns_are_named(tmp_path: Path) -> None:
    a = write_xlsx(tmp_path / "a.xlsx", ["售后编号", "订单号", "申请金额"], [["AS1", "x", 1]])
    o = write_xlsx(tmp_path / "o.xlsx", ORDER_HEADERS, base_orders())
    with pytest.raises(InputError) as exc:
        reconcile([o], [a], [], out=tmp_path / "out.xlsx")
    assert exc.value.message.startswith("a.xlsx（售后）：缺少必需的列：售后类型、售后状态")
    assert "Missing required column(s): 售后类型, 售后状态" in exc.value.message_en
    assert not (tmp_path / "out.xlsx").exists()


def test_missing_amount_columns_are_named(tmp_path: Path) -> None:
    a = write_xlsx(tmp_path / "a.xlsx", ["售后编号", "订单号", "售后类型", "售后状态"], [["AS1", "x", "仅退款", "退款成功"]])
    o = write_xlsx(tmp_path / "o.xlsx", ORDER_HEADERS, base_orders())
    with pytest.raises(InputError, match="缺少金额列：退款金额\\(元\\)、申请金额"):
        reconcile([o], [a], [], out=tmp_path / "out.xlsx")


def test_the_orders_need_the_amount_of_the_chosen_basis(tmp_path: Path) -> None:
    heads = [h for h in ORDER_HEADERS if h != "商家实收金额(元)"]
    o = write_xlsx(tmp_path / "o.xlsx", heads, [r[:6] + r[7:] for r in base_orders()])
    a = write_xlsx(tmp_path / "a.xlsx", AS_HEADERS, base_aftersales())
    assert reconcile([o], [a], [], out=tmp_path / "x.xlsx").exception_count == 1   # the return is not logged
    with pytest.raises(InputError, match="缺少必需的列：商家实收金额"):
        reconcile([o], [a], [], out=tmp_path / "x.xlsx", basis="merchant_received")


def test_a_file_without_the_key_column_names_it(tmp_path: Path) -> None:
    o = write_xlsx(tmp_path / "o.xlsx", ORDER_HEADERS, base_orders())
    with pytest.raises(InputError) as exc:
        reconcile([o], [o], [], out=tmp_path / "out.xlsx")     # the orders export given as after-sales
    assert "缺少必需的列：售后编号、售后类型" in exc.value.message


def test_bad_month(case: Case) -> None:
    with pytest.raises(InputError, match="YYYY-MM"):
        case.run(month="2026-13")
