"""The streamed xlsx writer reads back as the text it was given; the table-PDF fast paths as the plain ones."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from pddbatch.model import Parcel
from pddbatch.render.labels_pdf import content, fonts
from pddbatch.render.tables import PickRow, text
from pddbatch.render.tables_pdf import Column, Section, layout_sections, write_tables_pdf
from pddbatch.render.workbooks import _sheet_name, write_bulk_ship_xlsx, write_manifest_xlsx
from tests.render.render_factory import make_order, make_parcel, make_receiver

HOSTILE = ["=1+1", "+8613812345678", "-5", "@SUM(A1)", "http://evil.example", "a&b<c>d\"e'",
           " lead", "trail ", "\tTab", "line\nbreak", "ctl\x00\x01\x1f", "_x0041_ literal", "non\ufffechar\uffff",
           "0012", "1e5", "TRUE", "", "中文 、；", "😀 emoji", "x" * 300, "长" * 16383 + "😀" * 8200,
           "y" * 40000]
# Control chars and U+FFFE are stored as _xHHHH_ escapes as Excel stores them; openpyxl does not undo
# the escapes (calamine does), so openpyxl read-back equality is checked on the other strings.
ESCAPED = {"ctl\x00\x01\x1f", "_x0041_ literal", "non\ufffechar\uffff"}


def _hostile_parcels() -> list[Parcel]:
    out = []
    for i, s in enumerate(HOSTILE):
        r = make_receiver(i, city=s or "杭州市")
        o = make_order(i, receiver=r, sku=s, product=s or "P", spec=s)
        out.append(make_parcel(i, code="SF" if i % 3 else "ZTO", tracking_no=s or "T", receiver=r,
                               orders=(o, make_order(100 + i, receiver=r)), weight_g=i * 7 if i % 2 else None))
    return out


def _excel_cell(s: str) -> str:
    """What a reader gets back for `s`: Excel's 32,767 UTF-16 units, U+FFFE/U+FFFF (not XML) as escapes."""
    n, out = 0, []
    for ch in s:
        n += 2 if ord(ch) > 0xFFFF else 1
        if n > 32767:
            break
        out.append(ch)
    return "".join(out).replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def test_bulk_ship_reads_back_as_text_in_pdds_columns(tmp_path: Path) -> None:
    ps = [make_parcel(i, tracking_no=s, orders=(make_order(i),)) for i, s in enumerate(HOSTILE)]
    path = tmp_path / "bulk.xlsx"
    assert write_bulk_ship_xlsx(path, ps) == len(HOSTILE)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Sheet1").to_python()
    assert rows[0] == ["订单号", "快递公司", "快递单号"]
    assert [r[0] for r in rows[1:]] == [p.orders[0].order_sn for p in ps]
    assert {r[1] for r in rows[1:]} == {"中通快递"}
    assert [r[2] for r in rows[1:]] == [_excel_cell(s) for s in HOSTILE]     # formulas, numbers stay text
    ws = openpyxl.load_workbook(path)["Sheet1"]
    assert {c.data_type for row in ws.iter_rows() for c in row} == {"s"}
    assert [round(ws.column_dimensions[c].width, 2) for c in "ABC"] == [26.71, 14.71, 22.71]


def test_hostile_text_reads_back_as_the_same_text(tmp_path: Path) -> None:
    ps = _hostile_parcels()
    by: dict[str, list[Parcel]] = {}
    for p in ps:
        by.setdefault(p.carrier.code, []).append(p)
    picks = [PickRow(s, s, s, i, i + 1) for i, s in enumerate(HOSTILE)]
    path = tmp_path / "manifest.xlsx"
    assert write_manifest_xlsx(path, by, picks, "zh", "2026-05-17 14:03") == {"ZTO": 8, "SF": 14}
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["中通快递", "顺丰快递", "拣货单"]
    sf = list(wb["顺丰快递"].iter_rows(values_only=True))
    sf_parcels = by["SF"]
    got = [(r[1], p.tracking_no) for r, p in zip(sf[3:], sf_parcels, strict=False) if p.tracking_no not in ESCAPED and len(p.tracking_no) < 1000]
    assert len(got) == 11 and all(a == b for a, b in got)
    assert sf[3 + len(sf_parcels)][:2] == ("合计", f"{len(sf_parcels)} 包裹")
    assert sf[3 + len(sf_parcels)][5] == sum(p.weight_g or 0 for p in sf_parcels)
    assert [r[0] for r in sf[-4:]] == ["交接人：", "快递员：", "时间：", "签字："]
    pick = list(wb["拣货单"].iter_rows(values_only=True))
    assert [r[1] for r, s in zip(pick[1:-3], HOSTILE[:-2], strict=True) if s not in ESCAPED] == \
        [s for s in HOSTILE[:-2] if s not in ESCAPED]
    assert pick[-1] == ("合计", None, None, None, sum(range(len(HOSTILE))), sum(range(1, len(HOSTILE) + 1)))
    cells = [c for row in wb["拣货单"].iter_rows(min_row=2, max_row=len(HOSTILE) + 1) for c in row]
    assert {c.data_type for c in cells if c.column in (2, 3, 4) and c.value is not None} == {"s"}
    assert {c.data_type for c in cells if c.column in (1, 5, 6)} == {"n"}
    assert wb["顺丰快递"]["A3"].font.b and wb["顺丰快递"]["A3"].fill.fgColor.rgb == "FFDDEBF7"
    assert wb["顺丰快递"]["A3"].border.left.style == "thin" and not wb["顺丰快递"]["B4"].font.b
    assert round(wb["顺丰快递"].column_dimensions["C"].width, 2) == 48.71
    cal = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("拣货单").to_python()
    assert [r[2] for r in cal[1:-1]][:6] == HOSTILE[:6]
    assert [r[2] for r, s in zip(cal[1:-1], HOSTILE[:-2], strict=False) if s not in ESCAPED] == \
        [s for s in HOSTILE[:-2] if s not in ESCAPED]
    assert cal[-3][2] == "长" * 16383 + "😀" * 8192 and cal[-2][2] == "y" * 32767    # Excel's cell limit
    assert [r[0] for r in cal[1:-1]] == [float(i) for i in range(1, len(HOSTILE) + 1)]


def test_sheet_names_are_cleaned_and_unique() -> None:
    used: set[str] = set()
    assert [_sheet_name(n, used) for n in ("a/b", "A/B", "x" * 40, "")] == ["a_b", "A_B_2", "x" * 31, "Sheet"]


def test_table_layout_fast_paths_match_plain_content() -> None:
    fs = fonts()
    cols = (Column("序号", 12, "right"), Column("说明", 30), Column("件数", 16, "center"))
    long = "很长的商品名称需要换行显示才能放得下" * 3
    rows = [(str(i), long if i % 4 == 0 else f"行{i % 3}\n第二行" if i % 5 == 0 else f"城市{i % 3}", str(i % 7))
            for i in range(200)]
    pages = layout_sections([Section("标题", cols, rows, info=("info",), footer=("签字：",), bold_last_row=True)],
                            fs, "第 {i} / {n} 页")
    assert len(pages) > 1
    texts = [op[5] for ops in pages for op in ops if op[0] == "T"]
    assert "很长的商品名称需要换行显示才能放得下很长的商品名" not in texts    # wrapped, not overflowing
    assert texts.count("第二行") == sum("\n" in r[1] for r in rows) == 30
    assert texts.count("行0") == sum(r[1].startswith("行0") for r in rows) == 10
    fresh = fonts()
    streams = [content(ops, 841.89, [f.hex for f in fresh]) for ops in pages]
    assert all(b"> Tj" in s for s in streams)
    # every drawn char is recorded for the subset, and nothing only measured
    drawn = {op[5] for ops in pages for op in ops if op[0] == "T"}
    assert fresh[0].used | fresh[1].used == set("".join(drawn))


def test_glyph_hex_is_the_glyph_id_of_each_char() -> None:
    f = fonts()[0]
    m = f.metrics
    for s in ("", "中通快递 ZTO", "收件人：张三【1234】", "😀\uffff", "中通快递 ZTO"):
        assert f.hex(s) == "".join(f"{m.cmap.get(ord(c), 0):04X}" for c in s)
    assert "😀" in f.used and "\uffff" in f.no_glyph


def test_english_manifest_sheet_names_and_headers(tmp_path: Path) -> None:
    ps = [make_parcel(i) for i in range(3)]
    path = tmp_path / "m.xlsx"
    write_manifest_xlsx(path, {"ZTO": ps}, [], "en", "now")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["中通快递", "Pick list"]
    assert list(next(wb["Pick list"].iter_rows(values_only=True))) == list(text("en")["pick_cols"])
    assert wb["中通快递"]["A1"].value == "中通快递 Handover manifest"


def test_a_stop_mid_sheet_leaves_no_file_and_nothing_to_complain_when_collected(tmp_path: Path) -> None:
    """A stop arriving while a sheet is streamed: no output file, no temp file left, and the abandoned
    zip does not raise "open writing handle" from __del__ (Python 3.13 printed it after 已中断)."""
    import gc
    import sys

    from pddbatch.render.atomic import atomic_path
    from pddbatch.render.workbooks import StreamedBook, row_xml, str_cell

    def rows() -> Iterator[str]:
        for r in range(1, 10_000):
            if r == 5000:
                raise KeyboardInterrupt
            yield row_xml(r, [str_cell(f"A{r}", "x" * 50)])

    complaints: list[object] = []
    before = sys.unraisablehook
    sys.unraisablehook = complaints.append
    try:
        out = tmp_path / "m.xlsx"
        try:
            with atomic_path(out) as tmp, StreamedBook(tmp) as book:
                book.sheet("S", [(1, 1, 10)], 10_000, "A", rows())
        except KeyboardInterrupt:
            pass
        del book
        gc.collect()
    finally:
        sys.unraisablehook = before
    assert complaints == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is needed")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_streamed_table_pages_say_page_i_of_n(tmp_path: Path, lang: str) -> None:
    """Pages are written as they are laid out, before the count is known; every page still reads
    "第 i / n 页" / "Page i / n" (n drawn by one form written last), as pdftotext sees it."""
    cols = (Column("序号", 12, "right"), Column("说明", 60))
    sections = [Section(f"装箱单 {k}", cols, [(str(i), f"商品{i}") for i in range(30)]) for k in range(7)]
    path = tmp_path / "t.pdf"
    n = write_tables_pdf(path, iter(sections), "t", lang)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")[:-1]
    assert n == len(pages) == 7
    for i, page in enumerate(pages, start=1):
        want = f"第 {i} / 7 页" if lang == "zh" else f"Page {i} / 7"
        assert want.replace(" ", "") in page.replace(" ", ""), page[-200:]     # (-layout may drop spaces)
        assert f"装箱单 {i - 1}" in page


def test_a_runs_workbooks_are_dated_by_its_print_time_so_rewriting_them_gives_the_same_bytes(tmp_path: Path) -> None:
    """Manifest and bulk-ship file carry the run's print time (document properties and every zip part),
    not the moment of writing: the pooled and one-process runs wrote different bytes across a second."""
    import time
    import zipfile
    from datetime import datetime, timedelta, timezone

    when = datetime(2026, 11, 11, 9, 5, 7, 123456)         # China wall-clock time, as a run's print time is
    ps = [make_parcel(i) for i in range(40)]
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_manifest_xlsx(first, {"ZTO": ps}, [], "zh", "2026-11-11 09:05", when)
    write_bulk_ship_xlsx(tmp_path / "bulk-a.xlsx", ps, when)
    time.sleep(2.1)          # past a DOS-time tick (2 s) and a second of the properties' clock
    write_manifest_xlsx(second, {"ZTO": ps}, [], "zh", "2026-11-11 09:05", when)
    write_bulk_ship_xlsx(tmp_path / "bulk-b.xlsx", ps, when)
    assert first.read_bytes() == second.read_bytes()
    assert (tmp_path / "bulk-a.xlsx").read_bytes() == (tmp_path / "bulk-b.xlsx").read_bytes()
    with zipfile.ZipFile(first) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 11, 11, 9, 5, 6)}     # DOS time: even seconds
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    props = openpyxl.load_workbook(first).properties
    assert props.created == props.modified == datetime(2026, 11, 11, 1, 5, 7)      # UTC, as Excel stores it
    same = tmp_path / "aware.xlsx"                                                  # the same instant, aware
    write_bulk_ship_xlsx(same, ps, datetime(2026, 11, 11, 2, 5, 7, tzinfo=timezone(timedelta(hours=1))))
    assert same.read_bytes() == (tmp_path / "bulk-a.xlsx").read_bytes()
