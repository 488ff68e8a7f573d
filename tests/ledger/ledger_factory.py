"""Request factories for the ledger tests (a module of its own: `conftest` is not importable by name)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from pddbatch.ledger import LedgerLocation, ParcelRequest


def sn(i: int) -> str:
    """A PDD-shaped order number."""
    return f"260517-{i:015d}"


def req(key: str | int, *orders: int, carrier: str = "ZTO") -> ParcelRequest:
    return ParcelRequest(str(key), carrier, tuple(sn(o) for o in orders))


def raw_sql(target: LedgerLocation, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run SQL on a ledger behind pddbatch's back (to break it on purpose), either database."""
    if isinstance(target, str) and target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params or None)
            return cur.fetchall() if cur.description else []
    conn3 = sqlite3.connect(target, isolation_level=None)
    try:
        return conn3.execute(sql, params).fetchall()
    finally:
        conn3.close()
