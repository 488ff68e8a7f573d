"""The embedded ledger: one SQLite file in WAL mode, every write one `BEGIN IMMEDIATE` transaction.

Two processes on one file queue up instead of colliding (the write lock is the file's), and a crash
at any point leaves either all of a write or none of it. Keep the file on a local disk: SQLite's
own documentation warns that network file systems break its locking (use PostgreSQL for several
packing stations).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pddbatch.errors import LedgerError
from pddbatch.ledger import schema
from pddbatch.ledger.database import LedgerDamaged
from pddbatch.ledger.location import LedgerLocation
from pddbatch.ledger.schema import APPLICATION_ID, META_TABLE, statements
from pddbatch.ledger.sqlite_file import creation_name, refuse_damaged_file, remove_stale_creations, sync_dir

BUSY_TIMEOUT_MS = 30_000


class SqliteDatabase:
    """A ledger file. `SqliteDatabase.open(path)` creates, checks and migrates it."""

    kind = "sqlite"

    def __init__(self, conn: sqlite3.Connection, path: Path, version: int) -> None:
        self._conn = conn
        self._location = path
        self.shown = str(path)
        self.version = version

    @classmethod
    def open(cls, path: Path) -> SqliteDatabase:
        """Open (creating if needed) and migrate the ledger at `path`; LedgerError on any trouble."""
        if path.exists() and path.is_dir():
            raise LedgerError(f"台账路径是一个文件夹，不是台账文件：{path}",
                              f"The ledger path is a folder, not a ledger file: {path}")
        refuse_damaged_file(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"无法创建台账所在的文件夹 {path.parent}：{exc.strerror}",
                              f"Cannot create the ledger folder {path.parent}: {exc.strerror}") from exc
        if not path.exists():
            _create(path)
        conn, version = _connect(path)
        return cls(conn, path, version)

    @property
    def location(self) -> LedgerLocation:
        return self._location

    def close(self) -> None:
        self._conn.close()

    # ---- statements ----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            yield
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc) from exc
            raise

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def execute_count(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def insert_id(self, sql: str, params: Sequence[Any]) -> int:
        try:
            rowid = self._conn.execute(sql, params).lastrowid
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        assert rowid is not None
        return rowid

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        marks = ", ".join("?" * len(columns))
        self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def keys(self, keys: Iterable[str]) -> tuple[str, list[Any]]:
        """Keys go into a temp table: joins beat 100k-long IN lists."""
        conn = self._conn
        values = [str(k) for k in keys]
        try:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _keys (k TEXT PRIMARY KEY) WITHOUT ROWID")
            conn.execute("DELETE FROM temp._keys")
            try:   # one statement: 100k keys in ~0.09 s, against ~0.3 s as 100k single-row inserts
                conn.execute("INSERT OR IGNORE INTO temp._keys (k) SELECT value FROM json_each(?)",
                             (json.dumps(values, ensure_ascii=False),))
            except sqlite3.OperationalError:   # an SQLite built without JSON functions
                conn.executemany("INSERT OR IGNORE INTO temp._keys (k) VALUES (?)", ((k,) for k in values))
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        return "temp._keys", []

    def ids(self, ids: Sequence[int]) -> tuple[str, list[Any]]:
        return "(SELECT value FROM json_each(?))", [json.dumps([int(i) for i in ids])]

    def take_free(self, carrier: str, count: int) -> list[tuple[int, str]]:
        rows = self.execute("SELECT id, number FROM numbers WHERE carrier = ? AND state = 'free' "
                            "ORDER BY id LIMIT ?", (carrier, count))
        if rows:
            # the picked rows are exactly the free ones up to the last picked id (we hold the lock)
            changed = self.execute_count("UPDATE numbers SET state = 'used' WHERE carrier = ? AND state = 'free' "
                                         "AND id <= ?", (carrier, rows[-1][0]))
            if changed != len(rows):
                raise LedgerError("台账数据不一致：取号数量不符；请运行 pddbatch doctor",
                                  "Ledger inconsistent while taking numbers; run pddbatch doctor")
        return [(int(r[0]), str(r[1])) for r in rows]

    def reserve_ids(self, table: str, count: int) -> list[int]:
        # inside BEGIN IMMEDIATE nobody else can insert: the next ids are ours
        first = int(self.execute(f"SELECT coalesce(max(id), 0) FROM {table}")[0][0]) + 1
        return list(range(first, first + count))

    def row_lock(self) -> str:
        return ""    # the write transaction already holds the whole file

    # ---- checks and copies ---------------------------------------------------------------------

    def physical_problems(self, lang: str) -> list[str]:
        en = lang == "en"
        out: list[str] = []
        rows = self.execute("PRAGMA integrity_check")
        if [r[0] for r in rows] != ["ok"]:
            detail = "; ".join(str(r[0]) for r in rows[:5])
            out.append(f"SQLite integrity check failed: {detail}" if en else f"SQLite 完整性检查失败：{detail}")
        fk = self.execute("PRAGMA foreign_key_check")
        if fk:
            out.append(f"{len(fk)} rows break foreign keys" if en else f"{len(fk)} 行违反外键约束")
        return out

    def tables(self) -> list[str]:
        return [r[0] for r in self.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name")]

    def columns(self, table: str) -> list[str]:
        return [str(r[1]) for r in self.execute(f"PRAGMA table_info({table})")]

    def stream(self, sql: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
        try:
            cur = self._conn.execute(sql)
            while batch := cur.fetchmany(size):
                yield batch
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def after_copy(self, tables: Sequence[str]) -> None:
        return None    # INTEGER PRIMARY KEY continues after the largest id by itself

    def _error(self, exc: sqlite3.Error) -> LedgerError:
        return _run_error(self._location, exc)


def _connect(path: Path, shown: Path | None = None) -> tuple[sqlite3.Connection, int]:
    """A connection to the ledger file at `path` (WAL, FULL sync, foreign keys), migrated to the latest
    schema; messages name `shown` (the ledger a temporary file is becoming)."""
    real, path = path, shown or path
    try:
        conn = sqlite3.connect(str(real), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise _open_error(path, exc) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise LedgerError(f"台账无法切换到 WAL 模式（{mode}）：{path}",
                              f"The ledger cannot use WAL mode ({mode}): {path}")
        # The ledger is money: a commit must survive a power cut, not just a crash.
        conn.execute("PRAGMA synchronous = FULL")
        version = _migrate(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise _open_error(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    return conn, version


def _create(path: Path) -> None:
    """Make a new ledger at `path` all at once: built and synced under a temporary name, then linked in.

    A run stopped while creating (a kill, a power cut) leaves no ledger or a whole one, never the
    empty file SQLite starts with, which the next run must refuse as a possibly emptied ledger.
    Two processes creating at once: the first link wins, the other opens that ledger.
    """
    remove_stale_creations(path)
    tmp = creation_name(path)
    try:
        conn, _ = _connect(tmp, shown=path)
        conn.close()                                  # the last close checkpoints and removes the WAL
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)                        # fails if another process linked its ledger first
        except FileExistsError:
            pass
        except OSError:                               # no hard links here (FAT, some shares)
            if not path.exists():
                os.rename(tmp, path)
        sync_dir(path.parent)
    except OSError as exc:
        raise LedgerError(f"无法创建台账文件 {path}：{exc.strerror}",
                          f"Cannot create the ledger file {path}: {exc.strerror}") from exc
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)


def _migrate(conn: sqlite3.Connection, path: Path) -> int:
    latest = len(schema.MIGRATIONS)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if version > latest:
            raise LedgerError(
                f"台账 {path.name} 由更新版本的 pddbatch 创建（格式 {version}，本版本支持到 {latest}）："
                "请升级 pddbatch",
                f"Ledger {path.name} was written by a newer pddbatch (schema {version}, this one knows "
                f"up to {latest}): upgrade pddbatch")
        if version == 0:
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
            if tables.fetchone()[0]:
                raise _not_a_ledger(path)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        elif app_id != APPLICATION_ID:
            raise _not_a_ledger(path)
        for target in range(version + 1, latest + 1):
            for statement in statements(schema.MIGRATIONS[target - 1], "sqlite"):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES ('ledger_id', ?) ON CONFLICT (key) DO NOTHING",
                     (uuid.uuid4().hex,))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return int(max(version, latest))


def _not_a_ledger(path: Path) -> LedgerError:
    return LedgerDamaged(f"{path.name} 是一个 SQLite 数据库，但不是 pddbatch 台账：请换一个文件名或位置",
                         f"{path.name} is an SQLite database but not a pddbatch ledger: use another file")


def _open_error(path: Path, exc: sqlite3.Error) -> LedgerError:
    text = str(exc)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return LedgerDamaged(
            f"台账文件已损坏或不是台账：{path}（{text}）。请从备份恢复台账文件",
            f"The ledger file is corrupt or not a ledger: {path} ({text}). Restore it from a backup")
    if "locked" in text or "busy" in text:
        return LedgerError(f"台账正被另一个程序长时间占用：{path}",
                           f"The ledger is held by another program for too long: {path}")
    if "readonly" in text or "unable to open" in text:
        return LedgerError(f"无法打开或写入台账：{path}（{text}）；请检查文件权限",
                           f"Cannot open or write the ledger: {path} ({text}); check permissions")
    return LedgerError(f"台账出错：{path}（{text}）", f"Ledger error: {path} ({text})")


def _run_error(path: Path | str, exc: sqlite3.Error) -> LedgerError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return LedgerError(f"台账正被另一个 pddbatch 进程占用，等待超时：{path}",
                           f"The ledger is busy with another pddbatch process (timed out): {path}")
    if "full" in text or "disk I/O" in text:
        return LedgerError(f"台账写入失败：磁盘空间不足或磁盘出错（{path}）。本次没有分配任何单号；"
                           f"腾出空间后重新运行即可",
                           f"Could not write the ledger: disk full or failing ({path}). No number was "
                           f"allocated by this step; free some space and run again")
    if "malformed" in text or "not a database" in text:
        return LedgerDamaged(f"台账文件已损坏：{path}（{text}）。请从备份恢复台账文件",
                             f"The ledger file is corrupt: {path} ({text}). Restore it from a backup")
    return LedgerError(f"台账操作失败：{text}（{path}）；可运行 pddbatch doctor 检查",
                       f"Ledger operation failed: {text} ({path}); run pddbatch doctor")
