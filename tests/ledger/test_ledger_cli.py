"""`pool add|import|status`, `void`, `doctor` through click's runner, with exact output."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from pddbatch.cli.ledger import doctor, ledger_group, pool, resolve_ledger_path, void
from pddbatch.ledger import Ledger, LedgerLocation, ParcelRequest, masked
from tests.ledger.ledger_factory import raw_sql
from tests.ledger.pg import APP_PASSWORD


@click.group()
def main() -> None:
    """Stand-in for cli.py's group."""


main.add_command(pool)
main.add_command(void)
main.add_command(doctor)
main.add_command(ledger_group)


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert APP_PASSWORD not in result.output     # a URL's password is never shown
    return result


@pytest.fixture
def led_path(ledger_target: LedgerLocation) -> LedgerLocation:
    return ledger_target


def test_pool_add_status_and_duplicates(led_path: LedgerLocation) -> None:
    r = run("pool", "add", "--carrier", "ZTO", "--start", "73100000000001", "--count", "5000", "--ledger", led_path)
    assert (r.exit_code, r.output) == (0, "已加入 ZTO（中通快递）单号 5000 个（来源：range:73100000000001+5000，号段 #1）\n")
    r = run("pool", "add", "--carrier", "ZTO", "--start", "73100000004999", "--count", "3", "--ledger", led_path)
    assert r.exit_code == 0
    assert r.output == ("已加入 ZTO（中通快递）单号 1 个（来源：range:73100000004999+3，号段 #2）\n"
                        "重复未加入 2 个：73100000004999、73100000005000\n"
                        "其中 2 个此前已由另一个号段导入（range:73100000000001+5000）\n")
    r = run("pool", "status", "--ledger", led_path)
    assert (r.exit_code, r.output) == (0, "ZTO（中通快递）：可用 5001，已用 0，作废 0\n")
    r = run("pool", "status", "--ledger", led_path, "--lang", "en")
    assert r.output == "ZTO: free 5001, used 0, voided 0\n"
    r = run("pool", "status", "--ledger", led_path, "--json")
    assert json.loads(r.output) == [{"carrier": "ZTO", "free": 5001, "used": 0, "voided": 0}]


def test_pool_import_twice_and_wrong_numbers_refused(led_path: LedgerLocation, tmp_path: Path) -> None:
    f = tmp_path / "yto.txt"
    f.write_text("# carrier: YTO\nYT1000000000001\nYT1000000000001\nYT1000000000002\n", encoding="utf-8")
    r = run("pool", "import", f, "--ledger", led_path)
    assert (r.exit_code, r.output) == (0, "已加入 YTO（圆通快递）单号 2 个（来源：file:yto.txt，号段 #1）\n"
                                          "重复未加入 1 个：YT1000000000001\n")
    r = run("pool", "import", f, "--ledger", led_path, "--lang", "en")
    assert (r.exit_code, r.output) == (0, "Added 0 YTO numbers (source: file:yto.txt)\n"
                                          "Refused 3 duplicates: YT1000000000001, YT1000000000002, YT1000000000001\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("73100000000009\n=1+1\nSF1000000000001\n", encoding="utf-8")
    r = run("pool", "import", bad, "--carrier", "ZTO", "--ledger", led_path)
    assert (r.exit_code, r.output) == (2, "错误：单号文件 bad.txt 中有 2 个号码不是中通快递的单号：=1+1、SF1000000000001。"
                                          "它们看起来像顺丰快递的单号；没有加入任何单号，请核对快递公司（--carrier）和号段\n")
    r = run("pool", "status", "--ledger", led_path, "--json")
    assert json.loads(r.output) == [{"carrier": "YTO", "free": 2, "used": 0, "voided": 0}]


def test_void_then_doctor(led_path: LedgerLocation) -> None:
    with Ledger.open(led_path) as led:
        led.add_range("ZTO", "73100000000001", 5, "t")
        led.allocate(led.begin_run("w.xlsx"), [ParcelRequest("p", "ZTO", ("260517-000000000000001",
                                                                          "260517-000000000000002"))])
    r = run("void", "260517-000000000000002", "--ledger", led_path)
    assert (r.exit_code, r.output) == (0, "已作废包裹 #1 ZTO（中通快递） 73100000000001（订单 260517-000000000000001、"
                                          "260517-000000000000002）。该单号不会再使用；下次处理时这些订单会换新单号。\n")
    r = run("void", "73100000000001", "--ledger", led_path, "--lang", "en")
    assert (r.exit_code, r.output) == (0, "Parcel #1 ZTO 73100000000001 is already voided\n")
    r = run("void", "nothing", "--ledger", led_path)
    assert (r.exit_code, r.output) == (2, "错误：台账中没有订单号或快递单号为 nothing 的包裹\n")
    r = run("doctor", "--ledger", led_path)
    with Ledger.open(led_path) as led:
        kind, ledger_id = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[led.kind], led.ledger_id
    assert (r.exit_code, r.output) == (0, f"台账正常：{masked(led_path)}（单号 5 个，包裹 1 个，运行 1 次）\n"
                                          f"  {kind} 台账，格式版本 2，编号 {ledger_id}\n")
    r = run("pool", "status", "--ledger", led_path)
    assert r.output == "ZTO（中通快递）：可用 4，已用 0，作废 1\n"


def test_doctor_reports_problems_with_exit_1(led_path: LedgerLocation) -> None:
    with Ledger.open(led_path) as led:
        led.add_range("ZTO", "73100000000001", 2, "t")
    raw_sql(led_path, "UPDATE numbers SET state = 'used' WHERE number = '73100000000002'")
    r = run("doctor", "--ledger", led_path, "--lang", "en")
    assert r.exit_code == 1
    assert r.output.startswith(f"Ledger has 1 problem(s): {masked(led_path)}\n"
                               "  - 1 numbers are marked used but no live parcel carries them "
                               "(half-used): 73100000000002\n")
    r = run("doctor", "--ledger", led_path, "--json")
    data = json.loads(r.output)
    assert r.exit_code == 1 and data["ok"] is False and data["counts"]["numbers"] == 2


def test_fatal_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    led_path = tmp_path / "ledger.sqlite"
    r = run("doctor", "--ledger", tmp_path / "missing.sqlite")
    assert (r.exit_code, r.output) == (2, f"错误：找不到台账文件：{tmp_path / 'missing.sqlite'}\n")
    assert not (tmp_path / "missing.sqlite").exists()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"\x00garbage" * 200)
    r = run("pool", "status", "--ledger", junk, "--lang", "en")
    assert r.exit_code == 2
    assert r.output == (f"Error: The ledger file is corrupt or not a ledger: {junk} (file is not a database). "
                        "Restore it from a backup\n")
    r = run("pool", "add", "--carrier", "ZTO", "--start", "99", "--count", "5", "--ledger", led_path)
    assert (r.exit_code, r.output) == (2, "错误：号段越界：从 99 起 5 个号码超出了 2 位数字\n")
    r = run("pool", "add", "--carrier", "ZTO", "--start", "1", "--count", "5", "--ledger", led_path)
    assert (r.exit_code, r.output) == (2, "错误：号段 1–5 中有 2 个号码不是中通快递的单号：1、5。没有加入任何单号，"
                                          "请核对快递公司（--carrier）和号段\n")
    r = run("pool", "import", tmp_path / "none.txt", "--carrier", "ZTO", "--ledger", led_path)
    assert (r.exit_code, r.output) == (2, f"错误：找不到单号文件：{tmp_path / 'none.txt'}\n")
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_absurd_count_needs_yes(led_path: LedgerLocation) -> None:
    r = run("pool", "add", "--carrier", "ZTO", "--start", "73100000000001", "--count", "5000000", "--ledger", led_path)
    assert (r.exit_code, r.output) == (2, "错误：要一次加入 5,000,000 个单号吗？通常一个网点号段只有几千个。"
                                          "确认无误请加 --yes 重新运行\n")
    r = run("pool", "status", "--ledger", led_path)
    assert "可用" not in r.output


def test_pool_list_undo_and_remove(led_path: LedgerLocation) -> None:
    assert run("pool", "add", "--carrier", "ZTO", "--start", "73100000000001", "--count", "5",
               "--ledger", led_path).exit_code == 0
    r = run("pool", "add", "--carrier", "ZTO", "--start", "73200000000001", "--count", "3000",
            "--ledger", led_path, "--source", "typo")
    assert r.exit_code == 0
    r = run("pool", "undo", "--ledger", led_path)
    assert (r.exit_code, r.output) == (0, "已撤销号段 #2（ZTO（中通快递），typo）：收回 3000 个单号\n")
    with Ledger.open(led_path) as led:
        led.allocate(led.begin_run("w"), [ParcelRequest("p", "ZTO", ("o1",))])
    r = run("pool", "remove", "1", "--ledger", led_path, "--lang", "en")
    assert (r.exit_code, r.output) == (2, "Error: Pool batch #1 (range:73100000000001+5) has handed out 1 numbers and "
                                          "cannot be undone: they are printed on labels. Unused numbers can stay in "
                                          "the pool\n")
    r = run("pool", "undo", "--ledger", led_path)
    assert r.exit_code == 2 and "已经分配出 1 个单号，不能撤销" in r.output
    r = run("pool", "list", "--ledger", led_path, "--json")
    assert [(b["batch"], b["free"], b["used"]) for b in json.loads(r.output)] == [(1, 4, 1)]
    r = run("pool", "status", "--ledger", led_path)
    assert r.output == "ZTO（中通快递）：可用 4，已用 1，作废 0\n"
    with Ledger.open(led_path) as led:
        assert led.check_integrity() == []


def test_pool_status_without_ledger_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none" / "l.sqlite"
    r = run("pool", "status", "--ledger", path)
    assert (r.exit_code, r.output) == (0, "台账中还没有单号池：请用 pddbatch pool add 或 pddbatch pool import 添加\n")
    assert not path.parent.exists()


def test_ledger_path_from_config(tmp_path: Path) -> None:
    pytest.importorskip("pddbatch.config")
    sample = Path(__file__).resolve().parents[2] / "sample_data" / "pddbatch.toml"
    cfg = tmp_path / "pddbatch.toml"
    cfg.write_text(sample.read_text(encoding="utf-8"), encoding="utf-8")
    assert resolve_ledger_path(cfg, None).parent == tmp_path
    assert resolve_ledger_path(cfg, tmp_path / "x.sqlite") == tmp_path / "x.sqlite"
    r = run("pool", "add", "--carrier", "ZTO", "--start", "73100000000001", "--count", "2", "--config", cfg)
    assert r.exit_code == 0
    assert resolve_ledger_path(cfg, None).is_file()
