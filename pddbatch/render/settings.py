"""What the renderer is told (RenderSettings) and what it reports back (DocumentSet)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from pddbatch.clock import china_now
from pddbatch.errors import PddBatchError
from pddbatch.routing import RouteSource

LabelSize = Literal["76x130", "100x180"]


class RenderError(PddBatchError):
    """Documents can't be produced (no parcels, a parcel without a waybill number, ...)."""


class CountMismatchError(RenderError):
    """The manifest and the labels disagree on how many parcels there are (fatal)."""


@dataclass(frozen=True)
class RenderSettings:
    """Seller and print options. `workers=0` means one process per core; `sku_names` maps SKU -> short name."""

    shop_name: str = ""
    sender_name: str = ""
    sender_phone: str = ""
    sender_address: str = ""
    label_size: str = "76x130"
    mask_phone: bool = False
    sort_by: Literal["sku", "deadline"] = "sku"
    zpl: bool = False
    packing_slips: bool = False
    printed_at: datetime = field(default_factory=lambda: china_now().replace(microsecond=0))
    lang: str = "zh"
    workers: int = 0
    layout_dir: Path | None = None
    sku_names: Mapping[str, str] = field(default_factory=dict)
    routing: Mapping[str, RouteSource] = field(default_factory=dict)  # carrier code -> 三段码 source
    compress: int = 1           # zlib level for label page streams (0 = uncompressed)


@dataclass(frozen=True)
class OutputFile:
    kind: str        # labels-pdf | labels-zpl | picklist | packing-slips | manifest-xlsx | manifest-pdf | bulk-ship
    path: Path
    carrier: str = ""


@dataclass(frozen=True)
class DocumentSet:
    """Files written, labels per carrier code, manifest rows per carrier code, warnings."""

    files: tuple[OutputFile, ...]
    label_counts: Mapping[str, int]
    manifest_counts: Mapping[str, int]
    warnings: tuple[str, ...] = ()

    def paths(self, kind: str) -> list[Path]:
        return [f.path for f in self.files if f.kind == kind]
