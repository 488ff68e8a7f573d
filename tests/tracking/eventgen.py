"""Tracking events as sellers get them, generated for the parcels a test shop shipped.

Stories (what happened to a parcel) -> events -> files in three shapes: a carrier's batch-query
export (.xlsx, 运单号/扫描时间/扫描类型/扫描网点/轨迹描述, a title row above the header), an
aggregator's export (.csv in GBK, 快递单号/快递公司/物流状态/时间/物流信息) and 快递100 answers (JSON).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl

H = timedelta(hours=1)


@dataclass(frozen=True)
class Ev:
    number: str
    at: datetime
    text: str
    name: str          # a carrier's 扫描类型 / an aggregator's 物流状态
    code: str          # 快递100 state


PICKUP = ("【杭州市】浙江省杭州市余杭区仓前网点 已揽收", "揽收", "1")
SENT = ("快件离开【杭州中转部】 已发往【广州中转部】", "发件", "0")
ARRIVED = ("快件已到达【广州中转部】", "到件", "0")
DELIVERING = ("【广州市】天河五山网点 快递员 王师傅（138****6666）正在派件", "派件", "5")
SIGNED = ("快件已签收，签收人：本人。如有疑问请联系派件员", "签收", "3")
ORDERED = ("商家已下单，等待快递员上门揽收", "待揽件", "10")
REFUSED = ("收件人拒收，原因：不想要了", "拒收", "14")
RETURNING = ("快件正在退回寄件人，请留意", "退回", "6")
RETURNED = ("退回件已签收，签收人：寄件人（商家）", "退签", "4")
PROBLEM = ("派件异常：收件地址不详，无法联系收件人", "问题件", "2")

STORIES = ("unpicked", "pending", "picked-up", "in-transit", "stalled", "delivering", "delivered", "refused",
           "returning", "returned", "problem", "late")
EXPECTED = {   # story -> (normalised status, alerts apart from 揽收超时)
    "unpicked": ("pending", {"unpicked"}), "pending": ("pending", {"unpicked"}),
    "picked-up": ("picked-up", set()), "in-transit": ("in-transit", set()), "stalled": ("in-transit", {"stalled"}),
    "delivering": ("delivering", set()), "delivered": ("delivered", set()), "refused": ("refused", {"refused"}),
    "returning": ("returning", {"returned"}), "returned": ("returned", {"returned"}),
    "problem": ("problem", {"problem"}), "late": ("delivered", set()),
}


def pickup_time(issued: datetime, promised: datetime | None) -> datetime:
    """Picked up soon after the numbers were issued, before the promised time when that is possible."""
    base = issued + 3 * H
    if promised is None:
        return base
    return min(base, max(issued + H / 2, promised - 2 * H))


def story_events(number: str, story: str, issued: datetime, promised: datetime | None,
                 now: datetime) -> list[Ev]:
    p = pickup_time(issued, promised)
    if story == "late":
        p = (promised or issued) + 5 * H

    def ev(at: datetime, what: tuple[str, str, str]) -> Ev:
        return Ev(number, at, *what)

    moving = [ev(p, PICKUP), ev(p + 6 * H, SENT), ev(p + 20 * H, ARRIVED)]
    return {
        "unpicked": [],
        "pending": [ev(issued + H, ORDERED)],
        "picked-up": [ev(issued + H, ORDERED), ev(now - 5 * H, PICKUP)],
        "in-transit": [ev(p, PICKUP), ev(now - 10 * H, SENT)],
        "stalled": [ev(p, PICKUP), ev(p + 2 * H, SENT)],
        "delivering": [*moving, ev(now - 3 * H, DELIVERING)],
        "delivered": [*moving, ev(p + 26 * H, DELIVERING), ev(p + 30 * H, SIGNED)],
        "late": [*moving, ev(p + 26 * H, DELIVERING), ev(p + 30 * H, SIGNED)],
        "refused": [*moving, ev(now - 8 * H, DELIVERING), ev(now - 6 * H, REFUSED)],
        "returning": [*moving, ev(now - 30 * H, REFUSED), ev(now - 2 * H, RETURNING)],
        "returned": [*moving, ev(now - 40 * H, REFUSED), ev(now - 30 * H, RETURNING), ev(now - 1 * H, RETURNED)],
        "problem": [*moving, ev(now - 4 * H, PROBLEM)],
    }[story]


def write_carrier_xlsx(path: Path, events: Sequence[Ev]) -> None:
    """A carrier's batch-query export: a title row, then 运单号 / 扫描时间 / 扫描类型 / 扫描网点 / 轨迹描述."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "轨迹查询结果"
    ws.append(["中通快递 批量轨迹查询结果（导出时间 2026-11-29 11:55）"])
    ws.append(["运单号", "扫描时间", "扫描类型", "扫描网点", "轨迹描述"])
    for e in events:
        # numbers as text (how exports carry them), times as real Excel dates
        ws.append([e.number, e.at, e.name, "", e.text])
    wb.save(path)


def write_aggregator_csv(path: Path, events: Sequence[Ev], extra: Sequence[Sequence[str]] = ()) -> None:
    """An aggregator's export in GBK: 快递单号 / 快递公司 / 物流状态 / 时间 / 物流信息."""
    names = {"揽收": "揽收", "发件": "在途", "到件": "在途", "派件": "派件", "签收": "签收", "待揽件": "待揽件",
             "拒收": "拒签", "退回": "退回", "退签": "退签", "问题件": "疑难"}
    with path.open("w", newline="", encoding="gbk") as fh:
        w = csv.writer(fh)
        w.writerow(["快递单号", "快递公司", "物流状态", "时间", "物流信息"])
        for e in events:
            w.writerow([e.number, "中通快递", names[e.name], e.at.strftime("%Y/%m/%d %H:%M:%S"), e.text])
        for row in extra:
            w.writerow(row)


def kuaidi100_answer(number: str, com: str, events: Sequence[Ev]) -> dict[str, object]:
    """What 快递100 answers for one number: data[] newest first, `state` the parcel's state now."""
    newest = sorted(events, key=lambda e: e.at, reverse=True)
    return {"message": "ok", "nu": number, "ischeck": "1" if newest and newest[0].code in ("3", "4") else "0",
            "com": com, "status": "200", "state": newest[0].code if newest else "0",
            "data": [{"time": e.at.strftime("%Y-%m-%d %H:%M:%S"), "ftime": e.at.strftime("%Y-%m-%d %H:%M:%S"),
                      "context": e.text} for e in newest]}


def write_kuaidi100_json(path: Path, answers: Sequence[dict[str, object]]) -> None:
    path.write_text(json.dumps(list(answers), ensure_ascii=False, indent=1), encoding="utf-8")
