"""--write-back: a 对账状态 column in the after-sales workbook, nothing else in it changes."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from pddbatch.cli.reconcile import reconcile as reconcile_cmd
from tests.reconcile.reconcile_helpers import AS_HEADERS, Case, base_aftersales, write_csv


def test_status_column_written_and_the_rest_kept(case: Case) -> None:
    case.returns.clear()                                  # AS2's parcel never arrived
    o, a, r = case.files()
    wb = openpyxl.load_workbook(a)
    wb["Sheet1"]["A1"].font = openpyxl.styles.Font(bold=True)
    notes = wb.create_sheet("客服备注")
    notes["A1"] = "别删我"
    wb.save(a)
    args = ["--orders", str(o), "--aftersales", str(a), "--returns", str(r), "-o", str(case.tmp / "rec.xlsx")]
    res = CliRunner().invoke(reconcile_cmd, [*args, "--write-back"])
    assert res.exit_code == 1, res.output
    assert res.output.rstrip().endswith(f"已写入 {case.tmp / 'rec.xlsx'}, {a}")
    wb = openpyxl.load_workbook(a)
    ws = wb["Sheet1"]
    rows = [list(x) for x in ws.iter_rows(values_only=True)]
    assert rows[0] == [*AS_HEADERS, "对账状态"]
    assert [x[-1] for x in rows[1:]] == ["已核对", "异常：退货未收到"]
    assert rows[1][0] == "AS1" and rows[2][4] == 46.6
    assert ws["A1"].font.bold and wb["客服备注"]["A1"].value == "别删我"
    assert list((case.tmp / "pddbatch-backup").iterdir())

    # a rerun after the parcel turns up rewrites the same column, no second column
    case.returns.append(["JT0000000000022", "2026-11-08", "", 1, "完好"])
    from tests.reconcile.reconcile_helpers import RET_HEADERS, write_xlsx

    write_xlsx(r, RET_HEADERS, case.returns)
    res = CliRunner().invoke(reconcile_cmd, [*args, "--write-back"])
    assert res.exit_code == 0, res.output
    rows = [list(x) for x in openpyxl.load_workbook(a)["Sheet1"].iter_rows(values_only=True)]
    assert rows[0][-1] == "对账状态" and len(rows[0]) == len(AS_HEADERS) + 1
    assert [x[-1] for x in rows[1:]] == ["已核对", "已核对"]


def test_rows_outside_the_month_are_left_alone(case: Case) -> None:
    case.aftersales.append(["AS9", "261019-300412778015342", "仅退款", "退款成功", 25.8, 25.8,
                            "2026-10-30", "2026-10-31", "", "不想要了", ""])
    case.run(month="2026-10", write_back=True)
    rows = [list(x) for x in openpyxl.load_workbook(case.tmp / "售后.xlsx")["Sheet1"].iter_rows(values_only=True)]
    assert [x[-1] for x in rows[1:]] == [None, None, "异常：退款找不到订单"]


def test_csv_after_sales(case: Case) -> None:
    o, _, r = case.files()
    a = write_csv(case.tmp / "售后.csv", AS_HEADERS, base_aftersales(), "utf-8-sig")
    from pddbatch.reconcile import reconcile

    res = reconcile([o], [a], [r], out=case.tmp / "rec.xlsx", write_back=True, lang="en")
    assert res.files_written == [case.tmp / "rec.xlsx", a]
    with a.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][-1] == "对账状态" and [x[-1] for x in rows[1:]] == ["OK", "OK"]


def test_without_write_back_the_after_sales_file_is_untouched(case: Case, tmp_path: Path) -> None:
    _, a, _ = case.files()
    before = a.read_bytes()
    case.files = lambda: (case.tmp / "orders.xlsx", a, case.tmp / "退货登记.xlsx")  # type: ignore[method-assign]
    case.run()
    assert a.read_bytes() == before
