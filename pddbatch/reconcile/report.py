"""Write the reconciliation workbook (汇总 / 已匹配 / 异常 / 问题清单) with xlsxwriter, atomically.

Money cells are numbers with a currency format; text is always written as text (never a formula,
URL or number), so a 售后原因 starting with "=" stays what the buyer typed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pddbatch.errors import SaveError, WorkbookBusyError
from pddbatch.model import CellValue
from pddbatch.reconcile.exceptions import KINDS, kind_name
from pddbatch.reconcile.inputs import FileIssue, Source
from pddbatch.reconcile.matching import Matching
from pddbatch.reconcile.summary import Bucket, Summary

SHEET_SUMMARY, SHEET_MATCHED, SHEET_EXCEPTIONS, SHEET_ISSUES = "汇总", "已匹配", "异常", "问题清单"
CURRENCY = '"¥"#,##0.00;-"¥"#,##0.00'

_H = {  # Chinese header -> English header
    "售后编号": "After-sale no.", "订单号": "Order no.", "售后类型": "Type", "售后状态": "Status",
    "售后原因": "Reason", "商家编码": "SKU", "商品": "Product", "月份": "Month", "申请金额": "Requested",
    "退款金额": "Refunded", "订单金额": "Order amount", "退货快递单号": "Return waybill", "收货日期": "Received",
    "状况": "Condition", "异常": "Exceptions", "售后来源": "After-sales row", "订单来源": "Order row",
    "退货登记来源": "Returns-log row", "代码": "Code", "异常类型": "Kind", "快递单号": "Waybill",
    "说明": "What to check", "工作表": "Sheet", "单元格": "Cell", "行号": "Row", "字段": "Field",
    "文件": "File", "分类": "Group", "售后单数": "After-sales", "已退款单数": "Refunded", "条数": "Count",
    "涉及退款金额": "Refund amount",
}

MATCHED_HEADERS = ("售后编号", "订单号", "售后类型", "售后状态", "售后原因", "商家编码", "商品", "月份",
                   "申请金额", "退款金额", "订单金额", "退货快递单号", "收货日期", "状况", "异常",
                   "售后来源", "订单来源", "退货登记来源")
EXCEPTION_HEADERS = ("代码", "异常类型", "月份", "售后编号", "订单号", "快递单号", "退款金额", "订单金额",
                     "说明", "售后来源", "订单来源", "退货登记来源")
ISSUE_HEADERS = ("工作表", "单元格", "行号", "字段", "代码", "说明", "文件")
MONEY_MATCHED = {"申请金额", "退款金额", "订单金额"}

# Row labels of the 汇总 totals block (column A), stable so tools and tests can find them.
TOTAL_LABELS = {
    "aftersales": ("售后单数", "After-sales"),
    "refunded": ("已退款单数", "Refunded after-sales"),
    "refunds_total": ("退款总额", "Refunds total"),
    "matched_total": ("其中：已匹配订单", "of which matched to an order"),
    "unmatched_total": ("其中：找不到订单", "of which without order"),
    "exceptions": ("异常条数", "Exceptions"),
}


def write_report(out: Path, m: Matching, s: Summary, issues: Sequence[FileIssue], *, basis: str,
                 month: str | None, lang: str = "zh") -> Path:
    """Write the workbook to `out` via a temp file + os.replace; return the path written."""
    import xlsxwriter  # the one module that owns xlsxwriter

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~" + out.stem + "-", suffix=".xlsx", dir=out.parent)
    os.close(fd)
    try:
        wb = xlsxwriter.Workbook(tmp, {"constant_memory": True, "strings_to_formulas": False,
                                       "strings_to_urls": False, "strings_to_numbers": False})
        fmt = _Formats(wb)
        _summary(wb.add_worksheet(SHEET_SUMMARY), fmt, s, basis, month, lang)
        _matched(wb.add_worksheet(SHEET_MATCHED), fmt, m, lang)
        _exceptions(wb.add_worksheet(SHEET_EXCEPTIONS), fmt, m, lang)
        _issues(wb.add_worksheet(SHEET_ISSUES), fmt, issues, lang)
        wb.close()
        try:
            os.replace(tmp, out)
        except PermissionError as exc:
            raise WorkbookBusyError(f"无法覆盖 {out.name}：文件可能正在 Excel 中打开，请关闭后重试",
                                    f"Cannot replace {out.name}: it may be open in Excel; close it and retry"
                                    ) from exc
    except OSError as exc:
        raise SaveError(f"无法写入 {out}：{exc}", f"Cannot write {out}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return out


class _Formats:
    def __init__(self, wb: Any) -> None:
        self.bold = wb.add_format({"bold": True})
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.money = wb.add_format({"num_format": CURRENCY})
        self.money_bold = wb.add_format({"num_format": CURRENCY, "bold": True})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})


def _t(text: str, lang: str) -> str:
    return _H.get(text, text) if lang == "en" else text


def _put(ws: Any, row: int, col: int, value: CellValue, fmt: _Formats, money: bool = False) -> None:
    if value is None or value == "":
        return
    if isinstance(value, Decimal):
        ws.write_number(row, col, float(value), fmt.money if money else None)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt.money if money else None)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, fmt.date)
    else:
        ws.write_string(row, col, str(value))


def _srcs(sources: Sequence[Source], lang: str) -> str:
    return "；".join(s.label(lang) for s in sources) if lang != "en" else "; ".join(s.label(lang) for s in sources)


def _summary(ws: Any, fmt: _Formats, s: Summary, basis: str, month: str | None, lang: str) -> None:
    en = lang == "en"
    ws.set_column(0, 0, 28)
    ws.set_column(1, 3, 16)
    ws.write_string(0, 0, "Returns & refunds reconciliation" if en else "退货退款对账汇总", fmt.title)
    ws.write_string(1, 0, "Month" if en else "月份")
    ws.write_string(1, 1, month or ("all" if en else "全部"))
    ws.write_string(2, 0, "Amount basis" if en else "金额口径")
    basis_text = {"buyer_paid": ("用户实付金额", "buyer paid"), "merchant_received": ("商家实收金额",
                                                                                  "merchant received")}[basis]
    ws.write_string(2, 1, basis_text[1] if en else basis_text[0])
    row = 4
    totals: list[tuple[str, CellValue, bool]] = [
        ("aftersales", s.aftersales, False), ("refunded", s.refunded, False),
        ("refunds_total", s.refunds_total, True), ("matched_total", s.matched_total, True),
        ("unmatched_total", s.unmatched_total, True), ("exceptions", sum(s.exceptions.values()), False)]
    for key, value, money in totals:
        ws.write_string(row, 0, TOTAL_LABELS[key][1 if en else 0], fmt.bold)
        if money and isinstance(value, Decimal):
            ws.write_number(row, 1, float(value), fmt.money_bold)
        elif isinstance(value, int):
            ws.write_number(row, 1, value)
        row += 1
    row += 1
    blocks: list[tuple[str, str, tuple[Bucket, ...]]] = [
        ("按售后类型", "By type", s.by_type), ("按售后原因", "By reason", s.by_reason),
        ("按月份", "By month", s.by_month), ("按商家编码", "By SKU", s.by_sku)]
    for zh, en_title, buckets in blocks:
        ws.write_string(row, 0, en_title if en else zh, fmt.title)
        row += 1
        for c, h in enumerate(("分类", "售后单数", "已退款单数", "退款金额")):
            ws.write_string(row, c, _t(h, lang), fmt.head)
        row += 1
        for b in buckets:
            ws.write_string(row, 0, b.label)
            ws.write_number(row, 1, b.count)
            ws.write_number(row, 2, b.refunded_count)
            ws.write_number(row, 3, float(b.amount), fmt.money)
            row += 1
        row += 1
    ws.write_string(row, 0, "Exceptions by kind" if en else "异常（按类型）", fmt.title)
    row += 1
    # names in the reader's language only: the codes stay on the 异常 sheet for tools
    for c, h in enumerate(("异常类型", "条数", "涉及退款金额")):
        ws.write_string(row, c, _t(h, lang), fmt.head)
    row += 1
    for code in KINDS:
        ws.write_string(row, 0, kind_name(code, lang))
        ws.write_number(row, 1, s.exceptions[code])
        ws.write_number(row, 2, float(s.exception_amounts[code]), fmt.money)
        row += 1


def _header(ws: Any, fmt: _Formats, headers: Sequence[str], lang: str, widths: Sequence[int]) -> None:
    for c, h in enumerate(headers):
        ws.write_string(0, c, _t(h, lang), fmt.head)
        ws.set_column(c, c, widths[c] if c < len(widths) else 14)
    ws.freeze_panes(1, 0)


def _matched(ws: Any, fmt: _Formats, m: Matching, lang: str) -> None:
    _header(ws, fmt, MATCHED_HEADERS, lang, (22, 26, 10, 16, 14, 14, 24, 9, 12, 12, 12, 18, 12, 8, 24))
    for i, x in enumerate(m.matched, start=1):
        a, r, t = x.aftersale, x.received, x.tracked
        refund = a.refunded if a.status_class == "refunded" else None
        back_zh_en = ("物流显示已退回", "tracking: returned")
        values: list[CellValue] = [
            a.aftersale_sn, a.order_sn, a.type, a.status, a.reason, a.sku or x.order.sku,
            a.product or x.order.product, a.month, a.apply_amount, refund, x.paid,
            a.return_tracking_no or (r.tracking_no if r else t.tracking_no if t else ""),
            r.received_at if r else t.at if t else None,
            r.condition if r else back_zh_en[lang == "en"] if t else "", ", ".join(x.codes),
            a.source.label(lang), x.order.source.label(lang),
            r.source.label(lang) if r else t.evidence(lang) if t else ""]
        for c, v in enumerate(values):
            _put(ws, i, c, v, fmt, MATCHED_HEADERS[c] in MONEY_MATCHED)
    ws.autofilter(0, 0, max(len(m.matched), 1), len(MATCHED_HEADERS) - 1)


def _exceptions(ws: Any, fmt: _Formats, m: Matching, lang: str) -> None:
    _header(ws, fmt, EXCEPTION_HEADERS, lang, (26, 16, 9, 22, 24, 18, 12, 12, 70, 30, 30, 30))
    sep = ", "
    for i, f in enumerate(m.findings, start=1):
        values: list[CellValue] = [
            f.kind, kind_name(f.kind, lang), f.month, sep.join(f.aftersale_sns), f.order_sn, f.tracking_no,
            f.refund, f.paid, f.message, _srcs(f.aftersale_rows, lang), _srcs(f.order_rows, lang),
            _srcs(f.return_rows, lang) or f.evidence]
        for c, v in enumerate(values):
            _put(ws, i, c, v, fmt, c in (6, 7))
    ws.autofilter(0, 0, max(len(m.findings), 1), len(EXCEPTION_HEADERS) - 1)


def _issues(ws: Any, fmt: _Formats, issues: Sequence[FileIssue], lang: str) -> None:
    _header(ws, fmt, ISSUE_HEADERS, lang, (16, 8, 6, 16, 20, 60, 30))
    for i, (path, iss) in enumerate(issues, start=1):
        values: list[CellValue] = [iss.sheet, iss.cell, iss.row, iss.header or iss.field, iss.code, iss.message,
                                   Path(path).name]
        for c, v in enumerate(values):
            _put(ws, i, c, v, fmt)
    ws.autofilter(0, 0, max(len(issues), 1), len(ISSUE_HEADERS) - 1)
