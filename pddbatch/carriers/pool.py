"""The `pool` number provider: numbers a courier outlet issued to the seller, kept in the ledger.

Providers share one small interface, `NumberProvider`, so a later provider (PDD's e-waybill API)
plugs into the pipeline the same way: it gets the ledger and a run, and numbers parcels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..errors import ConfigError
from ..ledger import Allocation, Ledger, ParcelRequest, PoolStatus


@runtime_checkable
class NumberProvider(Protocol):
    """Gives parcels tracking numbers, recording every one in the ledger."""

    name: str

    def allocate(self, run_id: int, requests: Sequence[ParcelRequest], workbook: str = "") -> Allocation:
        """Number `requests` (priority order) for run `run_id`; see `Ledger.allocate` for the rules."""
        ...


class PoolProvider:
    """Numbers come from the ledger's own pools (`pddbatch pool add|import`); works offline."""

    name = "pool"

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def allocate(self, run_id: int, requests: Sequence[ParcelRequest], workbook: str = "") -> Allocation:
        return self.ledger.allocate(run_id, requests, workbook)

    def status(self) -> list[PoolStatus]:
        return self.ledger.pool_status()


PROVIDERS = {"pool": PoolProvider}


def provider(name: str, ledger: Ledger) -> NumberProvider:
    """The provider called `name` (config `provider = "pool"`), bound to `ledger`."""
    cls = PROVIDERS.get(name)
    if cls is None:
        raise ConfigError(f"不认识的单号来源“{name}”；可用：{'、'.join(PROVIDERS)}",
                          f"Unknown number provider '{name}'; known: {', '.join(PROVIDERS)}")
    return cls(ledger)
