"""PostgreSQL beside SQLite: connection faults, migrate, several stations at once, damaged ledgers.

The server is real (tests/ledger/pg.py); faults are made on the server side (pg_terminate_backend,
a restart), stations are real processes.
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import click
import openpyxl
import pytest
from click.testing import CliRunner, Result

from pddbatch.cli.ledger import doctor, ledger_group, pool
from pddbatch.errors import LedgerError
from pddbatch.ledger import SCHEMA_VERSION, Ledger, LedgerLocation, masked
from tests.ledger.ledger_factory import raw_sql, req, sn
from tests.ledger.ledger_worker import requests_for
from tests.ledger.pg import APP_PASSWORD, PgServer

WORKER = Path(__file__).with_name("ledger_worker.py")


@click.group()
def main() -> None:
    """Stand-in for cli.py's group."""


for _c in (pool, doctor, ledger_group):
    main.add_command(_c)


def cli(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert APP_PASSWORD not in result.output
    return result


# ---- identity, both backends ---------------------------------------------------------------------

def test_ledger_id_and_parcel_count(ledger_target: LedgerLocation) -> None:
    with Ledger.open(ledger_target) as led:
        first_id = led.ledger_id
        assert len(first_id) == 32 and int(first_id, 16) >= 0
        led.add_range("ZTO", "73100000000001", 5, "t")
        led.allocate(led.begin_run("w"), [req("a", 1), req("b", 2, 3)])
        led.void(sn(1))
        assert led.parcel_count() == 2
    with Ledger.open(ledger_target) as again:          # stored, not made up each time
        assert again.ledger_id == first_id and again.schema_version == SCHEMA_VERSION


def test_pool_file_imported_into_another_ledger_is_refused(new_target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pool_file = tmp_path / "pool-ZTO.txt"
    pool_file.write_text("# carrier: ZTO\n73100000000001\n73100000000002\n", encoding="utf-8")
    first, second = new_target(), new_target()
    with Ledger.open(first) as led:
        assert led.import_pool_file(pool_file).added == 2
        assert led.import_pool_file(pool_file).added == 0          # same ledger again: fine
        first_id = led.ledger_id
    record = pool_file.with_name("pool-ZTO.txt.pddbatch-imports.json").read_text(encoding="utf-8")
    assert first_id in record and APP_PASSWORD not in record
    with Ledger.open(second) as led:                                # e.g. the ledger was deleted
        with pytest.raises(LedgerError) as info:
            led.import_pool_file(pool_file)
        assert "已于" in info.value.message and "导入过另一个台账" in info.value.message
        assert "--allow-other-ledger" in info.value.message
        assert led.pool_status() == []
    r = cli("pool", "import", pool_file, "--ledger", second)
    assert r.exit_code == 2 and "导入过另一个台账" in r.output
    r = cli("pool", "import", pool_file, "--ledger", second, "--allow-other-ledger")
    assert r.exit_code == 0 and "已加入 ZTO（中通快递）单号 2 个" in r.output


@pytest.mark.parametrize("header", ["运单号", "快递单号", "单号", "面单号", None])
def test_pool_files_in_outlet_dialects(ledger: Ledger, tmp_path: Path, header: str | None) -> None:
    numbers = ["73100000000001", "73100000000002"]
    csv_file = tmp_path / "outlet.csv"
    buf = io.StringIO()
    w = csv.writer(buf)
    if header:
        w.writerow(["序号", header, "快递公司"])
    for i, n in enumerate(numbers):
        w.writerow([i + 1, n, "中通快递"] if header else [n])
    csv_file.write_bytes(buf.getvalue().encode("gbk"))            # outlets' PCs write GBK
    res = ledger.import_pool_file(csv_file, None if header else "ZTO")
    assert (res.carrier_code, res.added) == ("ZTO", 2)
    xlsx = tmp_path / "outlet.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    if header:
        ws.append([header])
    ws.append([73100000000003])
    ws.append(["73100000000004"])
    wb.save(xlsx)
    assert ledger.import_pool_file(xlsx, "ZTO").added == 2


# ---- damaged SQLite files --------------------------------------------------------------------------

def test_doctor_reports_empty_truncated_and_foreign_files_as_damaged(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    r = cli("doctor", "--ledger", empty)
    assert r.exit_code == 1 and r.output.startswith(f"台账已损坏：{empty}\n  - 台账文件是空的（0 字节）")
    with pytest.raises(LedgerError, match="0 字节"):
        Ledger.open(empty)                                   # never silently a brand-new ledger
    assert empty.stat().st_size == 0
    good = tmp_path / "good.sqlite"
    with Ledger.open(good) as led:
        led.add_range("ZTO", "73100000000001", 20_000, "t")
    data = good.read_bytes()
    cut = tmp_path / "cut.sqlite"
    cut.write_bytes(data[: len(data) // 2])
    r = cli("doctor", "--ledger", cut, "--lang", "en")
    assert r.exit_code == 1 and "The ledger file is truncated" in r.output
    foreign = tmp_path / "shop.db"
    raw = sqlite3.connect(foreign)
    raw.execute("CREATE TABLE customers (name TEXT)")
    raw.commit()
    raw.close()
    r = cli("doctor", "--ledger", foreign, "--json")
    assert r.exit_code == 1 and '"damaged": true' in r.output and "不是 pddbatch 台账" in r.output


# ---- PostgreSQL: one clear sentence per connection problem ---------------------------------------

def test_connection_problems_are_one_sentence_exit_2(pg_server: PgServer) -> None:
    url = pg_server.create_database()
    db = url.rsplit("/", 1)[1]
    cases = {
        pg_server.url(db, password="wrong-pw"): "无法登录台账数据库：用户名或密码不对",
        pg_server.url("no_such_db"): "台账数据库 no_such_db 不存在",
        f"postgresql://pddbatch:{APP_PASSWORD}@127.0.0.1:1/{db}?connect_timeout=3": "连接不上台账数据库服务器",
    }
    for target, sentence in cases.items():
        r = cli("pool", "add", "--carrier", "ZTO", "--start", "73100000000001", "--count", "5", "--ledger", target)
        assert r.exit_code == 2, r.output
        assert r.output.startswith("错误：" + sentence) and r.output.count("\n") == 1
        assert "wrong-pw" not in r.output and "***" in r.output
    with Ledger.open(url):
        pass
    raw_sql(url, "UPDATE pddbatch_meta SET value = '99' WHERE key = 'schema_version'")
    r = cli("doctor", "--ledger", url, "--lang", "en")
    assert r.exit_code == 2
    assert r.output.startswith(f"Error: Ledger database {db} was written by a newer pddbatch (schema 99")


def test_a_database_with_other_tables_is_not_taken_over(pg_server: PgServer) -> None:
    url = pg_server.create_database()
    raw_sql(url, "CREATE TABLE customers (name TEXT)")
    with pytest.raises(LedgerError, match="已有别的表，不是 pddbatch 台账"):
        Ledger.open(url)


def test_masked_urls() -> None:
    assert masked("postgresql://u:p%40ss@h:5432/db?sslmode=require") == "postgresql://u:***@h:5432/db?sslmode=require"
    assert masked("postgresql://h/db?password=x&sslmode=verify-full") == \
        "postgresql://h/db?password=***&sslmode=verify-full"
    assert masked(Path("/a/b.sqlite")) == "/a/b.sqlite"


# ---- migrate -------------------------------------------------------------------------------------------

def test_migrate_sqlite_to_postgresql_copies_everything_and_refuses_a_full_target(
        pg_server: PgServer, tmp_path: Path) -> None:
    src = tmp_path / "ledger.sqlite"
    with Ledger.open(src) as led:
        led.add_range("ZTO", "73100000000001", 300, "outlet")
        led.add_range("YTO", "YT1000000000001", 50, "outlet")
        run = led.begin_run("w.xlsx")
        alloc = led.allocate(run, [req(i, i) for i in range(120)] + [req("y", 500, carrier="YTO")], "w.xlsx")
        led.void(sn(3))
        led.mark_rendered([p.parcel_id for r in alloc.results for p in r.parcels], run)
        led.record_reprint([1, 2], run)
        led.finish_run(run, "done", {"allocated": 121})
        before = {t: n for t, n in led.counts().items()}
        source_id = led.ledger_id
        numbers = {o: p.tracking_no for o, p in led.existing_for_orders([sn(i) for i in range(120)]).items()}
    url = pg_server.create_database()
    r = cli("ledger", "migrate", "--to", url, "--ledger", src)
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"已把台账 {src} 复制到 {masked(url)} 并核对无误：\n")
    assert "  parcels: 121\n" in r.output and "  reprints: 2\n" in r.output
    with Ledger.open(url) as led:
        assert led.ledger_id == source_id                      # workbooks still recognise their ledger
        assert led.counts() == before and led.check_integrity() == []
        assert {o: p.tracking_no for o, p in led.existing_for_orders([sn(i) for i in range(120)]).items()} == numbers
        # life goes on in the new ledger: new ids and numbers continue after the copied ones
        run2 = led.begin_run("w2.xlsx")
        again = led.allocate(run2, [req(i, i) for i in range(125)])
        assert again.new_count == 6 and again.existing_count == 119
        assert min(p.parcel_id for r in again.results for p in r.parcels if p.is_new) == 122
    r = cli("ledger", "migrate", "--to", url, "--ledger", src, "--lang", "en")
    assert r.exit_code == 2 and "The target ledger is not empty" in r.output


# ---- stations and faults -------------------------------------------------------------------------------

def _worker(target: str, tag: str, batches: int, size: int, go: Path | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, str(WORKER), target, tag, str(batches), str(size), "0"] + ([str(go)] if go else [])
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _numbered(out: str) -> dict[str, str]:
    return {p[1]: p[2] for p in (ln.split() for ln in out.splitlines()) if p[:1] == ["A"] and len(p) == 3}


def test_four_stations_on_one_pool_never_share_a_number(pg_server: PgServer, tmp_path: Path) -> None:
    url = pg_server.create_database()
    with Ledger.open(url) as led:
        led.add_range("ZTO", "73100000000001", 20_000, "t")
    go = tmp_path / "go"
    stations = [_worker(url, f"s{n}", 20, 150, go) for n in range(4)]
    for s in stations:
        assert s.stdout is not None and s.stdout.readline() == "ready\n"
    go.touch()
    outs = [s.communicate(timeout=300) for s in stations]
    assert [s.returncode for s in stations] == [0] * 4, [e for _, e in outs]
    numbered = [_numbered(o) for o, _ in outs]
    every = [n for d in numbered for n in set(d.values())]
    assert len(every) == len(set(every)) == 4 * 20 * 150          # 0 duplicates, all accounted for
    with Ledger.open(url) as led:
        assert led.check_integrity() == []
        (status,) = led.pool_status()
        assert (status.used, status.free) == (12_000, 8_000) and led.parcel_count() == 12_000
        runs = [sorted(p.id for p in led.parcels_for_run(r)) for r in range(1, 5)]
        spans = [(r[0], r[-1]) for r in runs]
        assert any(a[0] < b[1] and b[0] < a[1] for a in spans for b in spans if a != b), "stations never overlapped"


@pytest.mark.parametrize("fault", ["terminate", "restart"])
def test_connection_lost_mid_allocation(pg_server: PgServer, fault: str) -> None:
    url = pg_server.create_database()
    db = url.rsplit("/", 1)[1]
    with Ledger.open(url) as led:
        led.add_range("ZTO", "73100000000001", 60_000, "t")
    w = _worker(url, "f", 200, 200)
    assert w.stdout is not None and w.stdout.readline() == "ready\n"
    time.sleep(0.6)
    if fault == "terminate":
        assert pg_server.terminate(db) >= 1
    else:
        pg_server.restart()
    out, err = w.communicate(timeout=120)
    assert w.returncode != 0 and "done" not in out
    assert "与台账数据库的连接中断了" in err          # the worker lets the LedgerError surface
    assert APP_PASSWORD not in err
    numbered = _numbered(out)
    r = cli("doctor", "--ledger", url)
    assert r.exit_code == 0 and r.output.startswith("台账正常")
    with Ledger.open(url) as led:
        existing = led.existing_for_orders(numbered)
        assert {o: p.tracking_no for o, p in existing.items()} == numbered   # every reported number kept
        (status,) = led.pool_status()
        assert status.used == led.parcel_count()                             # nothing half-used
        batches = 1 + max((int(o.split("-")[1]) for o in numbered), default=-1)
        run = led.begin_run("again")
        again = led.allocate(run, [r for b in range(batches + 1) for r in requests_for("f", b, 200)])
        by_order = again.by_order()
        assert all(by_order[o].tracking_no == n and not by_order[o].is_new for o, n in numbered.items())
        assert led.check_integrity() == []


def test_sample_pool_files_stay_clean() -> None:
    sample = Path(__file__).resolve().parents[2] / "sample_data"
    assert not list(sample.glob("*.pddbatch-imports.json")), "a test imported from sample_data in place"


def test_process_runs_unchanged_on_a_postgresql_ledger(pg_server: PgServer, tmp_path: Path) -> None:
    """The seller's command with PDDBATCH_LEDGER_URL set: numbers from PostgreSQL, rerun allocates nothing."""
    import json
    import os

    sample = Path(__file__).resolve().parents[2] / "sample_data"
    for f in [sample / "pddbatch.toml", sample / "orders.xlsx", *sample.glob("demo-pool-*.txt")]:
        shutil.copy(f, tmp_path / f.name)
    url = pg_server.create_database()
    env = {**os.environ, "PDDBATCH_LEDGER_URL": url}
    cmd = [str(Path(sys.executable).with_name("pddbatch")), "process", "orders.xlsx", "--json", "--now", "2026-11-26 08:00:00"]
    first = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode in (0, 1), first.stderr
    assert APP_PASSWORD not in first.stdout + first.stderr
    summary = json.loads(first.stdout)
    assert summary["allocated_new"] > 0 and not (tmp_path / "pddbatch-ledger.sqlite").exists()
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert json.loads(again.stdout)["allocated_new"] == 0
    with Ledger.open(url) as led:
        assert led.check_integrity() == [] and led.parcel_count() == summary["parcels"]
