"""The shipped test shop's facts: when its numbers were issued, "now", and its parcels as shipped."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl

ISSUED = datetime(2026, 11, 26, 9, 0)
NOW = datetime(2026, 11, 29, 12, 0)          # 75 h after the numbers were issued


@dataclass(frozen=True)
class Shipped:
    tracking_no: str
    carrier: str
    order_sns: tuple[str, ...]
    promised: datetime | None
    rows: tuple[int, ...]
    phone: str


def shipped_parcels(folder: Path) -> list[Shipped]:
    """Every live parcel of the shop with its orders' promised time, sheet rows and phone."""
    con = sqlite3.connect(folder / "pddbatch-ledger.sqlite")
    rows = con.execute("SELECT p.tracking_no, p.carrier, po.order_sn FROM parcels p JOIN parcel_orders po "
                       "ON po.parcel_id = p.id WHERE p.state = 'live' ORDER BY p.id, po.pos").fetchall()
    con.close()
    wb = openpyxl.load_workbook(folder / "orders.xlsx", read_only=True)
    sheet = list(wb["订单列表"].iter_rows(values_only=True))
    wb.close()
    head = {str(h).strip(): i for i, h in enumerate(sheet[0]) if h}
    info: dict[str, tuple[datetime | None, int, str]] = {}
    for r, row in enumerate(sheet[1:], start=2):
        sn = str(row[head["订单号"]]).strip()
        prom = row[head["承诺发货时间"]]
        when = datetime.strptime(prom, "%Y-%m-%d %H:%M:%S") if isinstance(prom, str) and prom[:2] == "20" else None
        info[sn] = (when, r, str(row[head["手机"]]))
    out: dict[str, list[str]] = {}
    carriers: dict[str, str] = {}
    for number, code, sn in rows:
        out.setdefault(number, []).append(sn)
        carriers[number] = code
    parcels = []
    for number, sns in out.items():
        proms = [info[s][0] for s in sns if info[s][0] is not None]
        parcels.append(Shipped(number, carriers[number], tuple(sns), min(proms) if proms else None,  # type: ignore[type-var]
                               tuple(sorted(info[s][1] for s in sns)), info[sns[0]][2]))
    return parcels
