"""What the ledger hands back: frozen records of parcels, allocations, pools and checks. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ParcelState = Literal["live", "voided"]
RunStatus = Literal["running", "done", "failed"]


@dataclass(frozen=True, slots=True)
class ParcelRequest:
    """One parcel the caller wants numbered: its key, carrier code and the orders it carries."""

    key: str
    carrier_code: str
    order_sns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ParcelRecord:
    """A parcel as stored in the ledger (live or voided), with all of its orders."""

    id: int
    key: str
    carrier_code: str
    tracking_no: str
    state: ParcelState
    order_sns: tuple[str, ...]
    run_id: int
    created_at: str
    rendered_run_id: int | None = None
    workbook: str = ""


@dataclass(frozen=True, slots=True)
class AllocatedParcel:
    """A numbered parcel that carries (some of) a request's orders.

    `order_sns` are the request's orders this parcel carries; `is_new` is False when the orders
    already had this parcel from an earlier run (same number as before).
    """

    parcel_id: int
    tracking_no: str
    carrier_code: str
    order_sns: tuple[str, ...]
    is_new: bool


@dataclass(frozen=True, slots=True)
class RequestResult:
    """The outcome of one `ParcelRequest`.

    Usually one parcel. Several when some orders kept parcels from earlier runs and the others got a
    new one. `short_orders` are the orders left without a number because the pool ran out.
    """

    request: ParcelRequest
    parcels: tuple[AllocatedParcel, ...]
    short_orders: tuple[str, ...] = ()

    @property
    def short(self) -> bool:
        return bool(self.short_orders)

    @property
    def is_new(self) -> bool:
        return any(p.is_new for p in self.parcels)

    @property
    def tracking_no(self) -> str:
        """The number of the request's (first) parcel, '' when it got none."""
        return self.parcels[0].tracking_no if self.parcels else ""

    @property
    def parcel_id(self) -> int | None:
        return self.parcels[0].parcel_id if self.parcels else None

    def parcel_for(self, order_sn: str) -> AllocatedParcel | None:
        for p in self.parcels:
            if order_sn in p.order_sns:
                return p
        return None


@dataclass(frozen=True, slots=True)
class Allocation:
    """Everything one `Ledger.allocate` call did, in request (priority) order.

    `short` maps carrier code -> how many more numbers that carrier's pool needed.
    """

    run_id: int
    results: tuple[RequestResult, ...]
    short: Mapping[str, int] = field(default_factory=dict)

    @property
    def new_count(self) -> int:
        return sum(1 for r in self.results for p in r.parcels if p.is_new)

    @property
    def existing_count(self) -> int:
        return sum(1 for r in self.results for p in r.parcels if not p.is_new)

    def by_order(self) -> dict[str, AllocatedParcel]:
        """order_sn -> the parcel carrying it (orders left short are absent)."""
        return {sn: p for r in self.results for p in r.parcels for sn in p.order_sns}


@dataclass(frozen=True, slots=True)
class PoolAddResult:
    """What adding numbers to a pool did.

    `duplicates`: refused because already in the ledger or repeated in the input (the first
    `MAX_LISTED`; `duplicate_count` is the total). `other_carrier`: those of them that sit in another
    carrier's pool (a file of the wrong courier, or an outlet's overlapping ranges). `known_sources`:
    (carrier, source, count) of the pools the duplicates were already in. `batch_id`: the pool batch
    the new numbers form (`pool undo` takes it back while none of it is used).
    """

    carrier_code: str
    source: str
    added: int
    duplicates: tuple[str, ...] = ()
    other_carrier: tuple[str, ...] = ()
    known_sources: tuple[tuple[str, str, int], ...] = ()
    batch_id: int | None = None
    duplicate_count: int = 0


@dataclass(frozen=True, slots=True)
class PoolBatch:
    """One `pool add` / `pool import`: where its numbers came from and what became of them."""

    id: int
    carrier_code: str
    source: str
    added_at: str
    added: int
    free: int
    used: int
    voided: int
    removed_at: str | None = None


@dataclass(frozen=True, slots=True)
class PoolStatus:
    carrier_code: str
    free: int
    used: int
    voided: int

    @property
    def total(self) -> int:
        return self.free + self.used + self.voided


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    workbook: str
    started_at: str
    finished_at: str | None
    status: RunStatus
    summary: Mapping[str, object]
    pid: int
    host: str


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """`errors` break an invariant (doctor exits 1); `warnings` need a look but lose nothing."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors
