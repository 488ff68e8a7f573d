"""Lossless write-back into the seller's own .xlsx/.xlsm: open the result with three readers."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from pddbatch.errors import InputError
from pddbatch.model import OwnedColumn, WritePlan
from pddbatch.workbook.marks import note_text
from pddbatch.workbook.save import apply_plan
from tests.writeback.wb_fixtures import VBA_PROJECT, build_rich, plan_for

PATCHED = {"xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/comments1.xml", "xl/drawings/vmlDrawing1.vml",
           "[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
           "xl/worksheets/_rels/sheet1.xml.rels"}


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_untouched_members_identical_and_features_kept(rich_xlsm: Path) -> None:
    before = members(rich_xlsm)
    out = apply_plan(rich_xlsm, plan_for())
    after = members(rich_xlsm)
    assert out.backup and Path(out.backup).read_bytes() and members(Path(out.backup)) == before
    for name, data in before.items():
        if name not in PATCHED:
            assert after[name] == data, name
    assert after["xl/vbaProject.bin"] == VBA_PROJECT
    # and the macros are still readable as macros (oletools' olevba, as Excel would load them)
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(rich_xlsm))
    modules = [name for _f, _s, name, code in parser.extract_macros() if code.strip()]
    assert parser.detect_vba_macros() and modules
    with zipfile.ZipFile(rich_xlsm) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    with zipfile.ZipFile(out.backup) as zf:
        for i in zf.infolist():
            assert infos[i.filename].date_time == i.date_time
            assert infos[i.filename].compress_type == i.compress_type
    sheet = after["xl/worksheets/sheet1.xml"].decode()
    for kept in ("<x14:dataBar", "<x14:iconSet" if "x14:iconSet" in before["xl/worksheets/sheet1.xml"].decode()
                 else "iconSet", "<x14:sparklineGroups", "<dataValidation ", "<hyperlink ", "<pane ",
                 "<autoFilter ", "<drawing ", "<legacyDrawing "):
        assert kept in sheet, kept
    assert 'ref="A1:E21"' in sheet or 'ref="A1:H21"' in sheet
    assert "macroEnabled" in after["[Content_Types].xml"].decode()
    assert "金额合计" in after["xl/workbook.xml"].decode()
    vml = after["xl/drawings/vmlDrawing1.vml"].decode()
    assert "Button" in vml and "pddbatch_demo" in vml          # the form button survives
    # one new note shape (C3); B5 keeps the seller's own shape
    assert before["xl/drawings/vmlDrawing1.vml"].decode().count("<v:shape ") + 1 == vml.count("<v:shape ")


def test_values_marks_and_issues_readable_by_three_readers(rich_xlsx: Path) -> None:
    apply_plan(rich_xlsx, plan_for())
    wb = openpyxl.load_workbook(rich_xlsx)
    ws = wb["订单"]
    assert [ws.cell(1, c).value for c in (7, 8)] == ["处理状态", "处理说明"]
    assert ws.cell(1, 7).font.b                                      # header styled like its neighbour
    assert ws["G2"].value == "校验通过" and ws["H3"].value == "第3行"
    assert ws["C3"].fill.fgColor.rgb == "FFFFC7CE" and ws["C3"].comment.text.startswith("pddbatch:\n手机号")
    assert ws["C3"].comment.author == "pddbatch"
    assert ws["C4"].fill.fgColor.rgb == "FFFF0000" and ws["C4"].comment is None   # the seller's own red
    assert ws["B5"].fill.fgColor.rgb == "FFFFC7CE"                   # marked, and
    assert ws["B5"].comment.text == "卖家自己的批注"                   # the seller's own note stays
    assert ws["E2"].number_format == "0.00" and ws["E2"].value == 10.5
    assert ws["E23"].value == "=SUM(E2:E21)"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:E21"
    assert wb.sheetnames == ["订单", "汇总", "问题清单", "_pddbatch"]      # the mark record, hidden
    assert wb["_pddbatch"].sheet_state == "hidden"
    assert [c.value for c in wb["问题清单"][1]] == ["工作表", "单元格", "行号", "字段", "代码", "说明"]
    assert wb["问题清单"]["B2"].value == "C3"
    ro = openpyxl.load_workbook(rich_xlsx, read_only=True)
    rows = list(ro["订单"].iter_rows(values_only=True))
    assert rows[0][6:8] == ("处理状态", "处理说明") and rows[1][6] == "校验通过"
    cal = CalamineWorkbook.from_path(str(rich_xlsx))
    data = cal.get_sheet_by_name("订单").to_python()
    assert data[0][6:8] == ["处理状态", "处理说明"] and data[2][7] == "第3行"
    assert cal.get_sheet_by_name("问题清单").to_python()[1][1] == "C3"


def cell_xml(sheet: bytes, ref: bytes) -> bytes:
    m = re.search(rb'<c r="' + ref + rb'"[^>]*?(?:/>|>.*?</c>)', sheet, re.S)
    assert m is not None
    return m.group(0)


def test_rerun_is_idempotent_and_fewer_marks_restore_the_cell(rich_xlsx: Path) -> None:
    original_sheet = members(rich_xlsx)["xl/worksheets/sheet1.xml"]
    original_b5 = openpyxl.load_workbook(rich_xlsx)["订单"]["B5"]
    orig_style = (original_b5.fill.fgColor.rgb, original_b5.comment.text, original_b5.comment.author)
    apply_plan(rich_xlsx, plan_for())
    first = rich_xlsx.read_bytes()
    again = apply_plan(rich_xlsx, plan_for(new=False))
    assert again.backup is None and rich_xlsx.read_bytes() == first
    less = apply_plan(rich_xlsx, plan_for(new=False, marks={(3, 3): "手机号应为11位数字"}))
    assert less.marks_cleared == 1 and less.backup
    ws = openpyxl.load_workbook(rich_xlsx)["订单"]
    assert (ws["B5"].fill.fgColor.rgb, ws["B5"].comment.text, ws["B5"].comment.author) == orig_style
    assert ws["C3"].comment.text == note_text("手机号应为11位数字")
    apply_plan(rich_xlsx, plan_for(new=False, marks={}))
    after = members(rich_xlsx)
    ws = openpyxl.load_workbook(rich_xlsx)["订单"]
    assert ws["C3"].fill.fgColor.rgb != "FFFFC7CE" and ws["C3"].comment is None
    assert ws["C4"].fill.fgColor.rgb == "FFFF0000"
    assert b"pddbatch" not in after["xl/comments1.xml"].split(b"<commentList>")[1]
    for ref in (b"C3", b"B5", b"C4"):               # the marked cells are back to their original bytes
        assert cell_xml(after["xl/worksheets/sheet1.xml"], ref) == cell_xml(original_sheet, ref)


def test_stale_owned_values_cleared_and_formula_text_stays_text(rich_xlsx: Path) -> None:
    apply_plan(rich_xlsx, plan_for(status="=HYPERLINK(\"http://x\")"))
    ws = openpyxl.load_workbook(rich_xlsx)["订单"]
    assert ws["G2"].data_type == "s" and ws["G2"].value.startswith("=HYPERLINK")
    assert b"<f>" not in members(rich_xlsx)["xl/worksheets/sheet1.xml"].split(b"<autoFilter")[0].split(
        b'r="G2"')[1][:200]
    apply_plan(rich_xlsx, plan_for(new=False, skip={4, 5}))
    ws = openpyxl.load_workbook(rich_xlsx)["订单"]
    assert ws["G4"].value is None and ws["H5"].value is None and ws["G6"].value == "校验通过"


def test_libreoffice_converts_result(rich_xlsm: Path, tmp_path: Path) -> None:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice not installed")
    apply_plan(rich_xlsm, plan_for())
    out = tmp_path / "lo"
    res = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                          "--convert-to", "csv", "--outdir", str(out), str(rich_xlsm)],
                         capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr
    text = (out / "orders.csv").read_text(encoding="utf-8", errors="replace")
    assert "处理状态" in text or "校验通过" in text or text.count(",") > 20


def test_prefixed_namespace_rows_without_r_and_shared_strings(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    build_rich(path, rows=3)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="' + main + b'" '
             b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             b'<x:dimension ref="A1:C3"/><x:sheetData>'
             b'<x:row><x:c t="s"><x:v>0</x:v></x:c><x:c t="inlineStr"><x:is><x:t>b</x:t></x:is></x:c></x:row>'
             b'<x:row><x:c r="B2"><x:v>2</x:v></x:c><x:c r="A2"><x:v>1</x:v></x:c></x:row>'
             b'<x:row r="4"><x:c><x:v>9</x:v></x:c></x:row>'
             b"</x:sheetData></x:worksheet>")
    parts["xl/worksheets/sheet1.xml"] = sheet
    parts["xl/worksheets/_rels/sheet1.xml.rels"] = (
        b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    plan = WritePlan("订单", 1, (OwnedColumn("状态", 4, True),), {(2, 4): "ok", (3, 4): 5, (4, 4): "x"},
                     marks={(2, 1): "坏"}, last_row=4)
    apply_plan(path, plan)
    ws = openpyxl.load_workbook(path)["订单"]
    assert [ws.cell(r, 4).value for r in (1, 2, 3, 4)] == ["状态", "ok", 5, "x"]
    assert ws["A2"].value == 1 and ws["B2"].value == 2 and ws["A4"].value == 9
    assert ws["A2"].fill.fgColor.rgb == "FFFFC7CE" and ws["A2"].comment.text == note_text("坏")
    ro = list(openpyxl.load_workbook(path, read_only=True)["订单"].iter_rows(values_only=True))
    assert ro[0][3] == "状态" and ro[3][3] == "x"
    xml = members(path)["xl/worksheets/sheet1.xml"]
    assert b"<x:dimension ref=\"A1:D4\"/>" in xml and b'<x:row r="3">' in xml
    assert members(path)["xl/sharedStrings.xml"] == parts["xl/sharedStrings.xml"]


def test_unsafe_files_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "mixed.xlsx"           # Strict main namespace, transitional relationships: no real producer
    build_rich(path, rows=3)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    before = path.read_bytes()
    with pytest.raises(InputError) as err:
        apply_plan(path, plan_for(rows=3))
    assert "订单" in err.value.message       # (whole Strict packages are written back: tests/workbook)
    assert path.read_bytes() == before
    bomb = tmp_path / "bomb.xlsx"
    build_rich(bomb, rows=3)
    with zipfile.ZipFile(bomb) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts["xl/workbook.xml"] = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                                + parts["xl/workbook.xml"].split(b"?>", 1)[1])
    with zipfile.ZipFile(bomb, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with pytest.raises(InputError):
        apply_plan(bomb, plan_for(rows=3))
    assert not list(tmp_path.glob(".~*"))            # no temp files left behind
    assert re.search(r"pddbatch-backup", " ".join(str(p) for p in tmp_path.iterdir())) is None


def test_a_damaged_sheet_stream_is_a_corrupt_workbook_left_untouched(tmp_path: Path) -> None:
    """The sheet is inflated by ISA-L where installed, whose error is not zlib's: still 已损坏, not a traceback."""
    path = tmp_path / "damaged.xlsx"
    build_rich(path, rows=3000)
    with zipfile.ZipFile(path) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("xl/worksheets/") and i.compress_size > 20_000)
    raw = bytearray(path.read_bytes())
    data = info.header_offset + 30 + len(info.filename.encode())
    raw[data:data + 300] = b"\xff" * 300          # block type 3: no deflate stream (a CRC error later on is zipfile's)
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError) as err:
        apply_plan(path, plan_for(rows=3000))
    assert "已损坏" in err.value.message and "原文件未改动" in err.value.message
    assert path.read_bytes() == bytes(raw)


def test_temp_files_of_a_killed_run_are_tidied(tmp_path: Path) -> None:
    import os
    import time

    from pddbatch.workbook.save import atomic_write

    book = tmp_path / "orders[1].xlsx"
    book.write_bytes(b"old")
    stale = tmp_path / ".~orders[1].abc123.pddbatch-tmp"
    fresh = tmp_path / ".~orders[1].def456.pddbatch-tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"someone else's, just now")
    old = time.time() - 3600
    os.utime(stale, (old, old))

    def write(fh):  # type: ignore[no-untyped-def]
        fh.write(b"new")
        return True

    atomic_write(book, write, backup=False)
    assert book.read_bytes() == b"new"
    assert not stale.exists() and fresh.exists()
