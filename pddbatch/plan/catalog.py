"""The seller's SKU table (商品资料): weights for parcels and rules, short names for labels.

Optional. Found as a sheet of the orders workbook (default name 商品资料) or a file named in the
config. An SKU missing from it is a warning on the row, never a failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pddbatch.errors import InputError
from pddbatch.model import CellValue, Order
from pddbatch.workbook.headers import alias_table, key_header, map_headers
from pddbatch.workbook.read import Table, read_table

FILE_SUFFIXES = (".xlsx", ".xlsm", ".csv")


@dataclass(frozen=True)
class SkuInfo:
    sku: str
    weight_g: int | None
    short_name: str


@dataclass
class Catalog:
    items: dict[str, SkuInfo] = field(default_factory=dict)
    source: str = ""

    def weight(self, orders: Iterable[Order]) -> tuple[int | None, list[str]]:
        """Parcel weight in grams (None when any SKU's weight is unknown) and the unknown SKUs."""
        total = 0
        unknown: list[str] = []
        for o in orders:
            info = self.items.get(o.sku)
            if info is None or info.weight_g is None:
                unknown.append(o.sku or o.product)
                continue
            total += info.weight_g * o.quantity
        return (None if unknown else total), unknown

    def short_names(self) -> dict[str, str]:
        return {k: v.short_name for k, v in self.items.items() if v.short_name}


def side_table(workbook: Path, spec: str, base_dir: Path, sheet_names: Iterable[str],
               columns: str, what: str) -> Table | None:
    """Read an optional side table: a sheet of the workbook, or a file when `spec` names one."""
    aliases = alias_table(columns)
    if spec.lower().endswith(FILE_SUFFIXES):
        path = Path(spec) if Path(spec).is_absolute() else base_dir / spec
        if not path.is_file():
            raise InputError(f"找不到{what}文件：{path}", f"{what} file not found: {path}")
        return read_table(path, aliases.is_header_row, None, what, key_header(aliases))
    if spec not in set(sheet_names) or workbook.suffix.lower() == ".csv":
        return None
    return read_table(workbook, aliases.is_header_row, spec, what, key_header(aliases))


def load_catalog(table: Table | None) -> Catalog:
    if table is None:
        return Catalog()
    aliases = alias_table("sku_columns.json")
    cmap = map_headers(table.headers, aliases, table.sheet, table.header_row)
    sc, wc, nc = cmap.col("sku"), cmap.col("weight_g"), cmap.col("short_name")
    items: dict[str, SkuInfo] = {}
    for raw in table.rows:
        sku = _text(raw, sc)
        if not sku:
            continue
        items[sku] = SkuInfo(sku, _grams(raw, wc), _text(raw, nc))
    return Catalog(items, f"{Path(table.path).name}:{table.sheet}")


def _cell(raw: list[CellValue], col: int | None) -> CellValue:
    return raw[col - 1] if col is not None and col - 1 < len(raw) else None


def _text(raw: list[CellValue], col: int | None) -> str:
    v = _cell(raw, col)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v).strip()


def _grams(raw: list[CellValue], col: int | None) -> int | None:
    v = _cell(raw, col)
    try:
        g = float(str(v).lower().replace("g", "").replace("克", "").strip()) if v is not None else None
    except ValueError:
        return None
    return None if g is None or g < 0 else round(g)
