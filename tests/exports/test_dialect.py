"""An export in another header dialect, saved by LibreOffice, through `pddbatch process` end to end.

The file is built with openpyxl and saved again by real LibreOffice (`soffice --convert-to xlsx`):
older headers, `街道` as the only address column, leading spaces, masked and virtual-number rows.
The labels are read back (pypdf and pdftotext): the right address on each, no `*` anywhere.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from pddbatch.cli import main
from tests.exports.dialect import NOW, ROWS, write_openpyxl
from tests.support import SAMPLE, soffice_convert

needs = pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                           reason="LibreOffice and poppler-utils are needed")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Run:
    book: Path
    out: Path
    output: str
    exit_code: int
    sheet: dict[str, dict[str, object]]     # 订单号 -> the row after the write-back


def _read_sheet(path: Path) -> dict[str, dict[str, object]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb["订单列表"].iter_rows(values_only=True))
    wb.close()
    head = [str(h).strip() if h else "" for h in rows[0]]
    return {str(r[head.index("订单号")]): dict(zip(head, r, strict=False)) for r in rows[1:]}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    if not (shutil.which("soffice") and shutil.which("pdftotext")):
        pytest.skip("LibreOffice and poppler-utils are needed")
    made = tmp_path_factory.mktemp("made")
    shop = tmp_path_factory.mktemp("shop")
    saved = soffice_convert(write_openpyxl(made / "订单明细-旧版.xlsx"), shop, fmt="xlsx")
    assert saved.parent == shop
    for name in ("pddbatch.toml", "demo-pool-ZTO.txt", "demo-pool-YZXB.txt", "demo-pool-SF.txt"):
        shutil.copy(SAMPLE / name, shop / name)
    res = CliRunner().invoke(main, ["process", str(saved), "--now", NOW, "--no-zpl"])
    return Run(saved, saved.with_name(saved.stem + ".pddbatch"), res.output, res.exit_code, _read_sheet(saved))


def _flat(text: str) -> str:
    return _SPACE.sub("", text)


@needs
def test_the_file_really_went_through_libreoffice(run: Run) -> None:
    import zipfile

    with zipfile.ZipFile(run.book) as z:
        app = z.read("docProps/app.xml").decode()
    assert "LibreOffice" in app


@needs
def test_every_row_gets_its_status_and_only_shippable_rows_a_number(run: Run) -> None:
    assert run.exit_code == 1, run.output             # the impossible date is a rejected row
    assert {sn: r["处理状态"] for sn, r in run.sheet.items()} == {r.sn: r.expect for r in ROWS}
    for r in ROWS:
        row = run.sheet[r.sn]
        if r.expect == "已分配":
            assert row["快递公司"] == "中通快递" and str(row["快递单号"]).startswith("731")
            continue
        assert row["快递单号"] in (None, ""), r.sn      # no number for a row that doesn't ship
        message = str(row["处理说明"])
        if r.expect == "待补全":
            assert message.startswith(f"{r.masked}是打码的隐私信息") and "发货管理-订单查询" in message
        elif r.expect == "门店自提":
            assert "是否门店自提" in message
        elif r.expect == "审核中":
            assert "是否审核中" in message
        elif r.expect == "校验失败":
            assert "不是真实存在的日期" in message and "2026-02-30 12:00:00" in message
    # the two masked rows that look alike are not one parcel (not even one held group); 孙八's two are
    numbers = {r.sn: run.sheet[r.sn]["快递单号"] for r in ROWS if r.expect == "已分配"}
    assert numbers[ROWS[8].sn] == numbers[ROWS[9].sn]
    assert len(set(numbers.values())) == len(numbers) - 1
    assert "待补全 3 单" in run.output and "门店自提 1 单" in run.output and "审核中 1 单" in run.output


@needs
def test_labels_carry_exactly_the_composed_address_and_no_masked_value(run: Run) -> None:
    pdf = run.out / "labels-ZTO.pdf"
    pages = [_flat(p.extract_text()) for p in PdfReader(pdf).pages]
    poppler = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert len(pages) == 5                           # 6 orders, 孙八's two merged
    assert "*" not in poppler and "＊" not in poppler and not any("*" in p for p in pages)
    for r in ROWS:
        if r.expect != "已分配":
            assert r.sn not in poppler
            continue
        number = str(run.sheet[r.sn]["快递单号"])
        page = next(p for p in pages if number in p)
        # name, phone (with extension) and the address from 街道, copied exactly
        assert r.name in page and r.phone in page and r.address in page, (r.sn, page)
    by_number = [p for p in _flat(poppler).split("中通快递ZTO") if p]
    assert any("李四【5678】" in p and "13987654321-5678" in p for p in by_number)
    assert any("张三[1234]" in p and "13812345678-1234" in p for p in by_number)


@needs
def test_manifest_slips_and_bulk_ship_file_agree_with_the_labels(run: Run) -> None:
    shipped = {r.sn: str(run.sheet[r.sn]["快递单号"]) for r in ROWS if r.expect == "已分配"}
    wb = openpyxl.load_workbook(run.out / "pdd-bulk-ship.xlsx", read_only=True)
    bulk = [tuple(row) for row in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    assert bulk[0] == ("订单号", "快递公司", "快递单号")
    assert sorted(bulk[1:]) == sorted((sn, "中通快递", n) for sn, n in shipped.items())
    wb = openpyxl.load_workbook(run.out / "manifest.xlsx", read_only=True)
    manifest = " ".join(str(c) for row in wb["中通快递"].iter_rows(values_only=True) for c in row if c)
    wb.close()
    assert all(n in manifest for n in shipped.values()) and "*" not in manifest
    slips = _flat(subprocess.run(["pdftotext", str(run.out / "packing-slips.pdf"), "-"], capture_output=True,
                                 text=True, check=True).stdout)
    assert "*" not in slips
    for r in ROWS:
        if r.expect == "已分配":
            assert f"{r.name}{r.address}" in slips     # the same composed address as the label


@needs
def test_a_reprint_never_prints_a_value_masked_since(run: Run) -> None:
    first = ROWS[0]
    number = str(run.sheet[first.sn]["快递单号"])
    copy = run.book.with_name("再导出.xlsx")
    wb = openpyxl.load_workbook(run.book)
    ws = wb["订单列表"]
    head = [str(c.value).strip() if c.value else "" for c in ws[1]]
    ws.cell(row=2, column=head.index("收货人") + 1, value="张*")
    wb.save(copy)
    res = CliRunner().invoke(main, ["reprint", number, "--workbook", str(copy), "--config",
                                    str(run.book.with_name("pddbatch.toml")), "--out", str(copy.parent / "again")])
    assert res.exit_code != 0 and "不能补打" in res.output and "收货人" in res.output, res.output
    assert not (copy.parent / "again" / "labels-ZTO.pdf").exists()
