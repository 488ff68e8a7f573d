"""`pddbatch track` on a shop that shipped the sample day: every status, every alert, the write-back,
the report, the re-import that adds nothing, numbers the ledger doesn't know."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from pddbatch.cli import main
from pddbatch.ledger import Ledger
from tests.tracking.eventgen import (
    EXPECTED,
    STORIES,
    Ev,
    kuaidi100_answer,
    story_events,
    write_aggregator_csv,
    write_carrier_xlsx,
    write_kuaidi100_json,
)
from tests.tracking.shop import ISSUED, NOW, Shipped, shipped_parcels

NOW_TEXT = NOW.strftime("%Y-%m-%d %H:%M:%S")
COM = {"SF": "shunfeng", "YZXB": "youzhengguonei", "ZTO": "zhongtong"}
UNKNOWN = "73999999999999"


def _assign(parcels: list[Shipped]) -> dict[str, str]:
    """Tracking number -> story: one parcel per story, every other parcel delivered."""
    zto_good = [p for p in parcels if p.carrier == "ZTO" and p.promised and p.promised >= datetime(2026, 11, 27)]
    other = [p for p in parcels if p.carrier != "ZTO"]
    late = next(p for p in parcels if p.carrier == "ZTO" and p.promised and p.promised < datetime(2026, 11, 26, 9))
    story = {p.tracking_no: "delivered" for p in parcels}
    story[late.tracking_no] = "late"
    on_json = {"refused", "returned"}
    pool = iter(p for p in zto_good if p is not late)
    for s in STORIES:
        if s in ("delivered", "late") or s in on_json:
            continue
        story[next(pool).tracking_no] = s
    for s, p in zip(sorted(on_json), other, strict=False):
        story[p.tracking_no] = s
    return story


def _files(shop: Path, parcels: list[Shipped], story: dict[str, str]) -> tuple[list[Path], dict[str, list[Ev]]]:
    events = {p.tracking_no: story_events(p.tracking_no, story[p.tracking_no], ISSUED, p.promised, NOW)
              for p in parcels}
    zto = [p for p in parcels if p.carrier == "ZTO"]
    a = [e for i, p in enumerate(zto) if i % 2 == 0 for e in events[p.tracking_no]]
    b = [e for i, p in enumerate(zto) if i % 2 == 1 for e in events[p.tracking_no]]
    write_carrier_xlsx(shop / "中通轨迹.xlsx", a)
    write_aggregator_csv(shop / "轨迹导出.csv", b, extra=[
        [UNKNOWN, "中通快递", "揽收", "2026/11/28 10:00:00", "【杭州市】仓前网点 已揽收"],
        ["73100000000001", "中通快递", "在途", "明天下午", "快件已发往广州"],          # a time nobody can read
    ])
    answers = [kuaidi100_answer(p.tracking_no, COM[p.carrier], events[p.tracking_no])
               for p in parcels if p.carrier != "ZTO" and events[p.tracking_no]]
    write_kuaidi100_json(shop / "kuaidi100.json", answers)
    return [shop / "中通轨迹.xlsx", shop / "轨迹导出.csv", shop / "kuaidi100.json"], events


def _expected_alerts(p: Shipped, story: str, evs: list[Ev]) -> set[str]:
    want = set(EXPECTED[story][1])
    picked = min((e.at for e in evs if e.code != "10"), default=None)
    if p.promised and ((picked and picked > p.promised) or (picked is None and p.promised < NOW)):
        want.add("late-pickup")
    return want


def _track(shop: Path, files: list[Path], *extra: str) -> tuple[int, str]:
    args = ["track", str(shop / "orders.xlsx"), "--now", NOW_TEXT]
    for f in files:
        args += ["--events", str(f)]
    res = CliRunner().invoke(main, [*args, *extra])
    return res.exit_code, res.output


def _sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb[name].iter_rows(values_only=True))
    wb.close()
    return rows


def test_every_status_and_alert_from_three_sources(shop: Path) -> None:
    parcels = shipped_parcels(shop)
    story = _assign(parcels)
    files, events = _files(shop, parcels, story)
    code, out = _track(shop, files, "--json")
    assert code == 1, out                                  # there are alerts
    res = json.loads(out)
    assert res["parcels"] == len(parcels)
    assert all(n >= 1 for n in res["by_status"].values()), res["by_status"]      # every status seen
    assert all(n >= 1 for n in res["alerts"].values()), res["alerts"]            # every alert raised
    urgent = {u["tracking_no"]: u for u in res["urgent"]}
    by_no = {p.tracking_no: p for p in parcels}
    for number, s in story.items():
        want = _expected_alerts(by_no[number], s, events[number])
        got = set(urgent[number]["alerts"]) if number in urgent else set()
        assert got == want, (s, number, got, want)
        if number in urgent:
            assert urgent[number]["status"] == EXPECTED[s][0], (s, urgent[number])
    # 未揽收 first, then by kind
    kinds = [u["alerts"][0] for u in res["urgent"]]
    order = ["unpicked", "problem", "refused", "stalled", "returned", "late-pickup"]
    assert kinds == sorted(kinds, key=order.index)
    assert res["urgent"][0]["alerts"][0] == "unpicked" and "虚假发货" in res["urgent"][0]["what_to_do"]
    # the unreadable row and the stranger are reported, not dropped
    assert res["unknown_numbers"] == [UNKNOWN]
    assert [(i["file"], i["code"]) for i in res["import_issues"]] == [("轨迹导出.csv", "bad-time")]
    total = sum(len(v) for v in events.values()) + 1      # + the stranger's event
    assert res["events_read"] == res["events_added"] == total
    # returns are linked to their orders in the ledger (what reconciliation can use)
    with Ledger.open(shop / "pddbatch-ledger.sqlite") as led:
        back = {(r.order_sn, r.status) for r in led.events.returns_by_order()}
    want = {(sn, EXPECTED[s][0]) for number, s in story.items() if s in ("refused", "returning", "returned")
            for sn in by_no[number].order_sns}
    assert back == want


def test_workbook_columns_fills_and_rerun(shop: Path) -> None:
    parcels = shipped_parcels(shop)
    story = _assign(parcels)
    files, _ = _files(shop, parcels, story)
    book = shop / "orders.xlsx"
    before = openpyxl.load_workbook(book)
    red_before = {c.coordinate for row in before["订单列表"].iter_rows() for c in row
                  if c.fill and c.fill.fgColor and c.fill.fgColor.rgb == "FFFFC7CE"}
    assert red_before                                       # process marked the rejected rows' cells
    code, out = _track(shop, files)
    assert code == 1, out
    first = out.splitlines()[0]
    assert first.startswith(f"共 {len(parcels)} 个包裹：") and "未揽收 " in first, first

    wb = openpyxl.load_workbook(book)
    ws = wb["订单列表"]
    head = {c.value: c.column for c in ws[1] if c.value}
    assert {"物流状态", "最新轨迹", "快递单号", "处理状态"} <= set(head)
    st, latest = head["物流状态"], head["最新轨迹"]
    by_no = {p.tracking_no: p for p in parcels}
    red = {c.coordinate for row in ws.iter_rows() for c in row
           if c.fill and c.fill.fgColor and c.fill.fgColor.rgb == "FFFFC7CE"}
    assert red_before <= red                                # validation marks survive the tracking write-back
    for number, s in story.items():
        for r in by_no[number].rows:
            status = ws.cell(r, st).value
            assert str(status).startswith({"pending": "待揽收", "picked-up": "已揽收", "in-transit": "运输中",
                                           "delivering": "派件中", "delivered": "已签收", "refused": "拒收",
                                           "returning": "退回中", "returned": "退回签收",
                                           "problem": "疑难"}[EXPECTED[s][0]]), (s, status)
            cell = ws.cell(r, st)
            if s == "delivered" and "（" not in str(status):
                assert cell.coordinate not in red and ws.cell(r, latest).value.endswith("如有疑问请联系派件员")
            if s in ("unpicked", "stalled", "refused", "problem"):
                assert cell.coordinate in red and cell.comment is not None
            if s == "unpicked":
                assert ws.cell(r, latest).value is None and "未揽收" in cell.comment.text
    rejected = [r for r in range(2, ws.max_row + 1) if ws.cell(r, head["处理状态"]).value == "校验失败"]
    assert rejected and all(ws.cell(r, st).value is None for r in rejected)
    wb.close()

    # the same files again: nothing new in the ledger, the workbook not even rewritten
    digest = hashlib.sha256(book.read_bytes()).hexdigest()
    code, out = _track(shop, files, "--json")
    res = json.loads(out)
    assert code == 1 and res["events_added"] == 0 and res["events_read"] > 0 and res["backup"] is None
    assert hashlib.sha256(book.read_bytes()).hexdigest() == digest


def test_report_workbook(shop: Path) -> None:
    parcels = shipped_parcels(shop)
    files, _ = _files(shop, parcels, _assign(parcels))
    code, out = _track(shop, files, "--lang", "en")
    assert code == 1
    assert out.splitlines()[0].startswith(f"{len(parcels)} parcels: awaiting pickup ")
    report = shop / "orders.pddbatch" / "tracking.xlsx"
    wb = openpyxl.load_workbook(report, read_only=True)
    assert wb.sheetnames == ["异常件", "全部包裹", "按快递公司", "台账外单号", "导入问题"]
    wb.close()
    alerts = _sheet(report, "异常件")
    assert alerts[0][:3] == ("Order no.", "Waybill", "Carrier")
    assert alerts[1][4].startswith("not picked up") and "call the depot" in alerts[1][7]
    everyone = _sheet(report, "全部包裹")
    assert len(everyone) == len(parcels) + 1
    assert all(isinstance(r[1], str) and r[1].isdigit() for r in everyone[1:] if r[2] == "ZTO")   # waybills stay text
    carriers = _sheet(report, "按快递公司")
    total_col = carriers[0].index("Total")
    assert sum(r[total_col] for r in carriers[1:]) == len(parcels)
    assert {r[0] for r in carriers[1:]} == {"SF", "YZXB", "ZTO"}
    strangers = _sheet(report, "台账外单号")
    assert strangers[1][0] == UNKNOWN and strangers[1][1] == 1


def test_dry_run_writes_nothing(shop: Path) -> None:
    parcels = shipped_parcels(shop)
    files, _ = _files(shop, parcels, _assign(parcels))
    digest = hashlib.sha256((shop / "orders.xlsx").read_bytes()).hexdigest()
    code, out = _track(shop, files, "--dry-run", "--json")
    res = json.loads(out)
    assert code == 1 and res["dry_run"] and res["report"] is None and res["events_added"] == res["events_read"]
    assert res["by_status"]["delivered"] > 0
    assert hashlib.sha256((shop / "orders.xlsx").read_bytes()).hexdigest() == digest
    assert not (shop / "orders.pddbatch" / "tracking.xlsx").exists()
    code, out = _track(shop, files, "--json")                    # the real run stores them all
    assert json.loads(out)["events_added"] == res["events_read"]


def test_no_events_yet_everything_unpicked(shop: Path) -> None:
    code, out = _track(shop, [], "--json")
    res = json.loads(out)
    assert code == 1 and res["by_status"]["pending"] == res["parcels"] == res["alerts"]["unpicked"]


def test_errors_are_sentences(shop: Path, tmp_path: Path) -> None:
    bad = shop / "orders-list.csv"
    bad.write_text("快递单号,备注\n73100000000001,x\n", encoding="utf-8")
    code, out = _track(shop, [bad])
    assert code == 2 and "缺少必需的列" in out and "时间" in out
    code, out = _track(shop, [], "--live")
    assert code == 2 and "[tracking.kuaidi100]" in out
    (shop / "pddbatch-ledger.sqlite").unlink()
    code, out = _track(shop, [])
    assert code == 2 and "pddbatch process" in out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_threshold_from_config(shop: Path, lang: str) -> None:
    cfg = shop / "pddbatch.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[tracking]\nunpicked_hours = 100\n", encoding="utf-8")
    code, out = _track(shop, [], "--json", "--lang", lang)
    res = json.loads(out)
    assert res["alerts"]["unpicked"] == 0 and res["by_status"]["pending"] == res["parcels"]
