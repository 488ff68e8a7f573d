"""Helpers for the reconciliation tests: small real workbooks built per test, and a runner."""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl

from pddbatch.reconcile import ReconcileResult, reconcile

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"

ORDER_HEADERS = ["订单号", "订单状态", "售后状态", "商品", "商家编码-规格维度", "用户实付金额(元)", "商家实收金额(元)",
                 "快递单号", "快递公司"]
AS_HEADERS = ["售后编号", "订单号", "售后类型", "售后状态", "申请金额", "退款金额(元)", "申请时间", "退款时间",
              "退货快递单号", "售后原因", "商家编码"]
RET_HEADERS = ["退货快递单号", "收货日期", "订单号", "件数", "状况"]

O1, O2, O3, O4 = (f"261101-00000000000000{i}" for i in (1, 2, 3, 4))


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


make_aftersales = _load("pddbatch_sample_make_aftersales", SAMPLE / "make_aftersales.py")


def write_xlsx(path: Path, headers: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str = "Sheet1") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    ws.append(list(headers))
    for i, r in enumerate(rows, start=2):
        for j, v in enumerate(r, start=1):
            cell = ws.cell(row=i, column=j, value=v)
            if isinstance(v, str) and v.startswith("="):
                cell.data_type = "s"            # text that looks like a formula, as a seller may type it
    wb.save(path)
    return path


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[Any]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    return path


def base_orders() -> list[list[Any]]:
    """Four orders: O1 unshipped, O2 in transit, O3 signed for, O4 unshipped (refunded before shipping)."""
    return [
        [O1, "待发货", "无售后或售后取消", "暖手宝", "NS-RB", "19.90", "19.90", "", ""],
        [O2, "已发货，待收货", "售后处理中", "苹果 5斤", "PG-5J", 46.6, 46.6, "73100000000002", "中通快递"],
        [O3, "已签收", "退款成功", "台灯", "TD-CD", "¥41.50", "42.00", "YT1000000000003", "圆通快递"],
        [O4, "未发货，退款成功", "退款成功", "台灯", "TD-CD", "30.00", "30.00", "", ""],
    ]


def base_aftersales() -> list[list[Any]]:
    """Consistent: O4 refunded before shipping; O2 returned and refunded, parcel logged in good shape."""
    return [
        ["AS1", O4, "仅退款", "退款成功", 30.0, 30.0, "2026-11-02 10:00:00", "2026-11-02 12:00:00", "", "拍错", "TD-CD"],
        ["AS2", O2, "退货退款", "退款成功", 46.6, 46.6, "2026-11-05 10:00:00", "2026-11-09 12:00:00",
         "JT0000000000022", "质量问题", "PG-5J"],
    ]


def base_returns() -> list[list[Any]]:
    return [["JT0000000000022", "2026-11-08", O2, 1, "完好"]]


@dataclass
class Case:
    tmp: Path
    orders: list[list[Any]]
    aftersales: list[list[Any]]
    returns: list[list[Any]]

    def files(self) -> tuple[Path, Path, Path]:
        return (write_xlsx(self.tmp / "orders.xlsx", ORDER_HEADERS, self.orders),
                write_xlsx(self.tmp / "售后.xlsx", AS_HEADERS, self.aftersales),
                write_xlsx(self.tmp / "退货登记.xlsx", RET_HEADERS, self.returns))

    def run(self, **kw: Any) -> ReconcileResult:
        o, a, r = self.files()
        kw.setdefault("out", self.tmp / "reconciliation.xlsx")
        return reconcile([o], [a], [r], **kw)


def found(result: ReconcileResult) -> list[tuple[str, tuple[str, ...]]]:
    """Findings as (kind, sorted 售后编号) — what the plants are compared with."""
    return sorted((f.kind, tuple(sorted(f.aftersale_sns))) for f in result.findings)
