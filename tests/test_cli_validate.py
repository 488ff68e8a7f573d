"""`pddbatch validate` as the seller runs it: marks in the workbook, reruns, exit codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from pddbatch.cli import main
from tests.support import generator, sample_rows, set_cell_text, soffice_convert

FAULT_ROWS = {idx + 2 for idx, *_ in generator.FAULTS}


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _headers(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    return {str(c.value).strip(): c.column for c in ws[1] if c.value}


def test_validate_marks_every_problem_where_the_seller_looks(orders_xlsx: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["validate", str(orders_xlsx)])
    assert res.exit_code == 1, res.output
    assert res.output.splitlines()[0] == "共检查 320 行：通过 308 行，校验失败 12 行，问题 13 个"
    assert "原文件备份" in res.output

    wb = openpyxl.load_workbook(orders_xlsx)
    ws = wb["订单列表"]
    h = _headers(ws)
    assert list(h)[-2:] == ["处理状态", "处理说明"]
    for r in range(2, 322):
        status = ws.cell(r, h["处理状态"]).value
        assert status == ("校验失败" if r in FAULT_ROWS else "校验通过"), r
    # the bad cell is red, with a note saying what is wrong and what good looks like
    from pddbatch.workbook.headers import alias_table

    spelled = {f: alias_table().display[f] for f in alias_table().display}
    for idx, field, _code, _ in generator.FAULTS:
        row = idx + 2
        col = h.get(spelled[field]) or h[{"order_sn": "订单号"}.get(field, spelled[field])]
        ref = f"{openpyxl.utils.get_column_letter(col)}{row}"
        assert str(ws.cell(row, h["处理说明"]).value).startswith(f"{ref}："), row   # says which cell
        assert ws[ref].fill.fgColor.rgb.endswith("FFC7CE") and ws[ref].comment is not None, ref
    phone = ws.cell(19, h["手机"])
    assert phone.fill.fgColor.rgb.endswith("FFC7CE")
    assert phone.comment is not None and "13812345678" in phone.comment.text
    assert ws.cell(2, h["手机"]).fill.fgColor.rgb in ("00000000", None)
    issues = wb["问题清单"]
    rows = [[c.value for c in r] for r in issues.iter_rows()]
    assert rows[0] == ["工作表", "单元格", "行号", "字段", "代码", "说明"]
    assert {(r[2], r[4]) for r in rows[1:]} >= {(idx + 2, code) for idx, _f, code, _d in generator.FAULTS}
    assert len(rows) == 1 + 13

    # a second, independent reader sees the same statuses; LibreOffice opens the file
    cal = CalamineWorkbook.from_path(str(orders_xlsx)).get_sheet_by_name("订单列表").to_python()
    assert cal[18][h["处理状态"] - 1] == "校验失败" and cal[1][h["处理状态"] - 1] == "校验通过"
    csv_path = soffice_convert(orders_xlsx, tmp_path)
    assert "校验失败" in csv_path.read_text(encoding="utf-8", errors="replace")


def test_rerun_after_fixes_clears_old_marks(orders_xlsx: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["validate", str(orders_xlsx)]).exit_code == 1
    wb = openpyxl.load_workbook(orders_xlsx)
    h = _headers(wb["订单列表"])
    phone_col = openpyxl.utils.get_column_letter(h["手机"])
    qty_col = openpyxl.utils.get_column_letter(h["商品数量(件)"])
    set_cell_text(orders_xlsx, f"{phone_col}19", "13812345678")
    set_cell_text(orders_xlsx, f"{qty_col}55", "2")

    res = runner.invoke(main, ["validate", str(orders_xlsx)])
    assert res.output.splitlines()[0] == "共检查 320 行：通过 310 行，校验失败 10 行，问题 11 个"
    wb = openpyxl.load_workbook(orders_xlsx)
    ws = wb["订单列表"]
    for ref, row in ((f"{phone_col}19", 19), (f"{qty_col}55", 55)):
        assert ws[ref].comment is None
        assert not ws[ref].fill.fgColor.rgb.endswith("FFC7CE")
        assert ws.cell(row, h["处理状态"]).value == "校验通过"
        assert ws.cell(row, h["处理说明"]).value is None
    assert ws.cell(31, h["处理状态"]).value == "校验失败"      # still wrong, still marked
    assert len(list(wb["问题清单"].iter_rows())) == 1 + 11
    assert ws.max_column == h["处理说明"]                      # no duplicate owned columns


def test_dry_run_writes_nothing_and_json_reports(orders_xlsx: Path) -> None:
    before = _digest(orders_xlsx)
    res = CliRunner().invoke(main, ["validate", str(orders_xlsx), "--dry-run", "--json"])
    assert res.exit_code == 1
    data = json.loads(res.output)
    assert data["rows"] == 320 and data["rejected"] == 12 and data["dry_run"] is True
    assert {(i["cell"], i["code"]) for i in data["issues"]} >= {("B7", "excel-mangled-number")}
    assert _digest(orders_xlsx) == before
    assert not list(orders_xlsx.parent.glob("pddbatch-backup*"))


def test_clean_workbook_exits_zero_and_english(tmp_path: Path) -> None:
    path = tmp_path / "ok.xlsx"
    generator.write_xlsx(sample_rows(40, faults=False), path)
    res = CliRunner().invoke(main, ["validate", str(path), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == "40 rows checked: 40 valid, 0 rejected, 0 issues"


def test_missing_columns_exit_2_and_file_untouched(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "few.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["订单号", "订单状态", "商品"])
    ws.write_row(1, 0, ["260517-607198974342268", "待发货", "毛毯"])
    wb.close()
    before = _digest(path)
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 2
    assert res.output.startswith("错误：缺少必需的列：售后状态、商品数量(件)、收货人、手机、省、市、区、详细地址")
    assert "Traceback" not in res.output
    assert _digest(path) == before


def test_csv_gets_columns_and_a_sidecar_issue_list(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    generator.write_csv(sample_rows(), path)
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 1
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")          # the BOM Excel needs is kept
    text = raw.decode("utf-8-sig").splitlines()
    assert text[0].endswith("处理状态,处理说明")
    assert "校验失败" in text[18]
