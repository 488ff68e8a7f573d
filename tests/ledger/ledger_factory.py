"""Request factories for the ledger tests (a module of its own: `conftest` is not importable by name)."""

from __future__ import annotations

from pddbatch.ledger import ParcelRequest


def sn(i: int) -> str:
    """A PDD-shaped order number."""
    return f"260517-{i:015d}"


def req(key: str | int, *orders: int, carrier: str = "ZTO") -> ParcelRequest:
    return ParcelRequest(str(key), carrier, tuple(sn(o) for o in orders))
