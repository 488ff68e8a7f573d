"""Opening, versioning and refusing bad ledger files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pddbatch.errors import LedgerError
from pddbatch.ledger import SCHEMA_VERSION, Ledger
from pddbatch.ledger import schema as ledger_schema


def test_open_creates_folders_file_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ledger.sqlite"
    with Ledger.open(path) as led:
        led.add_range("ZTO", "73100000000001", 3, "t")
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA application_id").fetchone()[0] == ledger_schema.APPLICATION_ID
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"numbers", "parcels", "parcel_orders", "runs", "reprints", "pddbatch_meta", "pool_batches"} <= tables
    raw.close()
    with Ledger.open(path) as again:       # reopening keeps the data and migrates nothing
        assert [(s.carrier_code, s.free) for s in again.pool_status()] == [("ZTO", 3)]


def test_later_release_migrates_an_existing_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger.open(path) as led:
        led.add_range("ZTO", "73100000000001", 2, "t")
    monkeypatch.setattr(ledger_schema, "MIGRATIONS",
                        [*ledger_schema.MIGRATIONS, "ALTER TABLE parcels ADD COLUMN weight_g INTEGER;"])
    with Ledger.open(path) as led:
        assert led.pool_status()[0].free == 2
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 3
    assert "weight_g" in {r[1] for r in raw.execute("PRAGMA table_info(parcels)")}
    raw.close()


def test_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(LedgerError) as info:
        Ledger.open(path)
    assert "台账文件已损坏或不是台账" in info.value.message
    assert "corrupt" in info.value.message_en


def test_other_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE customers (name TEXT)")
    raw.commit()
    raw.close()
    with pytest.raises(LedgerError, match="不是 pddbatch 台账"):
        Ledger.open(path)


def test_ledger_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger.open(path).close()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(LedgerError, match="更新版本") as info:
        Ledger.open(path)
    assert "upgrade pddbatch" in info.value.message_en


def test_folder_as_ledger_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="是一个文件夹"):
        Ledger.open(tmp_path)
