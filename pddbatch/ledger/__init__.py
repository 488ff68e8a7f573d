"""The durable ledger of tracking numbers: pools, parcels, the order->parcel map and runs.

A number is printed on at most one live parcel, ever; rerunning a workbook gives every order the
number it had; a crash leaves no number half-used. `Ledger.open(location)` is the way in: an
SQLite file path (the default) or a `postgresql://…` URL for several packing stations.
"""

from __future__ import annotations

from pddbatch.ledger.database import LedgerConflict, LedgerDamaged
from pddbatch.ledger.location import ENV_URL, LedgerLocation, masked
from pddbatch.ledger.location import exists as ledger_exists
from pddbatch.ledger.records import (
    AllocatedParcel,
    Allocation,
    IntegrityReport,
    ParcelRecord,
    ParcelRequest,
    PoolAddResult,
    PoolBatch,
    PoolStatus,
    RequestResult,
    RunRecord,
)
from pddbatch.ledger.schema import SCHEMA_VERSION
from pddbatch.ledger.store import Ledger

__all__ = [
    "ENV_URL",
    "SCHEMA_VERSION",
    "AllocatedParcel",
    "Allocation",
    "IntegrityReport",
    "Ledger",
    "LedgerConflict",
    "LedgerDamaged",
    "LedgerLocation",
    "ParcelRecord",
    "ParcelRequest",
    "PoolAddResult",
    "PoolBatch",
    "PoolStatus",
    "RequestResult",
    "RunRecord",
    "ledger_exists",
    "masked",
]
