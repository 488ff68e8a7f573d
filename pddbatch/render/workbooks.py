"""manifest.xlsx and pdd-bulk-ship.xlsx with xlsxwriter (constant memory, text stays text).

Every string from order data is written with `write_string` and the workbook is opened with
strings_to_formulas/urls/numbers off, so `=HYPERLINK(...)` or `+86...` stays literal text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from ..model import Parcel
from .atomic import atomic_path
from .tables import PickRow, bulk_ship_rows, manifest_rows, text

OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
           "strings_to_numbers": False}


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join("_" if c in "[]:*?/\\" else c for c in name)[:31] or "Sheet"
    out, k = base, 2
    while out.lower() in used:
        out = f"{base[:28]}_{k}"
        k += 1
    used.add(out.lower())
    return out


def write_manifest_xlsx(path: Path, by_carrier: Mapping[str, Sequence[Parcel]], picks: Sequence[PickRow],
                        lang: str = "zh", printed_at: str = "") -> dict[str, int]:
    """One sheet per carrier + the 拣货单 sheet; returns manifest rows per carrier code."""
    t: dict[str, Any] = text(lang)
    counts: dict[str, int] = {}
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), OPTIONS)
        bold = wb.add_format({"bold": True})
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        used: set[str] = set()
        for code, parcels in by_carrier.items():
            ws = wb.add_worksheet(_sheet_name(f"{parcels[0].carrier.pdd_name}", used))
            ws.set_column(0, 0, 6)
            ws.set_column(1, 1, 20)
            ws.set_column(2, 2, 48)
            ws.set_column(3, 5, 11)
            ws.write_string(0, 0, f"{parcels[0].carrier.pdd_name} {t['manifest']}", bold)
            ws.write_string(1, 0, printed_at)
            for c, h in enumerate(t["man_cols"]):
                ws.write_string(2, c, h, head)
            rows = manifest_rows(parcels)
            r = 3
            weights = 0
            for row in rows:
                ws.write_number(r, 0, row.seq)
                ws.write_string(r, 1, row.tracking_no)
                ws.write_string(r, 2, row.order_sns)
                ws.write_string(r, 3, row.city)
                ws.write_number(r, 4, row.pieces)
                if row.weight_g is not None:
                    ws.write_number(r, 5, row.weight_g)
                    weights += row.weight_g
                r += 1
            ws.write_string(r, 0, t["total"], bold)
            ws.write_string(r, 1, f"{len(rows)} {t['parcels']}", bold)
            ws.write_number(r, 4, sum(x.pieces for x in rows), bold)
            if any(x.weight_g is not None for x in rows):
                ws.write_number(r, 5, weights, bold)
            r += 2
            for label in t["handover"]:
                ws.write_string(r, 0, f"{label}：", bold)
                r += 1
            counts[code] = len(rows)
        ws = wb.add_worksheet(_sheet_name(str(t["picklist"]) if lang == "en" else "拣货单", used))
        ws.set_column(0, 0, 6)
        ws.set_column(1, 1, 18)
        ws.set_column(2, 2, 40)
        ws.set_column(3, 3, 20)
        for c, h in enumerate(t["pick_cols"]):
            ws.write_string(0, c, h, head)
        for i, p in enumerate(picks, start=1):
            ws.write_number(i, 0, i)
            ws.write_string(i, 1, p.sku)
            ws.write_string(i, 2, p.product)
            ws.write_string(i, 3, p.spec)
            ws.write_number(i, 4, p.quantity)
            ws.write_number(i, 5, p.orders)
        n = len(picks) + 1
        ws.write_string(n, 0, t["total"], bold)
        ws.write_number(n, 4, sum(p.quantity for p in picks), bold)
        ws.write_number(n, 5, sum(p.orders for p in picks), bold)
        wb.close()
    return counts


def write_bulk_ship_xlsx(path: Path, parcels: Sequence[Parcel]) -> int:
    """PDD 批量发货 upload: 订单号 | 快递公司 | 快递单号, one row per order; returns the row count."""
    rows = bulk_ship_rows(parcels)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), OPTIONS)
        ws = wb.add_worksheet("Sheet1")
        ws.set_column(0, 0, 26)
        ws.set_column(1, 1, 14)
        ws.set_column(2, 2, 22)
        for c, h in enumerate(("订单号", "快递公司", "快递单号")):
            ws.write_string(0, c, h)
        for i, (sn, name, tn) in enumerate(rows, start=1):
            ws.write_string(i, 0, sn)
            ws.write_string(i, 1, name)
            ws.write_string(i, 2, tn)
        wb.close()
    return len(rows)
