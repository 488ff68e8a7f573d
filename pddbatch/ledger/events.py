"""Tracking events and live-query memory in the ledger: the DDL and every statement, in portable SQL.

`EVENTS_DDL` runs unchanged on SQLite (migration 2 in `ledger/schema.py`) and PostgreSQL: plain
TEXT/INTEGER columns, no ROWID tricks, `INSERT … ON CONFLICT DO NOTHING` (SQLite ≥ 3.24, PostgreSQL
≥ 9.5). Statements are written with `?` placeholders; `sql(stmt, "format")` gives the `%s` form a
PostgreSQL driver takes.

- `tracking_events`: one row per scan, keyed by `event_key` (a hash of number + time + text), so
  importing the same file twice — or the same scan from an export and from 快递100 — adds nothing.
  Events for numbers no parcel carries are kept too (they are reported, and count once the number is
  known). A return is linked to its order through `parcels.tracking_no` -> `parcel_orders`
  (`returns_by_order`), which is what reconciliation needs instead of a hand-kept log.
- `tracking_queries`: when each number was last asked of a live service (at most one query per
  number per 30 minutes, remembered across runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from pddbatch.ledger.database import Database

EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS tracking_events (
    event_key   TEXT NOT NULL PRIMARY KEY,
    tracking_no TEXT NOT NULL,
    at          TEXT NOT NULL,
    text        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'picked-up', 'in-transit', 'delivering',
                                                 'delivered', 'refused', 'returning', 'returned', 'problem')),
    code        TEXT NOT NULL DEFAULT '',
    carrier     TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    imported_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tracking_events_number ON tracking_events (tracking_no, at);

CREATE TABLE IF NOT EXISTS tracking_queries (
    provider    TEXT NOT NULL,
    tracking_no TEXT NOT NULL,
    asked_at    TEXT NOT NULL,
    outcome     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (provider, tracking_no)
);
"""

CHUNK = 500          # numbers per IN list: well under SQLite's and PostgreSQL's parameter limits

_INSERT_EVENT = ("INSERT INTO tracking_events (event_key, tracking_no, at, text, status, code, carrier, source, "
                 "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING")
_SELECT_EVENTS = ("SELECT event_key, tracking_no, at, text, status, code, carrier, source, imported_at "
                  "FROM tracking_events WHERE tracking_no IN ({marks}) ORDER BY tracking_no, at, event_key")
_KNOWN = "SELECT tracking_no FROM parcels WHERE tracking_no IN ({marks})"
_ASKED = "SELECT tracking_no, asked_at FROM tracking_queries WHERE provider = ? AND tracking_no IN ({marks})"
_REMEMBER = ("INSERT INTO tracking_queries (provider, tracking_no, asked_at, outcome) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (provider, tracking_no) DO UPDATE SET asked_at = excluded.asked_at, "
             "outcome = excluded.outcome")
# the newest event of every parcel that came back (or is coming back), with its orders
_RETURNS = (
    "SELECT po.order_sn, p.tracking_no, p.carrier, e.status, e.at, e.text "
    "FROM tracking_events e JOIN parcels p ON p.tracking_no = e.tracking_no "
    "JOIN parcel_orders po ON po.parcel_id = p.id "
    "WHERE e.at = (SELECT max(e2.at) FROM tracking_events e2 WHERE e2.tracking_no = e.tracking_no) "
    "AND e.status IN ('refused', 'returning', 'returned') ORDER BY e.at, po.order_sn")


class EventRow(NamedTuple):
    """A stored event, as plain values (times 'YYYY-MM-DD HH:MM:SS', China time)."""

    event_key: str
    tracking_no: str
    at: str
    text: str
    status: str
    code: str
    carrier: str
    source: str
    imported_at: str


class ReturnRow(NamedTuple):
    order_sn: str
    tracking_no: str
    carrier: str
    status: str          # refused | returning | returned
    at: str
    text: str


def sql(statement: str, paramstyle: str = "qmark") -> str:
    """A statement for the driver's parameter style (`qmark` for sqlite3, `format` for psycopg)."""
    return statement.replace("?", "%s") if paramstyle == "format" else statement


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


class EventTable:
    """The events and query memory of one ledger (SQLite or PostgreSQL, through its `Database`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _rows(self, statement: str, params: Sequence[Any]) -> list[Any]:
        return self._db.execute(statement, params)

    def add(self, rows: Iterable[EventRow]) -> int:
        """Store events; returns how many were new (an event already stored is skipped)."""
        batch = {r.event_key: r for r in rows}
        if not batch:
            return 0
        with self._db.transaction():
            stored: set[str] = set()
            for part in _chunks(sorted(batch)):
                marks = ",".join("?" * len(part))
                stored.update(r[0] for r in self._rows(
                    f"SELECT event_key FROM tracking_events WHERE event_key IN ({marks})", part))
            new = [r for k, r in batch.items() if k not in stored]
            self._db.executemany(_INSERT_EVENT, new)
        return len(new)

    def for_numbers(self, numbers: Iterable[str]) -> dict[str, list[EventRow]]:
        """Number -> its stored events, oldest first."""
        out: dict[str, list[EventRow]] = {}
        for part in _chunks(sorted(set(numbers))):
            for r in self._rows(_SELECT_EVENTS.format(marks=",".join("?" * len(part))), part):
                out.setdefault(r[1], []).append(EventRow(*r))
        return out

    def known_numbers(self, numbers: Iterable[str]) -> set[str]:
        """The numbers some parcel in the ledger carries (live or voided)."""
        found: set[str] = set()
        for part in _chunks(sorted(set(numbers))):
            found.update(r[0] for r in self._rows(_KNOWN.format(marks=",".join("?" * len(part))), part))
        return found

    def last_asked(self, provider: str, numbers: Iterable[str]) -> dict[str, str]:
        """Number -> when `provider` was last asked about it."""
        out: dict[str, str] = {}
        for part in _chunks(sorted(set(numbers))):
            marks = ",".join("?" * len(part))
            out.update((r[0], r[1]) for r in self._rows(_ASKED.format(marks=marks), [provider, *part]))
        return out

    def remember_asked(self, provider: str, asked: Iterable[tuple[str, str, str]]) -> None:
        """Record (number, asked_at, outcome) for `provider`; a later ask replaces the earlier one."""
        batch = [(provider, n, at, outcome) for n, at, outcome in asked]
        if batch:
            with self._db.transaction():
                self._db.executemany(_REMEMBER, batch)

    def returns_by_order(self) -> list[ReturnRow]:
        """Orders whose parcel's newest scan says refused / returning / returned (for reconciliation)."""
        return [ReturnRow(*r) for r in self._rows(_RETURNS, ())]

    def count(self) -> int:
        return int(self._rows("SELECT count(*) FROM tracking_events", ())[0][0])
