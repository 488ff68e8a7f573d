"""What the accountant reads: a missing column is named with its spellings, numbers are not called
mangled when they are intact, and the summary sheet speaks the reader's language only."""

from __future__ import annotations

import openpyxl
from click.testing import CliRunner

from pddbatch.cli import main
from pddbatch.reconcile import reconcile
from pddbatch.reconcile.exceptions import KINDS
from tests.reconcile.reconcile_helpers import AS_HEADERS, ORDER_HEADERS, RET_HEADERS, Case, write_xlsx


def test_a_condition_column_it_cannot_map_is_named_with_the_accepted_spellings(case: Case) -> None:
    case.returns[0][4] = "破损"
    o, a, _ = case.files()
    headers = [("商品情况" if h == "状况" else h) for h in RET_HEADERS]
    r = write_xlsx(case.tmp / "退货登记.xlsx", headers, case.returns)
    res = CliRunner().invoke(main, ["reconcile", "--orders", str(o), "--aftersales", str(a), "--returns", str(r),
                                    "-o", str(case.tmp / "rec.xlsx")])
    assert res.exit_code == 0, res.output          # nothing found, but the seller is told why
    lines = res.output.splitlines()
    assert lines[1] == ("  退货登记.xlsx（退货登记）：没有找到“状况”列（可写作：状况、货物状况、商品状况、状态），"
                        "所以无法检查“退货有损仍全额退款”。表中没认出的列：商品情况。把表头改成其中一个写法后再运行。")
    issues = list(openpyxl.load_workbook(case.tmp / "rec.xlsx")["问题清单"].iter_rows(values_only=True))
    assert [(x[3], x[4]) for x in issues[1:]] == [("状况", "missing-column")]
    en = CliRunner().invoke(main, ["reconcile", "--orders", str(o), "--aftersales", str(a), "--returns", str(r),
                                   "-o", str(case.tmp / "rec-en.xlsx"), "--lang", "en"])
    assert "no '状况' column (accepted: 状况, 货物状况, 商品状况, 状态)" in en.output
    assert "Columns not recognised: 商品情况" in en.output


def test_a_14_digit_waybill_stored_as_a_number_is_not_called_mangled(case: Case) -> None:
    case.orders[1][7] = 73100000000002.0                  # the export's 快递单号 typed as a number
    case.returns[0][0] = 22000000000022.0                 # 14 digits in the returns log, as a number
    case.aftersales[1][8] = "22000000000022"
    r = case.run()
    codes = [(i.field, i.code, i.severity, i.message) for _, i in r.issues]
    assert all(code != "id-not-text" for _, code, _, _ in codes), codes
    assert ("return_tracking_no", "id-as-number", "warning",
            "“22000000000022”存成了数字；数字完整，按 22000000000022 使用。建议把该列设为文本") in codes
    assert not any("丢失位数" in m or "lost digits" in m for *_, m in codes)
    assert r.exceptions["return-not-received"] == 0      # matched by the intact number
    assert r.blocking_issues == 0


def test_an_order_number_eaten_by_excel_still_may_have_lost_digits(case: Case) -> None:
    case.orders[2][0] = 2.61101e14
    r = case.run()
    assert [i.code for _, i in r.issues] == ["id-not-text"]


def test_summary_sheet_has_no_bare_codes_in_either_language(case: Case) -> None:
    case.returns.clear()
    for lang, names in (("zh", [zh for zh, _ in KINDS.values()]), ("en", [en for _, en in KINDS.values()])):
        r = case.run(lang=lang, out=case.tmp / f"rec-{lang}.xlsx")
        rows = [list(x) for x in openpyxl.load_workbook(r.files_written[0])["汇总"].iter_rows(values_only=True)]
        text = [str(v) for row in rows for v in row if isinstance(v, str)]
        assert not any(code in t for code in KINDS for t in text), lang
        title = "异常（按类型）" if lang == "zh" else "Exceptions by kind"
        start = next(i for i, row in enumerate(rows) if row[0] == title)
        assert [row[0] for row in rows[start + 2:start + 2 + len(KINDS)]] == names


def test_only_a_missing_needed_column_warns(case: Case) -> None:
    # optional columns no check depends on may be missing quietly; a needed one is named
    o = write_xlsx(case.tmp / "o.xlsx", ORDER_HEADERS[:7], [row[:7] for row in case.orders])
    _, a, r = case.files()
    res = reconcile([o], [a], [r], out=case.tmp / "x.xlsx")
    assert res.warnings == []
    a2 = write_xlsx(case.tmp / "a2.xlsx", [h for h in AS_HEADERS if h != "退货快递单号"],
                    [row[:8] + row[9:] for row in case.aftersales])
    res = reconcile([o], [a2], [r], out=case.tmp / "y.xlsx")
    assert len(res.warnings) == 1 and "退货快递单号" in res.warnings[0]
