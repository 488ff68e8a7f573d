"""`<stem>.pddbatch/tracking.xlsx`: 异常件 (most urgent first), 全部包裹, 按快递公司, and what didn't fit.

Written with xlsxwriter in constant-memory mode (rows streamed), atomically. Text is always written
as text (never a formula or a number), so a waybill like 7310…001 keeps every digit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pddbatch.carriers import all_carriers
from pddbatch.model import RowIssue
from pddbatch.render.atomic import atomic_path
from pddbatch.tracking.alerts import ParcelTrack
from pddbatch.tracking.events import TrackingEvent
from pddbatch.tracking.status import Status

REPORT_NAME = "tracking.xlsx"
SHEET_ALERTS, SHEET_ALL, SHEET_CARRIERS, SHEET_UNKNOWN, SHEET_ISSUES = (
    "异常件", "全部包裹", "按快递公司", "台账外单号", "导入问题")

_EN = {"订单号": "Order no.", "快递单号": "Waybill", "快递公司": "Carrier", "物流状态": "Status", "异常": "Alert",
       "出单后小时数": "Hours since issue", "最新轨迹": "Last event", "处理建议": "What to do", "行号": "Row",
       "出单时间": "Issued", "揽收时间": "Picked up", "承诺发货时间": "Promised ship time", "轨迹条数": "Events",
       "合计": "Total", "异常件": "With alerts", "来源": "Source", "文件": "File", "工作表": "Sheet",
       "单元格": "Cell", "说明": "Message"}


@dataclass(frozen=True)
class UnknownNumber:
    tracking_no: str
    events: int
    last: TrackingEvent


def carrier_name(code: str, lang: str) -> str:
    c = all_carriers().get(code)
    return code if c is None or lang == "en" else c.pdd_name


def write_report(path: Path, parcels: Sequence[ParcelTrack], alerts: Sequence[ParcelTrack],
                 unknown: Sequence[UnknownNumber], issues: Sequence[tuple[str, RowIssue]],
                 rows_of: dict[str, tuple[int, ...]], lang: str = "zh") -> Path:
    """Write the report; returns its path. `rows_of` maps a waybill to its rows in the orders sheet."""
    import xlsxwriter

    def h(names: Sequence[str]) -> list[str]:
        return [_EN.get(n, n) for n in names] if lang == "en" else list(names)

    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        urgent = wb.add_format({"bg_color": "#FFC7CE"})

        def sheet(name: str, headers: Sequence[str], widths: Sequence[float]) -> object:
            ws = wb.add_worksheet(name)
            for c, (text, w) in enumerate(zip(h(headers), widths, strict=True)):
                ws.set_column(c, c, w)
                ws.write_string(0, c, text, head)
            ws.freeze_panes(1, 0)
            return ws

        ws = sheet(SHEET_ALERTS, ("订单号", "快递单号", "快递公司", "物流状态", "异常", "出单后小时数", "最新轨迹",
                                  "处理建议", "行号"), (24, 18, 12, 10, 16, 12, 50, 60, 10))
        for r, p in enumerate(alerts, start=1):
            a = p.alert
            assert a is not None
            fmt = urgent if a.kind.rank == 0 else None
            _text_row(ws, r, ["、".join(p.order_sns), p.tracking_no, carrier_name(p.carrier, lang),
                              p.status.text(lang), "、".join(x.kind.text(lang) for x in p.alerts)], fmt)
            _hours(ws, r, 5, p.hours_since_issue)
            _text_row(ws, r, [p.latest_text(), a.what_to_do(p.status, lang), _rows(rows_of, p)], fmt, start=6)

        ws = sheet(SHEET_ALL, ("订单号", "快递单号", "快递公司", "物流状态", "异常", "出单时间", "揽收时间", "承诺发货时间",
                               "出单后小时数", "轨迹条数", "最新轨迹", "行号"),
                   (24, 18, 12, 10, 16, 19, 19, 19, 12, 8, 50, 10))
        for r, p in enumerate(parcels, start=1):
            _text_row(ws, r, ["、".join(p.order_sns), p.tracking_no, carrier_name(p.carrier, lang), p.status.text(lang),
                              "、".join(x.kind.text(lang) for x in p.alerts), _when(p.issued_at),
                              _when(p.picked_up_at), _when(p.promised_ship_at)])
            _hours(ws, r, 8, p.hours_since_issue)
            ws.write_number(r, 9, len(p.events))   # type: ignore[attr-defined]
            _text_row(ws, r, [p.latest_text(), _rows(rows_of, p)], start=10)

        statuses = list(Status)
        ws = sheet(SHEET_CARRIERS, ("快递公司", *(s.text(lang) for s in statuses), "合计", "异常件"),
                   (14, *([10] * len(statuses)), 8, 8))
        counts: dict[str, dict[Status, int]] = {}
        flagged: dict[str, int] = {}
        for p in parcels:
            counts.setdefault(p.carrier, dict.fromkeys(statuses, 0))[p.status] += 1
            flagged[p.carrier] = flagged.get(p.carrier, 0) + (1 if p.alerts else 0)
        for r, code in enumerate(sorted(counts), start=1):
            ws.write_string(r, 0, carrier_name(code, lang))   # type: ignore[attr-defined]
            for c, s in enumerate(statuses, start=1):
                ws.write_number(r, c, counts[code][s])   # type: ignore[attr-defined]
            ws.write_number(r, len(statuses) + 1, sum(counts[code].values()))   # type: ignore[attr-defined]
            ws.write_number(r, len(statuses) + 2, flagged[code])   # type: ignore[attr-defined]

        ws = sheet(SHEET_UNKNOWN, ("快递单号", "轨迹条数", "最新轨迹", "来源"), (20, 8, 60, 24))
        for r, u in enumerate(unknown, start=1):
            ws.write_string(r, 0, u.tracking_no)   # type: ignore[attr-defined]
            ws.write_number(r, 1, u.events)   # type: ignore[attr-defined]
            _text_row(ws, r, [f"{u.last.at.strftime('%Y-%m-%d %H:%M')} {u.last.text}", u.last.source], start=2)

        if issues:
            ws = sheet(SHEET_ISSUES, ("文件", "工作表", "单元格", "说明"), (24, 14, 10, 70))
            for r, (source, i) in enumerate(issues, start=1):
                _text_row(ws, r, [source, i.sheet, i.cell, i.message])
        wb.close()
    return path


def _text_row(ws: object, r: int, values: Sequence[str], fmt: object = None, start: int = 0) -> None:
    for c, v in enumerate(values, start=start):
        if v:
            ws.write_string(r, c, v, fmt)   # type: ignore[attr-defined]
        elif fmt is not None:
            ws.write_blank(r, c, None, fmt)   # type: ignore[attr-defined]


def _hours(ws: object, r: int, c: int, hours: float | None) -> None:
    if hours is not None:
        ws.write_number(r, c, round(hours, 1))   # type: ignore[attr-defined]


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else ""


def _rows(rows_of: dict[str, tuple[int, ...]], p: ParcelTrack) -> str:
    return ",".join(str(r) for r in rows_of.get(p.tracking_no, ()))
