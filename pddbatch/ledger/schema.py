"""The ledger's SQLite schema, its versions and the connection settings.

`PRAGMA user_version` holds the schema version; `MIGRATIONS[i]` takes a ledger from version i to
i + 1. Later releases append to the list and never edit an entry that has shipped.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pddbatch.errors import LedgerError

APPLICATION_ID = 0x50444442   # "PDDB": marks the file as a pddbatch ledger
BUSY_TIMEOUT_MS = 30_000

_V1 = """
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    workbook    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    summary     TEXT NOT NULL DEFAULT '{}',
    pid         INTEGER NOT NULL,
    host        TEXT NOT NULL
);

-- The pools: one row per number a seller owns. `id` order is pool order.
CREATE TABLE numbers (
    id       INTEGER PRIMARY KEY,
    carrier  TEXT NOT NULL,
    number   TEXT NOT NULL UNIQUE,
    state    TEXT NOT NULL DEFAULT 'free' CHECK (state IN ('free', 'used', 'voided')),
    source   TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX numbers_free ON numbers (carrier, id) WHERE state = 'free';

-- tracking_no is UNIQUE over all parcels, voided ones included: a number is never reused.
CREATE TABLE parcels (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL,
    carrier         TEXT NOT NULL,
    tracking_no     TEXT NOT NULL UNIQUE REFERENCES numbers (number),
    state           TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'voided')),
    run_id          INTEGER NOT NULL REFERENCES runs (id),
    created_at      TEXT NOT NULL,
    rendered_run_id INTEGER REFERENCES runs (id),
    workbook        TEXT NOT NULL DEFAULT '',
    voided_at       TEXT
);
CREATE INDEX parcels_run ON parcels (run_id);

-- `live` mirrors parcels.state (1 = live, NULL = voided) so that SQLite itself refuses an order
-- on two live parcels: UNIQUE treats NULLs as distinct, so voided rows never collide, and the one
-- index serves both "live parcel of this order" and "every parcel this order ever had".
CREATE TABLE parcel_orders (
    parcel_id INTEGER NOT NULL REFERENCES parcels (id),
    order_sn  TEXT NOT NULL,
    pos       INTEGER NOT NULL,
    live      INTEGER DEFAULT 1 CHECK (live IS NULL OR live = 1),
    PRIMARY KEY (parcel_id, order_sn),
    UNIQUE (order_sn, live)
) WITHOUT ROWID;

CREATE TABLE reprints (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    parcel_id INTEGER NOT NULL REFERENCES parcels (id),
    run_id    INTEGER REFERENCES runs (id)
);
"""

# v2: the ledger's identity, so a workbook and an output folder can tell their ledger from a new one
_V2 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('ledger_id', lower(hex(randomblob(16))));
"""

MIGRATIONS: list[str] = [_V1, _V2]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the ledger at `path`; LedgerError on any trouble."""
    if path.exists() and path.is_dir():
        raise LedgerError(f"台账路径是一个文件夹，不是台账文件：{path}",
                          f"The ledger path is a folder, not a ledger file: {path}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerError(f"无法创建台账所在的文件夹 {path.parent}：{exc.strerror}",
                          f"Cannot create the ledger folder {path.parent}: {exc.strerror}") from exc
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
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
        _migrate(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise _open_error(path, exc) from exc
    except LedgerError:
        conn.close()
        raise
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    latest = len(MIGRATIONS)
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
            for statement in _statements(MIGRATIONS[target - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    body = "\n".join(line for line in script.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def _not_a_ledger(path: Path) -> LedgerError:
    return LedgerError(f"{path.name} 是一个 SQLite 数据库，但不是 pddbatch 台账：请换一个文件名或位置",
                       f"{path.name} is an SQLite database but not a pddbatch ledger: use another file")


def _open_error(path: Path, exc: sqlite3.Error) -> LedgerError:
    text = str(exc)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return LedgerError(
            f"台账文件已损坏或不是台账：{path}（{text}）。请从备份恢复台账文件",
            f"The ledger file is corrupt or not a ledger: {path} ({text}). Restore it from a backup")
    if "locked" in text or "busy" in text:
        return LedgerError(f"台账正被另一个程序长时间占用：{path}",
                           f"The ledger is held by another program for too long: {path}")
    if "readonly" in text or "unable to open" in text:
        return LedgerError(f"无法打开或写入台账：{path}（{text}）；请检查文件权限",
                           f"Cannot open or write the ledger: {path} ({text}); check permissions")
    return LedgerError(f"台账出错：{path}（{text}）", f"Ledger error: {path} ({text})")
