"""Number pools: ranges, imports, duplicates, format warnings, status."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from pddbatch.errors import InputError, LedgerError
from pddbatch.ledger import Ledger, ParcelRequest, PoolStatus

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def numbers_in(led: Ledger, carrier: str) -> list[str]:
    run = led.begin_run("peek")
    # every free number, in pool order: allocate them all once, then look at what came out
    free = sum(s.free for s in led.pool_status() if s.carrier_code == carrier)
    alloc = led.allocate(run, [ParcelRequest(str(i), carrier, (f"peek-{i}",)) for i in range(free)])
    return [r.tracking_no for r in alloc.results]


def test_range_keeps_prefix_and_width(ledger: Ledger) -> None:
    res = ledger.add_range("YTO", "YT0000000000098", 3, "outlet")
    assert res.added == 3 and res.carrier_code == "YTO" and res.source == "outlet"
    assert res.duplicates == () and res.duplicate_count == 0
    assert numbers_in(ledger, "YTO") == ["YT0000000000098", "YT0000000000099", "YT0000000000100"]


def test_range_by_carrier_name_and_default_source(ledger: Ledger) -> None:
    res = ledger.add_range("中通", "73100000000001", 5000)
    assert (res.carrier_code, res.added, res.source) == ("ZTO", 5000, "range:73100000000001+5000")
    assert ledger.pool_status() == [PoolStatus("ZTO", 5000, 0, 0)]


@pytest.mark.parametrize(("start", "count", "zh"), [
    ("99", 2, "号段越界"), ("ABC", 2, "起始单号“ABC”无效"), ("73-1", 2, "无效"), ("731", 0, "数量 0 无效")])
def test_bad_ranges_are_refused(ledger: Ledger, start: str, count: int, zh: str) -> None:
    with pytest.raises(LedgerError, match=zh):
        ledger.add_range("ZTO", start, count, "t")
    assert ledger.pool_status() == []


def test_duplicates_refused_and_listed(ledger: Ledger) -> None:
    ledger.add_range("ZTO", "73100000000001", 3, "first")
    res = ledger.import_numbers("ZTO", ["73100000000003", "73100000000004", " 73100000000004 ",
                                        "73100000000005"], "second")
    assert res.added == 2
    assert res.duplicates == ("73100000000003", "73100000000004")
    assert res.duplicate_count == 2 and res.known_sources == (("ZTO", "first", 1),)
    assert ledger.pool_status() == [PoolStatus("ZTO", 5, 0, 0)]


def test_another_carriers_numbers_are_reported(ledger: Ledger) -> None:
    # 邮政 and EMS numbers share a shape: the same number under another carrier is a duplicate too
    ledger.add_range("YZXB", "9800000000001", 3, "outlet-yzxb")
    other = ledger.import_numbers("EMS", ["1100000000001", "9800000000002"], "ems-file")
    assert other.added == 1 and other.duplicates == ("9800000000002",)
    assert other.other_carrier == ("9800000000002",) and other.known_sources == (("YZXB", "outlet-yzxb", 1),)
    assert ledger.pool_status() == [PoolStatus("EMS", 1, 0, 0), PoolStatus("YZXB", 3, 0, 0)]


@pytest.mark.parametrize(("numbers", "bad"), [
    (["73100000000001", "SF1000000000001"], "SF1000000000001"),   # 顺丰's number into 中通
    (["73100000000001", "1234"], "1234"),
    (["1", "2", "3", "4", "5"], "1、2、3、4、5"),
    (["73100000000001", "731 0000", "=cmd|x"], "731 0000、=cmd|x"),
])
def test_wrong_carrier_or_implausible_numbers_refuse_the_import(ledger: Ledger, numbers: list[str],
                                                                 bad: str) -> None:
    with pytest.raises(LedgerError) as info:
        ledger.import_numbers("ZTO", numbers, "t")
    assert f"不是中通快递的单号：{bad}。" in info.value.message
    assert "没有加入任何单号" in info.value.message and "nothing was added" in info.value.message_en
    assert ledger.pool_status() == []


def test_wrong_carrier_says_whose_numbers_they_look_like(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="看起来像顺丰快递的单号"):
        ledger.import_numbers("ZTO", ["SF1000000000001"], "t")
    with pytest.raises(LedgerError, match="号段 1–5 中有 2 个号码不是中通快递的单号"):
        ledger.add_range("ZTO", "1", 5, "t")


def test_text_file_with_carrier_header_is_idempotent(ledger: Ledger, tmp_path: Path) -> None:
    f = tmp_path / "zto.txt"
    f.write_text("# carrier: ZTO\n# from the outlet\n73100000000001\n\n73100000000002\r\n", encoding="utf-8")
    first = ledger.import_pool_file(f)
    assert (first.carrier_code, first.added, first.source) == ("ZTO", 2, "file:zto.txt")
    second = ledger.import_pool_file(f)
    assert second.added == 0 and second.duplicates == ("73100000000001", "73100000000002")
    assert ledger.pool_status() == [PoolStatus("ZTO", 2, 0, 0)]


def test_file_without_carrier_needs_one(ledger: Ledger, tmp_path: Path) -> None:
    f = tmp_path / "n.txt"
    f.write_text("73100000000001\n", encoding="utf-8")
    with pytest.raises(LedgerError, match="--carrier"):
        ledger.import_pool_file(f)
    assert ledger.import_pool_file(f, "ZTO").added == 1


def test_csv_and_xlsx_sheets_with_number_column(ledger: Ledger, tmp_path: Path) -> None:
    csv = tmp_path / "pool.csv"
    csv.write_text("快递公司,快递单号\n韵达快递,312345678901234\n韵达快递,312345678901235\n", encoding="utf-8-sig")
    res = ledger.import_pool_file(csv)
    assert (res.carrier_code, res.added) == ("YUNDA", 2)
    xlsx = tmp_path / "pool.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["序号", " 快递单号 "])
    ws.append([1, 73100000000001])          # Excel keeps digit-only numbers as numbers
    ws.append([2, "73100000000002"])
    wb.save(xlsx)
    res = ledger.import_pool_file(xlsx, "ZTO")
    assert res.added == 2
    assert numbers_in(ledger, "ZTO") == ["73100000000001", "73100000000002"]


def test_sample_demo_pools_import(ledger: Ledger, tmp_path: Path) -> None:
    for name in ("demo-pool-ZTO.txt", "demo-pool-YZXB.txt"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    zto = ledger.import_pool_file(tmp_path / "demo-pool-ZTO.txt")
    yzxb = ledger.import_pool_file(tmp_path / "demo-pool-YZXB.txt")
    assert (zto.carrier_code, zto.added) == ("ZTO", 1000)
    assert (yzxb.carrier_code, yzxb.added) == ("YZXB", 200)
    assert ledger.import_pool_file(tmp_path / "demo-pool-ZTO.txt").added == 0


def test_missing_file(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="找不到单号文件"):
        ledger.import_pool_file(tmp_path / "nope.txt", "ZTO")
