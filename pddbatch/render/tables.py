"""Rows of the paper documents: pick list, manifest per carrier, packing slips, bulk-ship upload.

Pure data (no I/O): the PDF and xlsx writers both take their rows from here, so the printed and
spreadsheet versions can't disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pddbatch.model import Parcel
from pddbatch.render.sortcode import short_name

T: dict[str, dict[str, Any]] = {
    "zh": {
        "picklist": "拣货单", "manifest": "交接清单", "slip": "装箱单",
        "pick_cols": ("序号", "商家编码", "商品", "规格", "数量", "订单数"),
        "man_cols": ("序号", "快递单号", "订单号", "收件城市", "件数", "重量(g)"),
        "slip_cols": ("订单号", "商品", "规格", "商家编码", "数量"),
        "total": "合计", "handover": ("交接人", "快递员", "时间", "签字"),
        "parcels": "包裹", "pieces": "件", "orders": "订单",
        "bulk_cols": ("订单号", "快递公司", "快递单号"),
    },
    "en": {
        "picklist": "Pick list", "manifest": "Handover manifest", "slip": "Packing slip",
        "pick_cols": ("#", "SKU", "Product", "Spec", "Qty", "Orders"),
        "man_cols": ("#", "Tracking no.", "Order no.", "City", "Pieces", "Weight (g)"),
        "slip_cols": ("Order no.", "Product", "Spec", "SKU", "Qty"),
        "total": "Total", "handover": ("Handed over by", "Courier", "Time", "Signature"),
        "parcels": "parcels", "pieces": "pieces", "orders": "orders",
        "bulk_cols": ("订单号", "快递公司", "快递单号"),   # PDD's upload wants these exact headers
    },
}


def text(lang: str) -> dict[str, Any]:
    """Headers and words of the documents in the seller's language."""
    return T["en" if lang == "en" else "zh"]


@dataclass(frozen=True)
class PickRow:
    sku: str
    product: str
    spec: str
    quantity: int
    orders: int


def pick_list(parcels: Sequence[Parcel]) -> list[PickRow]:
    """Goods aggregated by 商家编码 (else product+spec), sorted by SKU code for walking the shelves."""
    agg: dict[tuple[str, str, str], list[int]] = {}
    names: dict[tuple[str, str, str], tuple[str, str]] = {}
    for p in parcels:
        for o in p.orders:
            key = (o.sku, "" if o.sku else o.product, "" if o.sku else o.spec)
            a = agg.get(key)
            if a is None:
                agg[key] = a = [0, 0]
                names[key] = (o.product, o.spec)
            a[0] += o.quantity
            a[1] += 1
    rows = [PickRow(k[0], *names[k], q, n) for k, (q, n) in agg.items()]
    rows.sort(key=lambda r: (r.sku == "", r.sku, r.product, r.spec))
    return rows


class ManifestRow(NamedTuple):
    """One parcel of a manifest (a named tuple: one per parcel, made twice a run — PDF and workbook)."""

    seq: int
    tracking_no: str
    order_sns: str      # all orders of a merged parcel, joined with 、
    city: str
    pieces: int
    weight_g: int | None


def manifest_rows(parcels: Sequence[Parcel]) -> list[ManifestRow]:
    """One row per parcel, in label order."""
    return [ManifestRow(i, p.tracking_no, "、".join(p.order_sns), short_name(p.receiver.city) or
                        short_name(p.receiver.province), p.item_count, p.weight_g)
            for i, p in enumerate(parcels, start=1)]


def bulk_ship_rows(parcels: Sequence[Parcel]) -> list[tuple[str, str, str]]:
    """PDD 批量发货: one (订单号, 快递公司, 快递单号) per order, merged orders included."""
    return [(o.order_sn, p.carrier.pdd_name, p.tracking_no) for p in parcels for o in p.orders]
