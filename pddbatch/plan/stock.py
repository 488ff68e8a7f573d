"""Stock (库存): never promise what you can't ship.

Orders are served in deadline order; an order its SKU's stock can't cover is held as 缺货.
Remaining stock is computed, not stored: 可用库存 minus every order of this workbook that has a
live parcel (now or from an earlier run), so rerunning never subtracts the same order twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pddbatch.model import CellValue, OwnedColumn, Parcel, WritePlan
from pddbatch.workbook.headers import alias_table, map_headers
from pddbatch.workbook.read import Table

REMAINING_HEADER = "本次后剩余"
WARNING_HEADER = "库存提醒"


@dataclass
class StockLevels:
    table: Table
    available: dict[str, int]                  # sku -> 可用库存 as the seller typed it
    rows: dict[str, int]                       # sku -> sheet row
    used: dict[str, int] = field(default_factory=dict)

    def left(self, sku: str) -> int:
        return self.available.get(sku, 0) - self.used.get(sku, 0)


def load_stock(table: Table | None) -> StockLevels | None:
    if table is None:
        return None
    cmap = map_headers(table.headers, alias_table("stock_columns.json"), table.sheet, table.header_row)
    sc, ac = cmap.col("sku"), cmap.col("available")
    assert sc is not None and ac is not None    # required columns: map_headers raised otherwise
    available: dict[str, int] = {}
    rows: dict[str, int] = {}
    for i, raw in enumerate(table.rows):
        sku = _text(raw[sc - 1] if sc - 1 < len(raw) else None)
        if not sku:
            continue
        qty = raw[ac - 1] if ac - 1 < len(raw) else None
        try:
            available[sku] = int(float(str(qty))) if qty not in (None, "") else 0
        except ValueError:
            available[sku] = 0
        rows[sku] = table.sheet_row(i)
    return StockLevels(table, available, rows)


def allocate_stock(stock: StockLevels, parcels: Iterable[Parcel], numbered: Iterable[str]
                   ) -> dict[str, str]:
    """Consume stock: orders already numbered first, then parcels in the order given (deadline first).

    Returns order_sn -> SKU for the orders that must be held as out of stock. SKUs the stock sheet
    doesn't list are not limited.
    """
    done = set(numbered)
    plist = list(parcels)
    for p in plist:
        for o in p.orders:
            if o.order_sn in done and o.sku in stock.available:
                stock.used[o.sku] = stock.used.get(o.sku, 0) + o.quantity
    held: dict[str, str] = {}
    for p in plist:
        for o in p.orders:
            if o.order_sn in done or o.sku not in stock.available:
                continue
            if stock.left(o.sku) >= o.quantity:
                stock.used[o.sku] = stock.used.get(o.sku, 0) + o.quantity
            else:
                held[o.order_sn] = o.sku
    return held


def stock_write_plan(stock: StockLevels, threshold: int, lang: str = "zh") -> WritePlan:
    """本次后剩余 and 库存提醒 columns in the stock sheet (reused if present, else appended)."""
    t = stock.table
    by_header = {h.strip(): i for i, h in enumerate(t.headers, start=1) if h}
    next_col = max(by_header.values(), default=0) + 1
    cols: list[OwnedColumn] = []
    for header in (REMAINING_HEADER, WARNING_HEADER):
        if header in by_header:
            cols.append(OwnedColumn(header, by_header[header], False))
        else:
            cols.append(OwnedColumn(header, next_col, True))
            next_col += 1
    rem, warn = cols[0].col, cols[1].col
    values: dict[tuple[int, int], CellValue] = {}
    for i in range(len(t.rows)):
        values[(t.sheet_row(i), rem)] = None
        values[(t.sheet_row(i), warn)] = None
    for sku, row in stock.rows.items():
        left = stock.left(sku)
        values[(row, rem)] = left
        if left <= threshold:
            values[(row, warn)] = ("库存不足，请补货" if lang != "en" else "Low stock: reorder") if left > 0 else \
                ("已无库存" if lang != "en" else "Out of stock")
    return WritePlan(sheet=t.sheet, header_row=t.header_row, columns=tuple(cols), values=values,
                     last_row=t.header_row + len(t.rows))


def _text(v: CellValue) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v).strip()


def summary(stock: StockLevels, threshold: int) -> Mapping[str, int]:
    return {sku: stock.left(sku) for sku in stock.available if stock.left(sku) <= threshold}
