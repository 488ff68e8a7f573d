"""The durable ledger of tracking numbers: pools, parcels, the order->parcel map and runs.

A number is printed on at most one live parcel, ever; rerunning a workbook gives every order the
number it had; a crash leaves no number half-used. `Ledger.open(path)` is the way in.
"""

from __future__ import annotations

from pddbatch.ledger.records import (
    AllocatedParcel,
    Allocation,
    IntegrityReport,
    ParcelRecord,
    ParcelRequest,
    PoolAddResult,
    PoolStatus,
    RequestResult,
    RunRecord,
)
from pddbatch.ledger.schema import SCHEMA_VERSION
from pddbatch.ledger.store import Ledger

__all__ = [
    "SCHEMA_VERSION",
    "AllocatedParcel",
    "Allocation",
    "IntegrityReport",
    "Ledger",
    "ParcelRecord",
    "ParcelRequest",
    "PoolAddResult",
    "PoolStatus",
    "RequestResult",
    "RunRecord",
]
