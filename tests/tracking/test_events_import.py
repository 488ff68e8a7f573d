"""Reading events: header dialects, awkward cells, and 快递100's JSON shapes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from pddbatch.errors import InputError
from pddbatch.tracking.events import events_from_kuaidi100, parse_time, read_events, tracking_number
from pddbatch.tracking.status import Status


def test_carrier_export_with_title_row_dates_and_numbers(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["申通快递 轨迹导出"])
    ws.append(["运单编号", "操作时间", "快件状态", "网点", "物流详情"])
    ws.append([773100000000001, datetime(2026, 11, 26, 10, 5), "揽收", "杭州仓前", "已揽收"])
    ws.append(["'773100000000001", "2026-11-26 18:00", "", "", "快件已发往 广州"])
    ws.append([7.731e14, "2026-11-26 19:00", "", "", "已到达"])
    ws.append([None, None, None, None, None])
    ws.append(["7.731E+14", "2026-11-26 19:00", "", "", "已到达"])
    ws.append(["773100000000002", "", "", "", "已揽收"])
    ws.append(["773100000000003", "2026-11-26 19:00", "", "", "  "])
    wb.save(tmp_path / "sto.xlsx")
    got = read_events(tmp_path / "sto.xlsx")
    assert got.rows == 6
    assert [(e.tracking_no, e.at, e.status, e.text) for e in got.events] == [
        ("773100000000001", datetime(2026, 11, 26, 10, 5), Status.PICKED_UP, "【杭州仓前】已揽收"),
        ("773100000000001", datetime(2026, 11, 26, 18, 0), Status.IN_TRANSIT, "快件已发往 广州"),
        ("773100000000000", datetime(2026, 11, 26, 19, 0), Status.IN_TRANSIT, "已到达"),
    ]
    assert [(i.cell, i.code) for i in got.issues] == [("A7", "excel-mangled-number"), ("B8", "bad-time"),
                                                      ("E9", "empty-text")]
    assert "该行未导入" in got.issues[0].message


def test_gbk_csv_aggregator_export(tmp_path: Path) -> None:
    p = tmp_path / "export.csv"
    p.write_bytes("快递单号,快递公司,物流状态,时间,物流信息\n"
                  "SF1023574470215,顺丰快递,签收,2026/11/27 15:30:00,已签收，签收人：本人\n"
                  "sf 1023574470216,顺丰快递,,2026年11月27日 15:30,快件正在退回寄件人\n".encode("gbk"))
    got = read_events(p)
    assert [(e.tracking_no, e.status, e.carrier) for e in got.events] == [
        ("SF1023574470215", Status.DELIVERED, "顺丰快递"), ("SF1023574470216", Status.RETURNING, "顺丰快递")]
    assert got.events[1].at == datetime(2026, 11, 27, 15, 30)


def test_same_scan_same_key_wherever_it_comes_from(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("运单号,扫描时间,轨迹描述\n75000000000001,2026-11-26 10:00:00,已揽收\n", encoding="utf-8")
    answer = {"nu": "75000000000001", "state": "1", "data": [{"time": "2026-11-26 10:00:00", "context": "已揽收"}]}
    assert read_events(p).events[0].key == events_from_kuaidi100(answer).events[0].key


def test_kuaidi100_shapes(tmp_path: Path) -> None:
    answer = {"message": "ok", "nu": "JT0000000000001", "com": "jtexpress", "state": "3", "status": "200",
              "data": [{"time": "2026-11-27 15:00:00", "ftime": "2026-11-27 15:00:00", "context": "已签收"},
                       {"time": "2026-11-27 09:00:00", "context": "派件中", "statusCode": "5", "areaName": "广州"},
                       {"time": "bad", "context": "??"},
                       {"time": "2026-11-26 10:00:00", "context": "[杭州] 已收取快件", "status": "揽收"}]}
    got = events_from_kuaidi100(answer, "k.json")
    assert [(e.status, e.code) for e in got.events] == [(Status.DELIVERED, "3"), (Status.DELIVERING, "5"),
                                                        (Status.PICKED_UP, "揽收")]
    assert got.events[1].text == "【广州】派件中"
    assert [i.code for i in got.issues] == ["bad-time"]
    push = {"status": "polling", "lastResult": answer}
    assert len(events_from_kuaidi100(push).events) == 3
    assert len(events_from_kuaidi100({"results": [answer, answer]}).events) == 6
    broken = events_from_kuaidi100([{"nu": "", "data": []}, {"nu": "X1"}])
    assert [i.code for i in broken.issues] == ["bad-answer", "bad-answer"]
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="不是有效的 JSON"):
        read_events(tmp_path / "bad.json")
    (tmp_path / "k.json").write_text(json.dumps([answer], ensure_ascii=False), encoding="utf-8-sig")
    assert len(read_events(tmp_path / "k.json").events) == 3


def test_times_and_numbers() -> None:
    assert parse_time("2026-11-26T02:00:00Z") == datetime(2026, 11, 26, 10, 0)       # UTC -> China
    assert parse_time("2026-11-26T10:00:00+08:00") == datetime(2026, 11, 26, 10, 0)
    assert parse_time(1795658400) == datetime(2026, 11, 26, 10, 0)                    # Unix seconds
    assert parse_time(46352.5) == datetime(2026, 11, 26, 12, 0)                       # Excel serial
    assert parse_time("明天") is None and parse_time(None) is None
    assert tracking_number(" yt 1234567890123 ") == ("YT1234567890123", None)
    assert tracking_number(73100000000001.0) == ("73100000000001", None)
    assert tracking_number("") == ("", "missing-tracking-no")
