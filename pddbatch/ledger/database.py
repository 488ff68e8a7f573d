"""The seam between the ledger and its database: what SQLite and PostgreSQL each provide.

`Ledger` (store.py) writes its SQL once, with `?` placeholders, against this protocol; each
implementation translates driver errors into `LedgerError`s that name the ledger (a URL with its
password hidden) and does the few things the dialects do differently: taking free numbers,
reserving ids, bulk inserts, key lists, version bookkeeping and physical checks.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from pddbatch.errors import LedgerError
from pddbatch.ledger.location import LedgerLocation


class LedgerConflict(LedgerError):
    """Another process changed the same rows at the same moment; the transaction is worth retrying."""


RETRIES = 6            # attempts of a transaction that met another station's (PostgreSQL)


def retry_pause(attempt: int) -> None:
    """A short random wait before retrying a conflicted transaction (longer each attempt)."""
    time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))


def now_text() -> str:
    """A ledger timestamp: local time with its offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


class LedgerDamaged(LedgerError):
    """The ledger is empty, truncated, corrupt or not a pddbatch ledger: doctor reports it as damaged."""


class Database(Protocol):
    """One connection to one ledger database; use it from one thread."""

    kind: str                 # "sqlite" or "postgresql"
    shown: str                # the location as people may see it (password hidden)
    version: int              # schema version after opening

    @property
    def location(self) -> LedgerLocation: ...

    def close(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction: SQLite `BEGIN IMMEDIATE`, PostgreSQL `BEGIN`; rolled back on any error."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; its rows (empty for statements that return none)."""

    def execute_count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def insert_id(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT into a table with an `id` key; the new row's id."""

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows in as few round trips as the driver allows."""

    def keys(self, keys: Iterable[str]) -> tuple[str, list[Any]]:
        """A FROM-clause item with one column `k` holding `keys`, and its parameters."""

    def ids(self, ids: Sequence[int]) -> tuple[str, list[Any]]:
        """An `IN (…)` right-hand side holding `ids`, and its parameters."""

    def take_free(self, carrier: str, count: int) -> list[tuple[int, str]]:
        """Mark up to `count` free numbers of `carrier` used, first in pool order; (id, number) sorted by id."""

    def reserve_ids(self, table: str, count: int) -> list[int]:
        """`count` fresh ids for new rows of `table` (inside the current transaction)."""

    def row_lock(self) -> str:
        """A suffix that locks the rows a SELECT reads until the transaction ends ('' when the write lock covers it)."""

    def physical_problems(self, lang: str) -> list[str]:
        """Storage-level damage the database itself can detect (SQLite's integrity check)."""

    def tables(self) -> list[str]:
        """The ledger's tables (for `ledger migrate`)."""

    def columns(self, table: str) -> list[str]:
        """A table's columns in their order."""

    def stream(self, sql: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """A query's rows, `size` at a time (a whole ledger never sits in memory)."""

    def after_copy(self, tables: Sequence[str]) -> None:
        """Bring id generators past the ids a copy inserted."""
