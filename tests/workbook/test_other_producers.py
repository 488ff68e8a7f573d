"""Workbooks from other producers: what calamine reads, pddbatch writes back correctly or refuses
before anything is allocated (`check_patchable`). Variants are made by rewriting the parts of a
plain workbook the way those producers store them."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from pddbatch.errors import InputError
from pddbatch.model import OwnedColumn, WritePlan
from pddbatch.pipeline import load_table
from pddbatch.workbook.marks import note_text, read_record
from pddbatch.workbook.save import apply_plan, check_patchable

T_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
T_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
S_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
S_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
HEADERS = ["订单号", "收货人", "手机", "快递单号"]


def base(path: Path, formulas: Callable[[xlsxwriter.workbook.Worksheet], None] | None = None) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("订单")
    ws.write_row(0, 0, HEADERS)
    for i in range(1, 6):
        ws.write_row(i, 0, [f"260517-{i:015d}", f"张{i}", f"138{i:08d}"])
    if formulas:
        formulas(ws)
    wb.close()
    return path


def rewrite(path: Path, fn: Callable[[dict[str, bytes]], dict[str, bytes]]) -> None:
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts = fn(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in parts.items():
            zf.writestr(n, d)


def to_strict(parts: dict[str, bytes]) -> dict[str, bytes]:
    """What Excel's "Strict Open XML Spreadsheet" save changes: the namespaces and relationship types."""
    out = {}
    for n, d in parts.items():
        if n.endswith((".xml", ".rels")):
            d = d.replace(T_MAIN.encode(), S_MAIN.encode()).replace(T_REL.encode(), S_REL.encode())
        out[n] = d
    return out


def rows_out_of_order(parts: dict[str, bytes]) -> dict[str, bytes]:
    s = parts["xl/worksheets/sheet1.xml"]
    rows = re.findall(rb"<row r=\"\d+\".*?</row>", s, re.S)
    parts["xl/worksheets/sheet1.xml"] = s.replace(b"".join(rows), rows[0] + rows[3] + rows[1] + rows[5] + rows[2]
                                                  + rows[4])
    return parts


def sheet_elsewhere(parts: dict[str, bytes]) -> dict[str, bytes]:
    parts["data/orders.xml"] = parts.pop("xl/worksheets/sheet1.xml")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b'Target="worksheets/sheet1.xml"', b'Target="/data/orders.xml"')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"/xl/worksheets/sheet1.xml",
                                                                        b"/data/orders.xml")
    return parts


def utf16_sheet(parts: dict[str, bytes]) -> dict[str, bytes]:
    text = parts["xl/worksheets/sheet1.xml"].decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    parts["xl/worksheets/sheet1.xml"] = text.encode("utf-16")
    return parts


def plan() -> WritePlan:
    cols = (OwnedColumn("快递单号", 4, False), OwnedColumn("处理状态", 5, True))
    values = {(r, 4): f"7310000000{r:05d}" for r in range(2, 7)} | {(r, 5): f"已分配{r}" for r in range(2, 7)}
    return WritePlan("订单", 1, cols, values, {(3, 3): "手机号应为11位数字"}, None, last_row=6,
                     record_meta={"ledger_id": "L-9"})


def check_written(path: Path) -> None:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("订单").to_python()
    assert rows[0] == [*HEADERS, "处理状态"]
    for r in range(2, 7):
        assert rows[r - 1][0] == f"260517-{r - 1:015d}"
        assert rows[r - 1][3:] == [f"7310000000{r:05d}", f"已分配{r}"]
    assert read_record(path).meta == {"ledger_id": "L-9"}
    assert {(m.row, m.col) for m in read_record(path).marks.values()} == {(3, 3)}


@pytest.mark.parametrize("variant", [rows_out_of_order, sheet_elsewhere, to_strict], ids=lambda f: f.__name__)
def test_written_back_correctly(tmp_path: Path, variant: Callable[[dict[str, bytes]], dict[str, bytes]]) -> None:
    path = base(tmp_path / "orders.xlsx")
    rewrite(path, variant)
    table = load_table(path)
    check_patchable(path, table.sheet, table)
    apply_plan(path, plan(), backup=False)
    check_written(path)
    again = path.read_bytes()
    apply_plan(path, plan(), backup=False)
    assert path.read_bytes() == again                 # a rerun changes nothing


def test_strict_stays_strict_and_libreoffice_reads_the_result(tmp_path: Path) -> None:
    path = base(tmp_path / "orders.xlsx")
    rewrite(path, to_strict)
    apply_plan(path, plan(), backup=False)
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            assert T_MAIN.encode() not in data and T_REL.encode() not in data, name   # no transitional part
        assert b"purl.oclc.org/ooxml/officeDocument/relationships/comments" in \
            zf.read("xl/worksheets/_rels/sheet1.xml.rels")
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice not installed")
    subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"), str(path)],
                   check=True, capture_output=True, timeout=180)
    ws = openpyxl.load_workbook(tmp_path / "lo" / "orders.xlsx")["订单"]
    assert ws["E3"].value == "已分配3" and ws["C3"].comment.text == note_text("手机号应为11位数字")
    assert str(ws["C3"].fill.fgColor.rgb).endswith("FFC7CE")


def test_utf16_sheet_refused_clearly_before_anything(tmp_path: Path) -> None:
    path = base(tmp_path / "orders.xlsx")
    rewrite(path, utf16_sheet)
    before = path.read_bytes()
    with pytest.raises(InputError, match="UTF-16"):
        load_table(path)
    with pytest.raises(InputError, match="UTF-16"):
        check_patchable(path, "订单")
    assert path.read_bytes() == before


@pytest.mark.parametrize("kind", ["shared", "array"])
def test_formula_group_over_an_owned_column_refused_up_front(tmp_path: Path, kind: str) -> None:
    def formulas(ws: xlsxwriter.workbook.Worksheet) -> None:
        if kind == "array":
            ws.write_array_formula("D2:D6", "{=C2:C6&\"\"}")
        else:
            for r in range(2, 7):
                ws.write_formula(f"D{r}", f"=C{r}&\"\"")

    path = base(tmp_path / "orders.xlsx", formulas)
    if kind == "shared":          # Excel stores a filled-down formula as one shared group
        def share(parts: dict[str, bytes]) -> dict[str, bytes]:
            s = parts["xl/worksheets/sheet1.xml"]
            s = re.sub(rb'<c r="D2"([^>]*)><f>[^<]*</f>', rb'<c r="D2"\1><f t="shared" ref="D2:D6" si="0">C2&amp;""</f>', s)
            s = re.sub(rb'<c r="D([3-6])"([^>]*)><f>[^<]*</f>', rb'<c r="D\1"\2><f t="shared" si="0"/>', s)
            parts["xl/worksheets/sheet1.xml"] = s
            return parts
        rewrite(path, share)
    table = load_table(path)
    with pytest.raises(InputError, match="D2:D6") as err:
        check_patchable(path, table.sheet, table)
    assert "没有分配任何单号" in err.value.text("zh") and "nothing was allocated" in err.value.text("en")


def test_formula_group_elsewhere_is_kept(tmp_path: Path) -> None:
    def formulas(ws: xlsxwriter.workbook.Worksheet) -> None:
        ws.write_array_formula("G2:G6", "{=C2:C6&\"\"}")

    path = base(tmp_path / "orders.xlsx", formulas)
    table = load_table(path)
    check_patchable(path, table.sheet, table)
    apply_plan(path, plan(), backup=False)
    with zipfile.ZipFile(path) as zf:
        assert b't="array" ref="G2:G6"' in zf.read("xl/worksheets/sheet1.xml")
