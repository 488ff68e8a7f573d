"""The hand-over folder: manifest, pick list, packing slips and PDD bulk-ship file, read back for real."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from pddbatch.errors import PddBatchError
from pddbatch.model import Parcel
from pddbatch.render import CountMismatchError, RenderError, check_counts, sort_parcels, write_documents
from pddbatch.render.settings import RenderSettings
from tests.render.render_factory import make_order, make_parcel, make_receiver

EVIL_NAME = '=HYPERLINK("http://evil.example","点我")'


def day(n_yto: int = 5) -> list[Parcel]:
    r = make_receiver(1, name=EVIL_NAME, phone="+8613812345678", city="深圳市", province="广东省", district="南山区")
    merged = make_parcel(1, code="SF", receiver=r, weight_g=800,
                         orders=(make_order(1, receiver=r, sku="CUP-01", qty=2, product="马克杯", spec="白色"),
                                 make_order(2, receiver=r, sku="TS-RED-L", qty=1, remark="+86 请电话")))
    ps = [make_parcel(0, code="ZTO", weight_g=300), merged]
    ps += [make_parcel(10 + i, code="YTO", tracking_no=f"YT{10 + i:013d}",
                       orders=(make_order(10 + i, sku=f"B-{i % 2}", qty=1 + i),)) for i in range(n_yto)]
    return ps


def sheet_xml(path: Path, sheet_no: int) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{sheet_no}.xml").decode("utf-8")


def test_write_documents_produces_the_handover_folder(settings: RenderSettings, tmp_path: Path) -> None:
    s = replace(settings, zpl=True, packing_slips=True)
    ds = write_documents(day(), tmp_path, s)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["labels-ZTO.pdf", "labels-SF.pdf", "labels-YTO.pdf", "labels-ZTO.zpl", "labels-SF.zpl",
                            "labels-YTO.zpl", "manifest.xlsx", "manifest-ZTO.pdf", "manifest-SF.pdf",
                            "manifest-YTO.pdf", "picklist.pdf", "packing-slips.pdf", "pdd-bulk-ship.xlsx"])
    assert {f.path.name for f in ds.files} == set(names)      # no temp files left, every file listed
    assert ds.label_counts == ds.manifest_counts == {"SF": 1, "ZTO": 1, "YTO": 5}
    assert len(PdfReader(tmp_path / "labels-YTO.pdf").pages) == 5
    assert len(PdfReader(tmp_path / "packing-slips.pdf").pages) == 7


def test_manifest_reads_back_with_openpyxl_and_calamine(settings: RenderSettings, tmp_path: Path) -> None:
    write_documents(day(), tmp_path, settings)
    path = tmp_path / "manifest.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[-1] == "拣货单" and "顺丰快递" in wb.sheetnames
    sf = [list(r) for r in wb["顺丰快递"].iter_rows(values_only=True)]
    assert sf[2] == ["序号", "快递单号", "订单号", "收件城市", "件数", "重量(g)"]
    assert sf[3] == [1, "SF1023574470215", "260517-600000000000001、260517-600000000000002", "深圳", 3, 800]
    assert sf[4][:2] == ["合计", "1 包裹"] and sf[4][4] == 3
    assert [r[0] for r in sf[6:10]] == ["交接人：", "快递员：", "时间：", "签字："]
    cal = CalamineWorkbook.from_path(str(path))
    yto = cal.get_sheet_by_name("圆通快递").to_python()
    assert [r[1] for r in yto[3:8]] == [f"YT{10 + i:013d}" for i in (0, 2, 4, 1, 3)]   # by SKU, then key
    picks = cal.get_sheet_by_name("拣货单").to_python()
    assert [r[1] for r in picks[1:-1]] == ["B-0", "B-1", "CUP-01", "TS-RED-L"]     # shelf (SKU) order
    assert [int(r[4]) for r in picks[1:-1]] == [1 + 3 + 5, 2 + 4, 2, 2]
    assert [int(r[5]) for r in picks[1:-1]] == [3, 2, 1, 2]


def test_bulk_ship_has_one_row_per_order_with_pdd_names(settings: RenderSettings, tmp_path: Path) -> None:
    write_documents(day(), tmp_path, settings)
    rows = CalamineWorkbook.from_path(str(tmp_path / "pdd-bulk-ship.xlsx")).get_sheet_by_index(0).to_python()
    assert rows[0] == ["订单号", "快递公司", "快递单号"]
    body = {r[0]: (r[1], r[2]) for r in rows[1:]}
    assert len(rows) == 1 + 8
    assert body["260517-600000000000001"] == body["260517-600000000000002"] == ("顺丰快递", "SF1023574470215")
    assert body["260517-600000000000000"] == ("中通快递", "73100000000001")
    ws = openpyxl.load_workbook(tmp_path / "pdd-bulk-ship.xlsx").active
    assert all(c.data_type == "s" for row in ws.iter_rows(min_row=2) for c in row)   # numbers stay text


def test_formula_looking_text_stays_text(settings: RenderSettings, tmp_path: Path) -> None:
    r = make_receiver(3, city="=1+1")
    ps = [make_parcel(3, code="ZTO", receiver=r, orders=(make_order(3, receiver=r, sku="=SUM(A1:A9)",
                                                                    product="+86 13812345678", spec="-1"),))]
    write_documents(ps, tmp_path, settings)
    for name in ("manifest.xlsx", "pdd-bulk-ship.xlsx"):
        with zipfile.ZipFile(tmp_path / name) as z:
            for member in z.namelist():
                if member.startswith("xl/worksheets/"):
                    assert "<f>" not in z.read(member).decode("utf-8")
    xml = sheet_xml(tmp_path / "manifest.xlsx", 1)
    assert 't="s"' in xml or 't="inlineStr"' in xml
    wb = openpyxl.load_workbook(tmp_path / "manifest.xlsx")
    assert wb["中通快递"]["D4"].value == "=1+1" and wb["中通快递"]["D4"].data_type == "s"
    assert wb["拣货单"]["B2"].value == "=SUM(A1:A9)" and wb["拣货单"]["C2"].value == "+86 13812345678"


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils needed")
def test_printable_manifest_and_picklist(settings: RenderSettings, tmp_path: Path) -> None:
    write_documents(day(60), tmp_path, settings)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "manifest-YTO.pdf"), "-"],
                          check=True, capture_output=True, text=True).stdout
    assert "圆通快递 交接清单" in text and "YT0000000000069" in text and "60 包裹" in text
    for h in ("交接人", "快递员", "时间", "签字"):
        assert h in text
    assert len(PdfReader(tmp_path / "manifest-YTO.pdf").pages) == 2      # continued with header repeated
    pick = subprocess.run(["pdftotext", "-layout", str(tmp_path / "picklist.pdf"), "-"],
                          check=True, capture_output=True, text=True).stdout
    assert pick.index("B-0") < pick.index("B-1") < pick.index("CUP-01") < pick.index("TS-RED-L")


def test_sort_by_deadline_orders_labels_and_manifest(settings: RenderSettings, tmp_path: Path) -> None:
    from datetime import datetime
    late, early = make_parcel(0, tracking_no="73100000000009"), make_parcel(1, tracking_no="73100000000008")
    early = replace(early, promised_ship_at=datetime(2026, 5, 18))
    write_documents([late, early], tmp_path, replace(settings, sort_by="deadline"))
    first = PdfReader(tmp_path / "labels-ZTO.pdf").pages[0].extract_text()
    assert "73100000000008" in first
    rows = CalamineWorkbook.from_path(str(tmp_path / "manifest.xlsx")).get_sheet_by_index(0).to_python()
    assert [r[1] for r in rows[3:5]] == ["73100000000008", "73100000000009"]


def test_count_mismatch_is_fatal() -> None:
    check_counts({"ZTO": 3}, {"ZTO": 3})
    with pytest.raises(CountMismatchError) as ei:
        check_counts({"ZTO": 3}, {"ZTO": 2})
    assert isinstance(ei.value, PddBatchError) and "面单" in ei.value.message


def test_parcel_without_tracking_number_is_fatal(settings: RenderSettings, tmp_path: Path) -> None:
    with pytest.raises(RenderError):
        write_documents([make_parcel(0, tracking_no="")], tmp_path, settings)
    assert not list(tmp_path.iterdir())


def test_english_documents(settings: RenderSettings, tmp_path: Path) -> None:
    write_documents(day(1), tmp_path, replace(settings, lang="en"))
    wb = openpyxl.load_workbook(tmp_path / "manifest.xlsx")
    assert wb["中通快递"]["B3"].value == "Tracking no." and "Pick list" in wb.sheetnames
    rows = CalamineWorkbook.from_path(str(tmp_path / "pdd-bulk-ship.xlsx")).get_sheet_by_index(0).to_python()
    assert rows[0] == ["订单号", "快递公司", "快递单号"]          # PDD's upload headers never translate


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils needed")
def test_packing_slips_draw_the_shared_header_once_and_show_it_on_every_page(settings: RenderSettings,
                                                                            tmp_path: Path) -> None:
    ps = day(12)
    write_documents(ps, tmp_path, replace(settings, packing_slips=True))
    pdf = tmp_path / "packing-slips.pdf"
    reader = PdfReader(pdf)
    forms = reader.pages[0]["/Resources"]["/XObject"]
    assert sorted(forms) == ["/Fh0", "/Fn"]      # one header form for every slip, and the page count
    assert all(p["/Resources"]["/XObject"] == forms for p in reader.pages)
    for k, p in enumerate(sort_parcels(ps, settings.sort_by), start=1):   # one page per slip here
        page = subprocess.run(["pdftotext", "-layout", "-f", str(k), "-l", str(k), str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        lines = page.splitlines()
        head = next(i for i, ln in enumerate(lines) if "订单号" in ln)
        assert lines[head].split() == ["订单号", "商品", "规格", "商家编码", "数量"]
        assert any(p.tracking_no in ln for ln in lines[:head])      # info above the header
        assert any(p.orders[0].order_sn in ln for ln in lines[head + 1:])   # rows below it
