"""The number pools inside the ledger: ranges and files added, what became of each batch, undoing one.

`Ledger` (store.py) offers these as its own methods; this is where they are written. Every change
is one transaction; adding numbers is retried when another station added the same ones at the same
moment (PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from pddbatch.carriers import carrier
from pddbatch.errors import LedgerError
from pddbatch.ledger import imports
from pddbatch.ledger.database import RETRIES, Database, LedgerConflict, now_text, retry_pause
from pddbatch.ledger.pools import (
    CHUNK,
    range_chunks,
    range_ends,
    read_pool_file,
    refuse_wrong_numbers,
    split_numbers,
)
from pddbatch.ledger.records import PoolAddResult, PoolBatch, PoolStatus

MAX_LISTED = 1000      # duplicate numbers listed in a PoolAddResult (the count is always exact)


class PoolStore:
    """The pools of one open ledger (its database connection, its id and its name for people)."""

    def __init__(self, db: Database, ledger_id: str, shown: str) -> None:
        self.db, self.ledger_id, self.shown = db, ledger_id, shown

    def add_range(self, carrier_code: str, start: str, count: int, source: str = "") -> PoolAddResult:
        """Add `count` consecutive numbers from `start` (letters prefix kept, digit width kept).

        Both ends must fit the carrier's format; the range goes in `CHUNK` numbers at a time in one
        transaction, so even ten million numbers stay within memory.
        """
        c = carrier(carrier_code)
        first, last = range_ends(start, count)
        refuse_wrong_numbers(c, [first] if first == last else [first, last],
                             f"号段 {first}–{last} ", f"The range {first}-{last}")
        return self._add(c.code, lambda: range_chunks(start, count), source or f"range:{first}+{count}", [])

    def import_numbers(self, carrier_code: str, numbers: Iterable[str], source: str) -> PoolAddResult:
        """Add numbers to a carrier's pool in the given order, all or none.

        A value that is not this carrier's tracking number refuses the whole import (LedgerError).
        Numbers already in the ledger (any carrier, any state) or repeated in the input are left out
        and listed, with the pools they were already in.
        """
        c = carrier(carrier_code)
        unique, repeats, invalid = split_numbers(numbers)
        refuse_wrong_numbers(c, invalid + unique, f"来源 {source} ", f"Source {source}")
        return self._add(c.code, lambda: (unique[i:i + CHUNK] for i in range(0, len(unique), CHUNK)), source,
                         repeats)

    def _add(self, code: str, chunks: Callable[[], Iterable[list[str]]], source: str,
             repeats: list[str]) -> PoolAddResult:
        added_at = now_text()
        db = self.db
        for attempt in range(RETRIES):
            try:
                with db.transaction():
                    batch = db.insert_id("INSERT INTO pool_batches (carrier, source, added_at, added) "
                                         "VALUES (?, ?, ?, 0)", (code, source, added_at))
                    added, dup_total = 0, 0
                    dups: list[str] = []
                    other: list[str] = []
                    sources: dict[tuple[str, str], int] = {}
                    for chunk in chunks():
                        keys, params = db.keys(chunk)
                        known = {r[0]: (r[1], r[2]) for r in db.execute(
                            f"SELECT n.number, n.carrier, n.source FROM {keys} k JOIN numbers n ON n.number = k.k",
                            params)}
                        fresh = [n for n in chunk if n not in known]
                        db.bulk_insert("numbers", ("carrier", "number", "state", "source", "added_at", "batch_id"),
                                       [(code, n, "free", source, added_at, batch) for n in fresh])
                        added += len(fresh)
                        for n in chunk:
                            if n in known:
                                dup_total += 1
                                held_by, held_source = known[n]
                                sources[(held_by, held_source)] = sources.get((held_by, held_source), 0) + 1
                                if len(dups) < MAX_LISTED:
                                    dups.append(n)
                                if held_by != code and len(other) < MAX_LISTED:
                                    other.append(n)
                    db.execute("UPDATE pool_batches SET added = ?, removed_at = ? WHERE id = ?",
                               (added, added_at if not added else None, batch))
                break
            except LedgerConflict:      # another station added the same numbers at this moment
                if attempt == RETRIES - 1:
                    raise
                retry_pause(attempt)
        dups.extend(repeats[:max(0, MAX_LISTED - len(dups))])
        return PoolAddResult(code, source, added, tuple(dups), tuple(other),
                             tuple((c, src, n) for (c, src), n in sources.items()),
                             batch if added else None, dup_total + len(repeats))

    def import_pool_file(self, path: Path | str, carrier_code: str | None = None,
                         source: str | None = None, *, allow_other_ledger: bool = False) -> PoolAddResult:
        """Import a pool file (see `pools.read_pool_file`). Importing the same file again adds nothing.

        The import is recorded beside the file (`imports.py`); a file already imported into another
        ledger is refused unless `allow_other_ledger`.
        """
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
        c = carrier(code)
        records = imports.check_same_ledger(p, self.ledger_id, allow_other_ledger)
        unique, _repeats, invalid = split_numbers(pool_file.numbers)
        refuse_wrong_numbers(c, invalid + unique, f"单号文件 {p.name} ", f"The number file {p.name}")
        if not any(r.ledger_id == self.ledger_id for r in records):
            # recorded before the numbers go in: a record of an import that then failed is harmless
            imports.add_record(p, imports.ImportRecord(self.ledger_id, self.shown, c.code, now_text(),
                                                       len(unique)))
        return self.import_numbers(c.code, pool_file.numbers, source or f"file:{p.name}")

    def pool_status(self) -> list[PoolStatus]:
        """Free / used / voided counts per carrier that has a pool, by carrier code."""
        rows = self.db.execute(
            "SELECT carrier, sum(CASE WHEN state = 'free' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN state = 'used' THEN 1 ELSE 0 END), sum(CASE WHEN state = 'voided' THEN 1 ELSE 0 END) "
            "FROM numbers GROUP BY carrier ORDER BY carrier")
        return [PoolStatus(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]

    def pool_batches(self, include_removed: bool = False) -> list[PoolBatch]:
        """Every `pool add` / `pool import` that added numbers, oldest first, with what became of them."""
        rows = self.db.execute(
            "SELECT b.id, b.carrier, b.source, b.added_at, b.added, b.removed_at, "
            "sum(CASE WHEN n.state = 'free' THEN 1 ELSE 0 END), sum(CASE WHEN n.state = 'used' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN n.state = 'voided' THEN 1 ELSE 0 END) FROM pool_batches b "
            "LEFT JOIN numbers n ON n.batch_id = b.id "
            + ("" if include_removed else "WHERE b.removed_at IS NULL ")
            + "GROUP BY b.id, b.carrier, b.source, b.added_at, b.added, b.removed_at ORDER BY b.id")
        return [PoolBatch(int(r[0]), r[1], r[2], r[3], int(r[4]), int(r[6] or 0), int(r[7] or 0), int(r[8] or 0),
                          r[5]) for r in rows]

    def remove_pool(self, batch_id: int | None = None) -> PoolBatch:
        """Take back a pool batch that handed out no number yet (the latest one when `batch_id` is None).

        A mistyped `--start` or `--count` is not permanent; once any number of the batch is on a
        parcel the batch stays (LedgerError), because that number is printed somewhere.
        """
        db = self.db
        with db.transaction():
            if batch_id is None:
                rows = db.execute("SELECT max(id) FROM pool_batches WHERE removed_at IS NULL AND added > 0")
                if rows[0][0] is None:
                    raise LedgerError("台账中没有可撤销的号段", "There is no pool batch to undo")
                batch_id = int(rows[0][0])
            found = db.execute("SELECT id FROM pool_batches WHERE id = ? AND removed_at IS NULL" + db.row_lock(),
                               (batch_id,))
            if not found:
                raise LedgerError(f"台账中没有号段 #{batch_id}（或已撤销）",
                                  f"No pool batch #{batch_id} in the ledger (or it was removed already)")
            (batch,) = [b for b in self.pool_batches() if b.id == batch_id]
            handed = db.execute("SELECT count(*) FROM numbers WHERE batch_id = ? AND state != 'free'", (batch_id,))
            if int(handed[0][0]):
                raise LedgerError(
                    f"号段 #{batch_id}（{batch.source}）已经分配出 {batch.used + batch.voided} 个单号，不能撤销："
                    "这些单号已打印在面单上。不用的单号可以留在池中",
                    f"Pool batch #{batch_id} ({batch.source}) has handed out {batch.used + batch.voided} numbers and "
                    "cannot be undone: they are printed on labels. Unused numbers can stay in the pool")
            at = now_text()
            db.execute_count("DELETE FROM numbers WHERE batch_id = ? AND state = 'free'", (batch_id,))
            if int(db.execute("SELECT count(*) FROM numbers WHERE batch_id = ?", (batch_id,))[0][0]):
                raise LedgerError(f"号段 #{batch_id} 刚刚被另一个打包台分配出了单号，不能撤销",
                                  f"Another station has just handed out numbers of pool batch #{batch_id}; "
                                  "it cannot be undone")
            db.execute("UPDATE pool_batches SET removed_at = ? WHERE id = ?", (at, batch_id))
        return replace(batch, free=0, removed_at=at)
