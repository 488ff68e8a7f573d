"""The shared ledger: a PostgreSQL database, for several packing stations drawing from one pool.

psycopg 3 in autocommit mode with explicit transactions at READ COMMITTED. The invariants are the
database's: UNIQUE and FOREIGN KEY constraints as on SQLite, and row locks instead of a file lock.
Stations take free numbers with `FOR UPDATE SKIP LOCKED`, so two runs never wait on each other
for the same pool rows (a second pass without SKIP LOCKED takes any number a run that rolled back
left free, so nobody reports a false shortage). Two stations numbering the same order at once
meet at the `UNIQUE (order_sn, live)` index: the later one gets `LedgerConflict` and retries,
and then finds the first one's parcel. Bulk rows go in with COPY: 100k parcels in one round trip.
Migrations run under a transaction-scoped advisory lock, so stations starting together migrate once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pddbatch.errors import LedgerError
from pddbatch.ledger import schema
from pddbatch.ledger.database import LedgerConflict, LedgerDamaged
from pddbatch.ledger.location import LedgerLocation, database_name, masked, scrub
from pddbatch.ledger.schema import APPLICATION_ID, META_TABLE, statements

CONNECT_TIMEOUT_S = 10
LOCK_TIMEOUT = "30s"
_CONFLICT_STATES = {"23505", "40001", "40P01"}   # unique violation, serialization failure, deadlock
_LOST_STATES_PREFIX = ("08", "57P")               # connection exceptions, operator intervention


def _driver() -> Any:
    try:
        import psycopg
    except ImportError as exc:   # pragma: no cover - psycopg is a dependency
        raise LedgerError("未安装 PostgreSQL 驱动 psycopg：请运行 pip install \"psycopg[binary]\"",
                          "The PostgreSQL driver psycopg is not installed: pip install \"psycopg[binary]\"") from exc
    return psycopg


class PostgresDatabase:
    """A ledger in a PostgreSQL database. `PostgresDatabase.open(url)` connects, checks and migrates."""

    kind = "postgresql"

    def __init__(self, conn: Any, url: str, version: int) -> None:
        self._conn = conn
        self._location = url
        self.shown = masked(url)
        self.version = version
        self._psycopg = _driver()

    @classmethod
    def open(cls, url: str) -> PostgresDatabase:
        psycopg = _driver()
        shown = masked(url)
        extra: dict[str, Any] = {"autocommit": True, "application_name": "pddbatch"}
        if "connect_timeout" not in url:
            extra["connect_timeout"] = CONNECT_TIMEOUT_S
        try:
            conn = psycopg.connect(url, **extra)
        except psycopg.Error as exc:
            raise _connect_error(url, exc) from None   # the driver's text may hold the password
        except Exception as exc:   # e.g. a malformed URL (psycopg.ProgrammingError is an Error too)
            raise LedgerError(f"台账地址无效：{shown}（{scrub(str(exc), url)}）",
                              f"Bad ledger URL: {shown} ({scrub(str(exc), url)})") from None
        try:
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            version = _migrate(conn, url)
        except psycopg.Error as exc:
            conn.close()
            raise _run_error(url, exc) from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, url, version)

    @property
    def location(self) -> LedgerLocation:
        return self._location

    def close(self) -> None:
        self._conn.close()

    # ---- statements ----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        psycopg = self._psycopg
        try:
            with self._conn.transaction():
                yield
        except psycopg.Error as exc:
            raise self._error(exc) from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cur = self._conn.execute(_pg(sql), params or None)
            return cur.fetchall() if cur.description is not None else []
        except self._psycopg.Error as exc:
            raise self._error(exc) from None

    def execute_count(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return int(self._conn.execute(_pg(sql), params or None).rowcount)
        except self._psycopg.Error as exc:
            raise self._error(exc) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            with self._conn.cursor() as cur:
                cur.executemany(_pg(sql), list(rows))
        except self._psycopg.Error as exc:
            raise self._error(exc) from None

    def insert_id(self, sql: str, params: Sequence[Any]) -> int:
        return int(self.execute(sql + " RETURNING id", params)[0][0])

    def bulk_insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            with self._conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except self._psycopg.Error as exc:
            raise self._error(exc) from None

    def keys(self, keys: Iterable[str]) -> tuple[str, list[Any]]:
        return "(SELECT DISTINCT unnest(?::text[]) AS k)", [[str(k) for k in keys]]

    def ids(self, ids: Sequence[int]) -> tuple[str, list[Any]]:
        return "(SELECT unnest(?::bigint[]))", [[int(i) for i in ids]]

    def take_free(self, carrier: str, count: int) -> list[tuple[int, str]]:
        taken: list[tuple[int, str]] = []
        # first the rows nobody holds; then wait for held ones (a run that rolls back frees them)
        for lock in ("FOR UPDATE SKIP LOCKED", "FOR UPDATE"):
            while len(taken) < count:
                rows = self.execute(
                    "WITH picked AS (SELECT id FROM numbers WHERE carrier = ? AND state = 'free' "
                    f"ORDER BY id LIMIT ? {lock}) "
                    "UPDATE numbers SET state = 'used' FROM picked WHERE numbers.id = picked.id "
                    "AND numbers.state = 'free' RETURNING numbers.id, numbers.number",
                    (carrier, count - len(taken)))
                if not rows:
                    break
                taken.extend((int(r[0]), str(r[1])) for r in rows)
        taken.sort()
        return taken

    def reserve_ids(self, table: str, count: int) -> list[int]:
        if count <= 0:
            return []
        rows = self.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                            "FROM generate_series(1, ?)", (count,))
        return [int(r[0]) for r in rows]

    def row_lock(self) -> str:
        return " FOR UPDATE"

    # ---- checks and copies ---------------------------------------------------------------------

    def physical_problems(self, lang: str) -> list[str]:
        return []   # PostgreSQL checks its pages itself; damage shows as errors on reading

    def tables(self) -> list[str]:
        return [r[0] for r in self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name")]

    def columns(self, table: str) -> list[str]:
        return [str(r[0]) for r in self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position", (table,))]

    def stream(self, sql: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
        try:
            with self._conn.cursor() as cur:
                cur.execute(_pg(sql))
                while batch := cur.fetchmany(size):
                    yield batch
        except self._psycopg.Error as exc:
            raise self._error(exc) from None

    def after_copy(self, tables: Sequence[str]) -> None:
        for table in tables:
            seq = self.execute("SELECT pg_get_serial_sequence(?, 'id') FROM information_schema.columns "
                               "WHERE table_schema = current_schema() AND table_name = ? AND column_name = 'id'",
                               (table, table))
            if seq and seq[0][0]:
                self.execute(f"SELECT setval(?, coalesce((SELECT max(id) FROM {table}), 0) + 1, false)",
                             (seq[0][0],))

    def _error(self, exc: Exception) -> LedgerError:
        return _run_error(self._location, exc)


def _pg(sql: str) -> str:
    """Our SQL uses `?` placeholders (SQLite's); psycopg wants `%s` (and `%` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _migrate(conn: Any, url: str) -> int:
    latest = len(schema.MIGRATIONS)
    with conn.transaction():
        # stations starting at once on an empty database: one migrates, the others wait
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPLICATION_ID,))
        has_meta = conn.execute("SELECT to_regclass(%s)", (META_TABLE,)).fetchone()[0] is not None
        if has_meta:
            row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
        else:
            others = conn.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_schema = current_schema()").fetchone()[0]
            if others:
                raise LedgerDamaged(
                    f"数据库 {database_name(url)} 里已有别的表，不是 pddbatch 台账：请为 pddbatch 单独建一个数据库"
                    f"（{masked(url)}）",
                    f"Database {database_name(url)} already holds other tables and is not a pddbatch ledger: "
                    f"give pddbatch a database of its own ({masked(url)})")
            version = 0
        if version > latest:
            raise LedgerError(
                f"台账数据库 {database_name(url)} 由更新版本的 pddbatch 创建（格式 {version}，本版本支持到 "
                f"{latest}）：请在这台电脑上升级 pddbatch",
                f"Ledger database {database_name(url)} was written by a newer pddbatch (schema {version}, this "
                f"one knows up to {latest}): upgrade pddbatch on this computer")
        for target in range(version + 1, latest + 1):
            for statement in statements(schema.MIGRATIONS[target - 1], "postgresql"):
                conn.execute(statement)
        if version < latest:
            conn.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES ('schema_version', %s) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(latest),))
        conn.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES ('ledger_id', %s) ON CONFLICT (key) DO NOTHING",
                     (uuid.uuid4().hex,))
    return max(version, latest)


def _connect_error(url: str, exc: Exception) -> LedgerError:
    shown = masked(url)
    state = getattr(exc, "sqlstate", None) or ""
    text = scrub(str(exc), url).strip()
    low = text.lower()
    if state == "28P01" or "password authentication failed" in low or "no password supplied" in low:
        return LedgerError(f"无法登录台账数据库：用户名或密码不对（{shown}）",
                           f"Cannot log in to the ledger database: wrong user name or password ({shown})")
    if state == "3D000" or ("database" in low and "does not exist" in low):
        return LedgerError(f"台账数据库 {database_name(url)} 不存在：请先在服务器上创建它（{shown}）",
                           f"The ledger database {database_name(url)} does not exist: create it on the server "
                           f"first ({shown})")
    if state == "28000" or ("role" in low and "does not exist" in low):
        return LedgerError(f"台账数据库不接受这个用户登录（{shown}）：请检查用户名和服务器的 pg_hba.conf",
                           f"The ledger database does not accept this user ({shown}): check the user name and "
                           "the server's pg_hba.conf")
    if "ssl" in low or "certificate" in low:
        return LedgerError(f"无法与台账数据库建立加密连接（{shown}）：{text}",
                           f"Cannot open an encrypted connection to the ledger database ({shown}): {text}")
    return LedgerError(f"连接不上台账数据库服务器（{shown}）：请检查服务器是否开机、地址和端口是否正确、网络是否通",
                       f"Cannot reach the ledger database server ({shown}): check that it is running, the "
                       "address and port, and the network")


def _run_error(url: str, exc: Exception) -> LedgerError:
    if isinstance(exc, LedgerError):
        return exc
    shown = masked(url)
    state = getattr(exc, "sqlstate", None) or ""
    text = scrub(str(exc), url).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if state in _CONFLICT_STATES:
        return LedgerConflict(f"另一个打包台同时改动了同样的台账记录：{text}",
                              f"Another station changed the same ledger rows at the same moment: {text}")
    lost = state.startswith(_LOST_STATES_PREFIX) or _is_lost(exc)
    if lost:
        return LedgerError(
            f"与台账数据库的连接中断了（{shown}）。这一步没有完成，也没有留下半分配的单号；"
            "服务器恢复后重新运行即可，已分配的订单会得到同样的单号",
            f"The connection to the ledger database was lost ({shown}). This step did not complete and left "
            "no half-allocated number; run again once the server is back and numbered orders keep their numbers")
    if state == "55P03":
        return LedgerError(f"台账记录被另一个打包台长时间占用，等待超时（{shown}）",
                           f"Ledger rows are held by another station for too long (timed out) ({shown})")
    if state == "53100":
        return LedgerError(f"台账数据库服务器磁盘已满（{shown}）：本次没有分配任何单号；腾出空间后重新运行即可",
                           f"The ledger database server's disk is full ({shown}): no number was allocated by "
                           "this step; free some space and run again")
    return LedgerError(f"台账操作失败：{text}（{shown}）；可运行 pddbatch doctor 检查",
                       f"Ledger operation failed: {text} ({shown}); run pddbatch doctor")


def _is_lost(exc: Exception) -> bool:
    psycopg = _driver()
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return True
    text = str(exc).lower()
    return "connection" in text and ("closed" in text or "lost" in text or "terminat" in text)
