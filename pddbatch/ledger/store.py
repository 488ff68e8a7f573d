"""`Ledger`: the durable store of number pools, parcels, the order->parcel map and runs.

One interface, two databases: an SQLite file (the default, `sqlite_db.py`) or PostgreSQL for several
packing stations (`postgres_db.py`), chosen by the location (`Ledger.open(path)` or
`Ledger.open("postgresql://…")`). The SQL here is written once; `database.py` is the seam. One
`Ledger` object holds one connection; use it from one thread. Every write is one transaction, so a
crash or a dropped connection at any point leaves either all of a write or none of it.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from pddbatch.carriers import all_carriers, carrier
from pddbatch.errors import LedgerError
from pddbatch.ledger import integrity
from pddbatch.ledger.database import RETRIES, Database, LedgerConflict, now_text, retry_pause
from pddbatch.ledger.events import EventTable
from pddbatch.ledger.location import LedgerLocation, from_setting, is_url
from pddbatch.ledger.pool_store import PoolStore
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
    RunStatus,
)
from pddbatch.ledger.schema import META_TABLE

_PARCEL_COLS = ("p.id, p.key, p.carrier, p.tracking_no, p.state, p.run_id, p.created_at, "
                "p.rendered_run_id, p.workbook, po.order_sn")


class Ledger:
    """The ledger. Open with `Ledger.open(location)`; use as a context manager or call `close()`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.location: LedgerLocation = db.location
        self.kind = db.kind
        self.shown = db.shown                 # safe to print: a URL's password is hidden
        self.schema_version = db.version
        rows = db.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'ledger_id'")
        self._pools = PoolStore(db, str(rows[0][0]) if rows else "", self.shown)

    @property
    def ledger_id(self) -> str:
        """The ledger's identity (kept by its pools, which record it beside every imported file)."""
        return self._pools.ledger_id

    @ledger_id.setter
    def ledger_id(self, value: str) -> None:       # a migration target takes its copied identity
        self._pools.ledger_id = value

    # ---- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def open(cls, location: LedgerLocation) -> Ledger:
        """Open the ledger at `location` (an SQLite file path or a PostgreSQL URL), creating and
        migrating it as needed."""
        where = from_setting(location)
        if is_url(where):
            from pddbatch.ledger.postgres_db import PostgresDatabase

            return cls(PostgresDatabase.open(str(where)))
        from pddbatch.ledger.sqlite_db import SqliteDatabase

        return cls(SqliteDatabase.open(Path(where)))

    @property
    def path(self) -> Path | None:
        """The SQLite file; None for a PostgreSQL ledger (`shown` names either for people)."""
        return self.location if isinstance(self.location, Path) else None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._db.execute(sql, params)

    def parcel_count(self) -> int:
        """Parcels ever recorded (voided ones included)."""
        return int(self._query("SELECT count(*) FROM parcels")[0][0])

    # ---- pools (written in pool_store.py) ----------------------------------------------------

    def add_range(self, carrier_code: str, start: str, count: int, source: str = "") -> PoolAddResult:
        """Add `count` consecutive numbers from `start` to a carrier's pool (`PoolStore.add_range`)."""
        return self._pools.add_range(carrier_code, start, count, source)

    def import_numbers(self, carrier_code: str, numbers: Iterable[str], source: str) -> PoolAddResult:
        """Add numbers to a carrier's pool in the given order, all or none (`PoolStore.import_numbers`)."""
        return self._pools.import_numbers(carrier_code, numbers, source)

    def import_pool_file(self, path: Path | str, carrier_code: str | None = None,
                         source: str | None = None, *, allow_other_ledger: bool = False) -> PoolAddResult:
        """Import a pool file; the same file again adds nothing (`PoolStore.import_pool_file`)."""
        return self._pools.import_pool_file(path, carrier_code, source, allow_other_ledger=allow_other_ledger)

    def pool_status(self) -> list[PoolStatus]:
        """Free / used / voided counts per carrier that has a pool."""
        return self._pools.pool_status()

    def pool_batches(self, include_removed: bool = False) -> list[PoolBatch]:
        """Every `pool add` / `pool import` that added numbers, oldest first (`PoolStore.pool_batches`)."""
        return self._pools.pool_batches(include_removed)

    def remove_pool(self, batch_id: int | None = None) -> PoolBatch:
        """Take back a pool batch that handed out no number yet (`PoolStore.remove_pool`)."""
        return self._pools.remove_pool(batch_id)

    # ---- runs ---------------------------------------------------------------------------------

    def begin_run(self, workbook: str) -> int:
        """Record the start of a run; runs left 'running' by dead processes here become 'failed'."""
        host, pid = socket.gethostname(), os.getpid()
        db = self._db
        with db.transaction():
            for run_id, run_pid in db.execute(
                    "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (host,)):
                if integrity.pid_alive(int(run_pid)) is False:
                    db.execute("UPDATE runs SET status = 'failed', finished_at = ?, summary = ? "
                               "WHERE id = ? AND status = 'running'",
                               (now_text(), json.dumps({"abandoned": True}), run_id))
            return db.insert_id("INSERT INTO runs (workbook, started_at, status, pid, host) "
                                "VALUES (?, ?, 'running', ?, ?)", (workbook, now_text(), pid, host))

    def finish_run(self, run_id: int, status: RunStatus, summary: Mapping[str, object]) -> None:
        if status not in ("done", "failed"):
            raise LedgerError(f"运行状态无效：{status}", f"Bad run status: {status}")
        with self._db.transaction():
            changed = self._db.execute_count(
                "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
                (status, now_text(), json.dumps(summary, ensure_ascii=False, default=str), run_id))
            if changed != 1:
                raise _no_run(run_id)

    def run(self, run_id: int) -> RunRecord:
        rows = self._query("SELECT id, workbook, started_at, finished_at, status, summary, pid, host "
                           "FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise _no_run(run_id)
        r = rows[0]
        return RunRecord(int(r[0]), r[1], r[2], r[3], r[4], json.loads(r[5]), int(r[6]), r[7])

    # ---- allocation ---------------------------------------------------------------------------

    def allocate(self, run_id: int, requests: Sequence[ParcelRequest], workbook: str = "") -> Allocation:
        """Give each request's orders a parcel and a tracking number, in one transaction.

        `requests` are in priority order (earliest deadline first). Orders that already have a live
        parcel keep it (`is_new=False`); a request's other orders share one new parcel with the
        next free number of the request's carrier. When a pool runs dry, the remaining requests of
        that carrier come back with `short_orders` and `Allocation.short` says how many are missing.
        On PostgreSQL a transaction that met another station numbering the same order is retried,
        and then finds that station's parcel.
        """
        _check_requests(requests)
        codes = {code: carrier(code).code for code in {r.carrier_code for r in requests}}
        for attempt in range(RETRIES):
            try:
                return self._allocate(run_id, requests, workbook, codes)
            except LedgerConflict:
                if attempt == RETRIES - 1:
                    raise
                retry_pause(attempt)
        raise AssertionError("unreachable")

    def _allocate(self, run_id: int, requests: Sequence[ParcelRequest], workbook: str,
                  codes: Mapping[str, str]) -> Allocation:
        created = now_text()
        db = self._db
        with db.transaction():
            self._require_running(run_id)
            # no row lock here: a void committed meanwhile orders after this run, and two stations
            # numbering the same order meet at UNIQUE (order_sn, live) -> LedgerConflict -> retry
            existing: dict[str, tuple[int, str, str]] = {}
            if not self._no_parcels():
                keys, params = db.keys(sn for r in requests for sn in r.order_sns)
                existing = {sn: (int(pid), tn, cc) for sn, pid, tn, cc in db.execute(
                    f"SELECT po.order_sn, p.id, p.tracking_no, p.carrier FROM {keys} k "
                    "JOIN parcel_orders po ON po.order_sn = k.k AND po.live = 1 "
                    "JOIN parcels p ON p.id = po.parcel_id", params)}
            kept: dict[int, tuple[AllocatedParcel, ...]] = {}
            wanted: dict[str, list[int]] = {}     # carrier -> indexes of requests needing a number
            rest: list[tuple[str, ...]] = []
            for i, req in enumerate(requests):
                sns = req.order_sns
                if existing and any(sn in existing for sn in sns):
                    sns, kept[i] = _split_existing(sns, existing)
                rest.append(sns)
                if sns:
                    wanted.setdefault(codes[req.carrier_code], []).append(i)
            new_parcels, short = self._take_numbers(wanted)
            ids = db.reserve_ids("parcels", len(new_parcels))
            given: dict[int, AllocatedParcel] = {}
            parcel_rows: list[tuple[int, str, str, str, int, str, str]] = []
            order_rows: list[tuple[int, str, int]] = []
            for pid, (i, code, number) in zip(ids, new_parcels, strict=True):
                given[i] = AllocatedParcel(pid, number, code, rest[i], True)
                parcel_rows.append((pid, requests[i].key, code, number, run_id, created, workbook))
                order_rows.extend((pid, sn, pos) for pos, sn in enumerate(rest[i]))
            db.bulk_insert("parcels", ("id", "key", "carrier", "tracking_no", "run_id", "created_at", "workbook"),
                           parcel_rows)
            db.bulk_insert("parcel_orders", ("parcel_id", "order_sn", "pos"), order_rows)
        results: list[RequestResult] = []
        for i, req in enumerate(requests):
            got = given.get(i)
            old = kept.get(i, ())
            if got is not None:
                results.append(RequestResult(req, (*old, got)))
            else:
                results.append(RequestResult(req, old, rest[i]))
        return Allocation(run_id, tuple(results), short)

    def _take_numbers(self, wanted: Mapping[str, list[int]]) -> tuple[list[tuple[int, str, str]], dict[str, int]]:
        """Mark the first free numbers of each carrier used; (request index, carrier, number) + short."""
        taken: list[tuple[int, str, str]] = []
        short: dict[str, int] = {}
        for code, indexes in wanted.items():
            rows = self._db.take_free(code, len(indexes))
            taken.extend((i, code, row[1]) for i, row in zip(indexes, rows, strict=False))
            if len(rows) < len(indexes):
                short[code] = len(indexes) - len(rows)
        taken.sort()
        return taken, short

    def _require_running(self, run_id: int) -> None:
        rows = self._db.execute("SELECT status FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise _no_run(run_id)
        if rows[0][0] != "running":
            raise LedgerError(f"运行 #{run_id} 已结束（{rows[0][0]}），不能再分配单号",
                              f"Run #{run_id} is already {rows[0][0]}; it cannot allocate numbers")

    # ---- parcels ------------------------------------------------------------------------------

    def _no_parcels(self) -> bool:
        """Whether no parcel was ever recorded: a first run's lookups of 100,000 orders (~0.25 s each,
        three a run) have nothing to find."""
        return not self._query("SELECT 1 FROM parcels LIMIT 1")

    def existing_for_orders(self, order_sns: Iterable[str]) -> dict[str, ParcelRecord]:
        """order_sn -> its live parcel, for the orders that have one."""
        if self._no_parcels():
            return {}
        wanted = {str(sn) for sn in order_sns}
        keys, params = self._db.keys(wanted)
        records = self._records(f"p.id IN (SELECT po2.parcel_id FROM parcel_orders po2 JOIN {keys} k "
                                "ON k.k = po2.order_sn WHERE po2.live = 1)", params)
        return {sn: rec for rec in records for sn in rec.order_sns if sn in wanted}

    def unrendered_for_orders(self, order_sns: Iterable[str]) -> list[ParcelRecord]:
        """Live parcels of these orders that no run has rendered yet (e.g. after a crash)."""
        return [r for r in self._unique(self.existing_for_orders(order_sns).values())
                if r.rendered_run_id is None]

    def parcels_for_run(self, run_id: int) -> list[ParcelRecord]:
        """Parcels created by a run (live and voided)."""
        return self._records("p.run_id = ?", (run_id,))

    def find_parcels(self, keys: Iterable[str], live_only: bool = True) -> list[ParcelRecord]:
        """Parcels whose tracking number or one of whose order numbers is in `keys` (for reprint)."""
        if self._no_parcels():
            return []
        frag, params = self._db.keys({v for k in keys if k.strip() for v in (k.strip(), k.strip().upper())})
        cond = (f"(p.tracking_no IN (SELECT k FROM {frag} k1) OR p.id IN (SELECT po2.parcel_id "
                f"FROM parcel_orders po2 JOIN {frag} k ON k.k = po2.order_sn))")
        return self._records(cond + (" AND p.state = 'live'" if live_only else ""), params * 2)

    def mark_rendered(self, parcel_ids: Iterable[int], run_id: int) -> None:
        ids = [int(pid) for pid in parcel_ids]
        frag, params = self._db.ids(ids)
        with self._db.transaction():   # one statement for the whole run's parcels
            self._db.execute(f"UPDATE parcels SET rendered_run_id = ? WHERE id IN {frag}", (run_id, *params))

    def record_reprint(self, parcel_ids: Iterable[int], run_id: int | None = None) -> None:
        at = now_text()
        with self._db.transaction():
            self._db.executemany("INSERT INTO reprints (at, parcel_id, run_id) VALUES (?, ?, ?)",
                                 [(at, pid, run_id) for pid in parcel_ids])

    def reprint_count(self, parcel_id: int) -> int:
        return int(self._query("SELECT count(*) FROM reprints WHERE parcel_id = ?", (parcel_id,))[0][0])

    def void(self, key: str) -> list[ParcelRecord]:
        """Void the live parcel carrying order `key` or numbered `key`; its number is never reused.

        Its orders become free, so the next allocation gives them a new number (换号). Returns the
        voided parcels (state 'voided'); empty when nothing live matched.
        """
        for attempt in range(RETRIES):
            try:
                return self._void(key.strip())
            except LedgerConflict:
                if attempt == RETRIES - 1:
                    raise
                retry_pause(attempt)
        raise AssertionError("unreachable")

    def _void(self, k: str) -> list[ParcelRecord]:
        at = now_text()
        db = self._db
        with db.transaction():
            # tracking numbers are stored upper-case; order numbers exactly as PDD writes them
            ids = sorted({int(r[0]) for r in db.execute(
                "SELECT id FROM parcels WHERE state = 'live' AND tracking_no = ? UNION "
                "SELECT parcel_id FROM parcel_orders WHERE order_sn = ? AND live = 1", (k.upper(), k))})
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            records = self._records(f"p.id IN ({marks})", ids)
            changed = db.execute_count(f"UPDATE parcels SET state = 'voided', voided_at = ? WHERE id IN ({marks}) "
                                       "AND state = 'live'", (at, *ids))
            if changed != len(ids):     # another station voided it at this moment: look again
                raise LedgerConflict("作废时包裹状态已变化", "The parcel changed while voiding it")
            db.execute(f"UPDATE parcel_orders SET live = NULL WHERE parcel_id IN ({marks})", ids)
            db.execute(f"UPDATE numbers SET state = 'voided' WHERE number IN "
                       f"(SELECT tracking_no FROM parcels WHERE id IN ({marks}))", ids)
        return [replace(r, state="voided") for r in records]

    def _records(self, cond: str, params: Sequence[Any] = ()) -> list[ParcelRecord]:
        rows = self._query(f"SELECT {_PARCEL_COLS} FROM parcels p LEFT JOIN parcel_orders po "
                           f"ON po.parcel_id = p.id WHERE {cond} ORDER BY p.id, po.pos", params)
        out: list[ParcelRecord] = []
        current: list[Any] | None = None
        sns: list[str] = []
        for row in rows:
            if current is None or row[0] != current[0]:
                if current is not None:
                    out.append(_record(current, sns))
                current, sns = row, []
            if row[9] is not None:
                sns.append(row[9])
        if current is not None:
            out.append(_record(current, sns))
        return out

    @staticmethod
    def _unique(records: Iterable[ParcelRecord]) -> list[ParcelRecord]:
        seen: dict[int, ParcelRecord] = {}
        for r in records:
            seen.setdefault(r.id, r)
        return sorted(seen.values(), key=lambda r: r.id)

    # ---- tracking -----------------------------------------------------------------------------

    @property
    def events(self) -> EventTable:
        """Tracking events and live-query memory (SQL in `ledger/events.py`)."""
        return EventTable(self._db)

    # ---- checks -------------------------------------------------------------------------------

    def integrity_report(self, stale_after: timedelta = integrity.STALE_AFTER,
                         lang: str = "zh") -> IntegrityReport:
        """Check every invariant; errors mean numbers may be double-used, warnings need a look."""
        return integrity.report(self._db, set(all_carriers()), stale_after, lang)

    def check_integrity(self, stale_after: timedelta = integrity.STALE_AFTER, lang: str = "zh") -> list[str]:
        """The invariant violations (empty = OK); see `integrity_report` for warnings too."""
        return list(self.integrity_report(stale_after, lang).errors)

    def counts(self) -> dict[str, int]:
        """Rows per table (for doctor's summary line)."""
        return {t: int(self._query(f"SELECT count(*) FROM {t}")[0][0])
                for t in ("numbers", "parcels", "parcel_orders", "runs", "reprints")}

    @property
    def database(self) -> Database:
        """The connection seam (for `transfer.copy_ledger` and the tracking events table)."""
        return self._db


def _record(row: Sequence[Any], sns: list[str]) -> ParcelRecord:
    return ParcelRecord(id=int(row[0]), key=row[1], carrier_code=row[2], tracking_no=row[3], state=row[4],
                        order_sns=tuple(sns), run_id=int(row[5]), created_at=row[6],
                        rendered_run_id=None if row[7] is None else int(row[7]), workbook=row[8])


def _check_requests(requests: Sequence[ParcelRequest]) -> None:
    """Every request has orders, and no order is in two requests."""
    if not all(r.order_sns for r in requests):
        bad = next(r for r in requests if not r.order_sns)
        raise LedgerError(f"包裹 {bad.key} 没有订单", f"Parcel {bad.key} has no orders")
    all_sns = [sn for r in requests for sn in r.order_sns]
    if len(set(all_sns)) == len(all_sns):
        return
    owner: dict[str, str] = {}
    for r in requests:
        for sn in r.order_sns:
            if owner.setdefault(sn, r.key) != r.key or r.order_sns.count(sn) > 1:
                raise LedgerError(f"订单 {sn} 出现在两个包裹中（{owner[sn]}、{r.key}）",
                                  f"Order {sn} is in two parcels ({owner[sn]}, {r.key})")


def _split_existing(sns: tuple[str, ...], existing: Mapping[str, tuple[int, str, str]]
                    ) -> tuple[tuple[str, ...], tuple[AllocatedParcel, ...]]:
    """A request's orders without a live parcel, and the live parcels the others keep."""
    groups: dict[int, list[str]] = {}
    fresh: list[str] = []
    for sn in sns:
        hit = existing.get(sn)
        if hit is None:
            fresh.append(sn)
        else:
            groups.setdefault(hit[0], []).append(sn)
    kept = tuple(AllocatedParcel(pid, existing[g[0]][1], existing[g[0]][2], tuple(g), False)
                 for pid, g in groups.items())
    return tuple(fresh), kept


def _no_run(run_id: int) -> LedgerError:
    return LedgerError(f"台账里没有运行记录 #{run_id}", f"No run #{run_id} in the ledger")
