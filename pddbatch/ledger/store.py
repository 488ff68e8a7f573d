"""`Ledger`: the durable SQLite store of number pools, parcels, the order->parcel map and runs.

One `Ledger` object holds one connection; use it from one thread. Every write is one
`BEGIN IMMEDIATE` transaction, so two processes on one file queue up instead of colliding, and a
crash at any point leaves either all of a write or none of it.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from pddbatch.carriers import all_carriers, carrier, matches_pattern
from pddbatch.errors import LedgerError
from pddbatch.ledger import integrity
from pddbatch.ledger.pools import range_numbers, read_pool_file, split_numbers
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
    RunStatus,
)
from pddbatch.ledger.schema import connect

_PARCEL_COLS = ("p.id, p.key, p.carrier, p.tracking_no, p.state, p.run_id, p.created_at, "
                "p.rendered_run_id, p.workbook, po.order_sn")


def now_text() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class Ledger:
    """The ledger file. Open with `Ledger.open(path)`; use as a context manager or call `close()`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    # ---- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str) -> Ledger:
        """Open the ledger at `path`, creating folders and file and migrating the schema as needed."""
        p = Path(path).expanduser()
        return cls(connect(p), p)

    def close(self) -> None:
        self._conn.close()

    @property
    def ledger_id(self) -> str:
        """This ledger's identity (made once, when the ledger was created; never changes)."""
        return str(self._query("SELECT value FROM meta WHERE key = 'ledger_id'")[0][0])

    def parcel_count(self) -> int:
        """Parcels ever recorded (voided ones included)."""
        return int(self._query("SELECT count(*) FROM parcels")[0][0])

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; rolled back on any exception (Ctrl-C included)."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from exc
            raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error) -> LedgerError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return LedgerError(f"台账正被另一个 pddbatch 进程占用，等待超时：{self.path}",
                               f"The ledger is busy with another pddbatch process (timed out): {self.path}")
        if "full" in text or "disk I/O" in text:
            return LedgerError(f"台账写入失败：磁盘空间不足或磁盘出错（{self.path}）。本次没有分配任何单号；"
                               f"腾出空间后重新运行即可",
                               f"Could not write the ledger: disk full or failing ({self.path}). No number was "
                               f"allocated by this step; free some space and run again")
        return LedgerError(f"台账操作失败：{text}（{self.path}）；可运行 pddbatch doctor 检查",
                           f"Ledger operation failed: {text} ({self.path}); run pddbatch doctor")

    def _load_keys(self, keys: Iterable[str]) -> None:
        """Put `keys` into the connection's temp table `_keys` (joins beat 100k-long IN lists)."""
        conn = self._conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _keys (k TEXT PRIMARY KEY) WITHOUT ROWID")
        conn.execute("DELETE FROM temp._keys")
        values = [str(k) for k in keys]
        try:   # one statement: 100k keys in ~0.09 s, against ~0.3 s as 100k single-row inserts
            conn.execute("INSERT OR IGNORE INTO temp._keys (k) SELECT value FROM json_each(?)",
                         (json.dumps(values, ensure_ascii=False),))
        except sqlite3.OperationalError:   # an SQLite built without JSON functions
            conn.executemany("INSERT OR IGNORE INTO temp._keys (k) VALUES (?)", ((k,) for k in values))

    # ---- pools --------------------------------------------------------------------------------

    def add_range(self, carrier_code: str, start: str, count: int, source: str = "") -> PoolAddResult:
        """Add `count` consecutive numbers from `start` (letters prefix kept, digit width kept)."""
        numbers = range_numbers(start, count)
        return self.import_numbers(carrier_code, numbers, source or f"range:{numbers[0]}+{count}")

    def import_numbers(self, carrier_code: str, numbers: Iterable[str], source: str) -> PoolAddResult:
        """Add numbers to a carrier's pool in the given order.

        Numbers already in the ledger (any carrier, any state) or repeated in the input are refused
        and listed; numbers outside the carrier's known format are added and listed as warnings.
        """
        c = carrier(carrier_code)
        unique, repeats, invalid = split_numbers(numbers)
        added_at = now_text()
        with self._write() as conn:
            self._load_keys(unique)
            known = {r[0] for r in conn.execute(
                "SELECT k FROM temp._keys JOIN numbers ON numbers.number = temp._keys.k")}
            fresh = [n for n in unique if n not in known]
            conn.executemany(
                "INSERT INTO numbers (carrier, number, state, source, added_at) VALUES (?, ?, 'free', ?, ?)",
                ((c.code, n, source, added_at) for n in fresh))
        duplicates = [n for n in unique if n in known] + repeats
        warnings = [n for n in fresh if not matches_pattern(c, n)]
        return PoolAddResult(c.code, source, len(fresh), tuple(duplicates), tuple(warnings), tuple(invalid))

    def import_pool_file(self, path: Path | str, carrier_code: str | None = None,
                         source: str | None = None) -> PoolAddResult:
        """Import a pool file (see `pools.read_pool_file`). Importing the same file again adds nothing."""
        p = Path(path)
        pool_file = read_pool_file(p)
        code = carrier_code or pool_file.carrier
        if not code:
            raise LedgerError(f"不知道 {p.name} 里的单号属于哪家快递：请用 --carrier 指定，"
                              "或在文件第一行写 “# carrier: ZTO”",
                              f"Which carrier do the numbers in {p.name} belong to? Pass --carrier or put "
                              "'# carrier: ZTO' on the first line")
        if not pool_file.numbers:
            raise LedgerError(f"{p.name} 里没有单号", f"No numbers found in {p.name}")
        return self.import_numbers(code, pool_file.numbers, source or f"file:{p.name}")

    def pool_status(self) -> list[PoolStatus]:
        """Free / used / voided counts per carrier that has a pool, by carrier code."""
        rows = self._query(
            "SELECT carrier, sum(state = 'free'), sum(state = 'used'), sum(state = 'voided') "
            "FROM numbers GROUP BY carrier ORDER BY carrier")
        return [PoolStatus(r[0], r[1], r[2], r[3]) for r in rows]

    # ---- runs ---------------------------------------------------------------------------------

    def begin_run(self, workbook: str) -> int:
        """Record the start of a run; runs left 'running' by dead processes here become 'failed'."""
        host, pid = socket.gethostname(), os.getpid()
        with self._write() as conn:
            for run_id, run_pid in conn.execute(
                    "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (host,)).fetchall():
                if integrity.pid_alive(run_pid) is False:
                    conn.execute("UPDATE runs SET status = 'failed', finished_at = ?, summary = ? "
                                 "WHERE id = ?", (now_text(), json.dumps({"abandoned": True}), run_id))
            cur = conn.execute("INSERT INTO runs (workbook, started_at, status, pid, host) "
                               "VALUES (?, ?, 'running', ?, ?)", (workbook, now_text(), pid, host))
            run_id = cur.lastrowid
        assert run_id is not None
        return run_id

    def finish_run(self, run_id: int, status: RunStatus, summary: Mapping[str, object]) -> None:
        if status not in ("done", "failed"):
            raise LedgerError(f"运行状态无效：{status}", f"Bad run status: {status}")
        with self._write() as conn:
            cur = conn.execute("UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
                               (status, now_text(), json.dumps(summary, ensure_ascii=False, default=str),
                                run_id))
            if cur.rowcount != 1:
                raise _no_run(run_id)

    def run(self, run_id: int) -> RunRecord:
        rows = self._query("SELECT id, workbook, started_at, finished_at, status, summary, pid, host "
                           "FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise _no_run(run_id)
        r = rows[0]
        return RunRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7])

    # ---- allocation ---------------------------------------------------------------------------

    def allocate(self, run_id: int, requests: Sequence[ParcelRequest], workbook: str = "") -> Allocation:
        """Give each request's orders a parcel and a tracking number, in one transaction.

        `requests` are in priority order (earliest deadline first). Orders that already have a live
        parcel keep it (`is_new=False`); a request's other orders share one new parcel with the
        next free number of the request's carrier. When a pool runs dry, the remaining requests of
        that carrier come back with `short_orders` and `Allocation.short` says how many are missing.
        """
        _check_requests(requests)
        codes = {code: carrier(code).code for code in {r.carrier_code for r in requests}}
        created = now_text()
        with self._write() as conn:
            self._require_running(run_id)
            self._load_keys(sn for r in requests for sn in r.order_sns)
            existing: dict[str, tuple[int, str, str]] = {
                sn: (pid, tn, cc) for sn, pid, tn, cc in conn.execute(
                    "SELECT po.order_sn, p.id, p.tracking_no, p.carrier FROM temp._keys k "
                    "JOIN parcel_orders po ON po.order_sn = k.k AND po.live = 1 "
                    "JOIN parcels p ON p.id = po.parcel_id")}
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
            new_parcels, short = self._take_numbers(conn, wanted)
            next_id = conn.execute("SELECT coalesce(max(id), 0) FROM parcels").fetchone()[0] + 1
            given: dict[int, AllocatedParcel] = {}
            parcel_rows: list[tuple[int, str, str, str, int, str, str]] = []
            order_rows: list[tuple[int, str, int]] = []
            for offset, (i, code, number) in enumerate(new_parcels):
                pid = next_id + offset
                given[i] = AllocatedParcel(pid, number, code, rest[i], True)
                parcel_rows.append((pid, requests[i].key, code, number, run_id, created, workbook))
                order_rows.extend((pid, sn, pos) for pos, sn in enumerate(rest[i]))
            conn.executemany("INSERT INTO parcels (id, key, carrier, tracking_no, run_id, created_at, workbook) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", parcel_rows)
            conn.executemany("INSERT INTO parcel_orders (parcel_id, order_sn, pos) VALUES (?, ?, ?)",
                             order_rows)
        results: list[RequestResult] = []
        for i, req in enumerate(requests):
            got = given.get(i)
            old = kept.get(i, ())
            if got is not None:
                results.append(RequestResult(req, (*old, got)))
            else:
                results.append(RequestResult(req, old, rest[i]))
        return Allocation(run_id, tuple(results), short)

    def _take_numbers(self, conn: sqlite3.Connection, wanted: Mapping[str, list[int]]
                      ) -> tuple[list[tuple[int, str, str]], dict[str, int]]:
        """Mark the first free numbers of each carrier used; (request index, carrier, number) + short."""
        taken: list[tuple[int, str, str]] = []
        short: dict[str, int] = {}
        for code, indexes in wanted.items():
            rows = conn.execute("SELECT id, number FROM numbers WHERE carrier = ? AND state = 'free' "
                                "ORDER BY id LIMIT ?", (code, len(indexes))).fetchall()
            if rows:
                # the picked rows are exactly the free ones up to the last picked id (we hold the lock)
                cur = conn.execute("UPDATE numbers SET state = 'used' WHERE carrier = ? AND state = 'free' "
                                   "AND id <= ?", (code, rows[-1][0]))
                if cur.rowcount != len(rows):
                    raise LedgerError("台账数据不一致：取号数量不符；请运行 pddbatch doctor",
                                      "Ledger inconsistent while taking numbers; run pddbatch doctor")
            taken.extend((i, code, row[1]) for i, row in zip(indexes, rows, strict=False))
            if len(rows) < len(indexes):
                short[code] = len(indexes) - len(rows)
        taken.sort()
        return taken, short

    def _require_running(self, run_id: int) -> None:
        row = self._conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise _no_run(run_id)
        if row[0] != "running":
            raise LedgerError(f"运行 #{run_id} 已结束（{row[0]}），不能再分配单号",
                              f"Run #{run_id} is already {row[0]}; it cannot allocate numbers")

    # ---- parcels ------------------------------------------------------------------------------

    def existing_for_orders(self, order_sns: Iterable[str]) -> dict[str, ParcelRecord]:
        """order_sn -> its live parcel, for the orders that have one."""
        self._load_keys(order_sns)
        records = self._records("p.id IN (SELECT po2.parcel_id FROM parcel_orders po2 JOIN temp._keys k "
                                "ON k.k = po2.order_sn WHERE po2.live = 1)")
        wanted = {r[0] for r in self._query("SELECT k FROM temp._keys")}
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
        self._load_keys(v for k in keys if k.strip() for v in (k.strip(), k.strip().upper()))
        cond = ("(p.tracking_no IN (SELECT k FROM temp._keys) OR p.id IN (SELECT po2.parcel_id "
                "FROM parcel_orders po2 JOIN temp._keys k ON k.k = po2.order_sn))")
        return self._records(cond + (" AND p.state = 'live'" if live_only else ""))

    def mark_rendered(self, parcel_ids: Iterable[int], run_id: int) -> None:
        ids = [int(pid) for pid in parcel_ids]
        with self._write() as conn:
            try:   # one statement for the whole run's parcels
                conn.execute("UPDATE parcels SET rendered_run_id = ? WHERE id IN (SELECT value FROM json_each(?))",
                             (run_id, json.dumps(ids)))
            except sqlite3.OperationalError:   # an SQLite built without JSON functions
                conn.executemany("UPDATE parcels SET rendered_run_id = ? WHERE id = ?", ((run_id, i) for i in ids))

    def record_reprint(self, parcel_ids: Iterable[int], run_id: int | None = None) -> None:
        at = now_text()
        with self._write() as conn:
            conn.executemany("INSERT INTO reprints (at, parcel_id, run_id) VALUES (?, ?, ?)",
                             ((at, pid, run_id) for pid in parcel_ids))

    def reprint_count(self, parcel_id: int) -> int:
        return int(self._query("SELECT count(*) FROM reprints WHERE parcel_id = ?", (parcel_id,))[0][0])

    def void(self, key: str) -> list[ParcelRecord]:
        """Void the live parcel carrying order `key` or numbered `key`; its number is never reused.

        Its orders become free, so the next allocation gives them a new number (换号). Returns the
        voided parcels (state 'voided'); empty when nothing live matched.
        """
        k = key.strip()
        at = now_text()
        with self._write() as conn:
            # tracking numbers are stored upper-case; order numbers exactly as PDD writes them
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM parcels WHERE state = 'live' AND tracking_no = ? UNION "
                "SELECT parcel_id FROM parcel_orders WHERE order_sn = ? AND live = 1", (k.upper(), k))]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            records = self._records(f"p.id IN ({marks})", ids)
            conn.execute(f"UPDATE parcels SET state = 'voided', voided_at = ? WHERE id IN ({marks})", (at, *ids))
            conn.execute(f"UPDATE parcel_orders SET live = NULL WHERE parcel_id IN ({marks})", ids)
            conn.execute(f"UPDATE numbers SET state = 'voided' WHERE number IN "
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

    # ---- checks -------------------------------------------------------------------------------

    def integrity_report(self, stale_after: timedelta = integrity.STALE_AFTER,
                         lang: str = "zh") -> IntegrityReport:
        """Check every invariant; errors mean numbers may be double-used, warnings need a look."""
        try:
            return integrity.report(self._conn, set(all_carriers()), stale_after, lang)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def check_integrity(self, stale_after: timedelta = integrity.STALE_AFTER, lang: str = "zh") -> list[str]:
        """The invariant violations (empty = OK); see `integrity_report` for warnings too."""
        return list(self.integrity_report(stale_after, lang).errors)

    def counts(self) -> dict[str, int]:
        """Rows per table (for doctor's summary line)."""
        return {t: int(self._query(f"SELECT count(*) FROM {t}")[0][0])
                for t in ("numbers", "parcels", "parcel_orders", "runs", "reprints")}


def _record(row: Sequence[Any], sns: list[str]) -> ParcelRecord:
    return ParcelRecord(id=row[0], key=row[1], carrier_code=row[2], tracking_no=row[3], state=row[4],
                        order_sns=tuple(sns), run_id=row[5], created_at=row[6], rendered_run_id=row[7],
                        workbook=row[8])


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
