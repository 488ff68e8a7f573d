"""Parcel/order factories for the render tests (a module of its own: `conftest` is not importable by name)."""

from __future__ import annotations

from datetime import datetime

from pddbatch.carriers import carrier
from pddbatch.model import Order, Parcel, Receiver

NUMBERS = {"ZTO": "73100000000001", "YTO": "YT1234567890123", "SF": "SF1023574470215", "JTKD": "JT0001234567890"}


def make_receiver(i: int = 0, **kw: str) -> Receiver:
    base = {"name": f"张三{i}", "phone": "13812345678", "province": "浙江省", "city": "杭州市",
            "district": "西湖区", "street": "文新街道", "address": f"文三路{100 + i}号 3 幢 501 室"}
    base.update(kw)
    return Receiver(**base)


def make_order(i: int = 0, *, sku: str = "TS-RED-L", qty: int = 1, receiver: Receiver | None = None,
               remark: str = "", product: str = "纯棉短袖T恤", spec: str = "红色 L") -> Order:
    return Order(row=i + 2, order_sn=f"260517-{600000000000000 + i:015d}", order_status="待发货",
                 after_sale_status="无售后或售后取消", product=product, spec=spec, sku=sku, quantity=qty,
                 receiver=receiver or make_receiver(i), merchant_remark=remark,
                 promised_ship_at=datetime(2026, 5, 19, 12, 0))


def make_parcel(i: int = 0, *, code: str = "ZTO", tracking_no: str | None = None,
                orders: tuple[Order, ...] | None = None, receiver: Receiver | None = None,
                weight_g: int | None = None) -> Parcel:
    r = receiver or make_receiver(i)
    orders = orders or (make_order(i, receiver=r),)
    tn = tracking_no if tracking_no is not None else NUMBERS.get(code, f"73{i:012d}")
    return Parcel(key=f"P{i:06d}", orders=orders, carrier=carrier(code), receiver=r, tracking_no=tn,
                  weight_g=weight_g, promised_ship_at=orders[0].promised_ship_at)
