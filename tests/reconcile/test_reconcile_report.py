"""The reconciliation workbook: sheets, numbers as numbers, totals equal the sums of the detail sheets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook

from pddbatch.reconcile import KINDS, reconcile
from pddbatch.reconcile.report import TOTAL_LABELS
from tests.reconcile.reconcile_helpers import O2, O3, SAMPLE, Case


def _money(v: Any) -> Decimal:
    assert isinstance(v, int | float), f"money cell is not a number: {v!r}"
    return Decimal(str(v)).quantize(Decimal("0.01"))


def _col(rows: list[list[Any]], header: str) -> list[Any]:
    i = rows[0].index(header)
    return [r[i] for r in rows[1:]]


def _sum(values: list[Any]) -> Decimal:
    return sum((_money(v) for v in values if v not in (None, "")), Decimal("0.00"))


def _totals(summary: list[list[Any]]) -> dict[str, Any]:
    labels = {zh: key for key, (zh, _) in TOTAL_LABELS.items()}
    return {labels[r[0]]: r[1] for r in summary if r and r[0] in labels}


def _block(summary: list[list[Any]], title: str) -> list[list[Any]]:
    """Rows of a 汇总 block (after its title and header row) up to the blank row."""
    start = next(i for i, r in enumerate(summary) if r and r[0] == title) + 2
    out = []
    for r in summary[start:]:
        if not r or r[0] in (None, ""):
            break
        out.append(r)
    return out


def _read_both(path: Path) -> list[dict[str, list[list[Any]]]]:
    wb = openpyxl.load_workbook(path)
    by_openpyxl = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    cw = CalamineWorkbook.from_path(str(path))
    by_calamine = {n: [[None if v == "" else v for v in r] for r in cw.get_sheet_by_name(n).to_python()]
                   for n in cw.sheet_names}
    return [by_openpyxl, by_calamine]


def test_totals_reconcile_on_the_sample(tmp_path: Path) -> None:
    out = tmp_path / "reconciliation.xlsx"
    r = reconcile([SAMPLE / "orders.xlsx"], [SAMPLE / "售后-sample.xlsx"], [SAMPLE / "退货登记-sample.xlsx"], out=out)
    assert r.files_written == [out]
    for book in _read_both(out):
        assert list(book) == ["汇总", "已匹配", "异常", "问题清单"]
        summary, matched, exc = book["汇总"], book["已匹配"], book["异常"]
        t = _totals(summary)
        matched_sum = _sum(_col(matched, "退款金额"))
        without_order = _sum([v for k, v in zip(_col(exc, "代码"), _col(exc, "退款金额"), strict=True)
                              if k == "refund-without-order"])
        assert _money(t["matched_total"]) == matched_sum == r.matched_total
        assert _money(t["unmatched_total"]) == without_order == r.unmatched_total
        assert _money(t["refunds_total"]) == matched_sum + without_order == r.refunds_total
        assert t["exceptions"] == len(exc) - 1 == r.exception_count
        for title in ("按售后类型", "按售后原因", "按月份", "按商家编码"):
            block = _block(summary, title)
            assert _sum([row[3] for row in block]) == r.refunds_total, title
            assert sum(row[1] for row in block) == r.aftersales == len(matched) - 1 + \
                sum(1 for k in _col(exc, "代码") if k == "refund-without-order")
        kinds = _block(summary, "异常（按类型）")
        assert [row[0] for row in kinds] == [zh for zh, _ in KINDS.values()]     # names, no bare codes
        codes = _col(exc, "代码")
        assert {row[0]: row[1] for row in kinds} == {KINDS[k][0]: codes.count(k) for k in KINDS}


def test_money_cells_are_numbers_with_a_currency_format(case: Case) -> None:
    r = case.run()
    wb = openpyxl.load_workbook(r.files_written[0])
    ws = wb["已匹配"]
    head = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=head.index("退款金额") + 1)
    assert isinstance(cell.value, int | float) and cell.value == 30 and "¥" in cell.number_format
    summary = wb["汇总"]
    row = next(r_ for r_ in summary.iter_rows() if r_[0].value == "退款总额")
    assert row[1].value == 76.6 and "¥" in row[1].number_format


def test_exceptions_sheet_rows_name_every_input(case: Case) -> None:
    case.returns[0][4] = "破损"
    r = case.run()
    ws = openpyxl.load_workbook(r.files_written[0])["异常"]
    rows = [list(x) for x in ws.iter_rows(values_only=True)]
    assert ws.auto_filter.ref == "A1:L2"
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["代码"] == "damaged-return" and row["异常类型"] == "退货有损仍全额退款"
    assert row["售后来源"] == "售后.xlsx / Sheet1 / 第3行"
    assert row["订单来源"] == "orders.xlsx / Sheet1 / 第3行"
    assert row["退货登记来源"] == "退货登记.xlsx / Sheet1 / 第2行"
    assert row["退款金额"] == 46.6 and row["订单金额"] == 46.6
    assert "破损" in row["说明"]


def test_english_report(case: Case) -> None:
    case.returns.clear()
    r = case.run(lang="en")
    ws = openpyxl.load_workbook(r.files_written[0])["异常"]
    rows = [list(x) for x in ws.iter_rows(values_only=True)]
    assert rows[0][:3] == ["Code", "Kind", "Month"]
    assert rows[1][1] == "Return not received"
    assert rows[1][8].startswith("After-sale AS2 (return and refund) was refunded ¥46.60")


def test_formula_looking_text_stays_text(case: Case) -> None:
    case.aftersales[0][9] = "=HYPERLINK(\"http://x\",\"点我\")"
    r = case.run()
    wb = openpyxl.load_workbook(r.files_written[0])
    ws = wb["已匹配"]
    head = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=head.index("售后原因") + 1)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_unreadable_rows_go_to_the_issues_sheet(case: Case) -> None:
    case.aftersales[0][5] = "三十"
    case.aftersales.append(["AS3", O3, "退货退款", "退款成功", 41.5, 41.5, "下周二", "2026-11-10", "", "", ""])
    case.orders[2][0] = 2.61101e14                       # Excel ate the order number
    r = case.run()
    rows = [list(x) for x in openpyxl.load_workbook(r.files_written[0])["问题清单"].iter_rows(values_only=True)]
    assert rows[0] == ["工作表", "单元格", "行号", "字段", "代码", "说明", "文件"]
    got = [(x[0], x[1], x[2], x[3], x[4], x[6]) for x in rows[1:]]
    assert got == [("Sheet1", "A4", 4, "订单号", "id-not-text", "orders.xlsx"),
                   ("Sheet1", "F2", 2, "退款金额(元)", "bad-amount", "售后.xlsx"),
                   ("Sheet1", "G4", 4, "申请时间", "bad-date", "售后.xlsx")]
    assert "三十" in rows[2][5]
    assert r.blocking_issues == 2                       # order-export problems are listed, not blocking


def test_the_output_is_replaced_atomically(case: Case) -> None:
    out = case.tmp / "reconciliation.xlsx"
    out.write_bytes(b"old")
    case.run(out=out)
    assert out.read_bytes()[:2] == b"PK"
    assert [p.name for p in case.tmp.iterdir() if p.name.startswith(".~")] == []


def test_matched_sheet_lists_every_after_sale_with_an_order(case: Case) -> None:
    case.aftersales.append(["AS3", O2, "换货", "换货中", 46.6, None, "2026-11-06", None, "", "尺码", "PG-5J"])
    r = case.run()
    rows = [list(x) for x in openpyxl.load_workbook(r.files_written[0])["已匹配"].iter_rows(values_only=True)]
    assert [x[0] for x in rows[1:]] == ["AS1", "AS2", "AS3"]
    assert rows[3][rows[0].index("退款金额")] is None      # not refunded: no amount in the refund column
