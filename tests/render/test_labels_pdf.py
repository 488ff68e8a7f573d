"""Labels as a printer and a depot scanner see them: size, text, barcode, embedded font."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from pddbatch.render import render_labels
from pddbatch.render.code128 import BarcodeError, symbols
from pddbatch.render.labelpage import mask_phone
from pddbatch.render.settings import RenderSettings
from pddbatch.render.sortcode import hub_line
from tests.render.render_factory import NUMBERS, make_order, make_parcel, make_receiver

MM = 72 / 25.4
needs = pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg") and shutil.which("pdftotext")),
                           reason="poppler-utils and zbar-tools are needed")


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def decode_pages(pdf: Path, tmp: Path) -> list[set[str]]:
    """Rasterise at 203 dpi like a thermal printer and decode every page with zbarimg."""
    run("pdftoppm", "-r", "203", "-gray", "-png", str(pdf), str(tmp / "page"))
    out = []
    for png in sorted(tmp.glob("page-*.png")):
        res = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
        out.append(set(res.stdout.split()))
    return out


@pytest.mark.parametrize(("size", "w_mm", "h_mm"), [("76x130", 76, 130), ("100x180", 100, 180)])
def test_page_size_is_exact(size: str, w_mm: int, h_mm: int, settings: RenderSettings, tmp_path: Path) -> None:
    pdf = tmp_path / "labels.pdf"
    n, _ = render_labels([make_parcel(i) for i in range(3)], pdf, replace(settings, label_size=size))
    reader = PdfReader(pdf)
    assert n == len(reader.pages) == 3
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - w_mm * MM) < 0.01
        assert abs(float(box.height) - h_mm * MM) < 0.01


@needs
@pytest.mark.parametrize("size", ["76x130", "100x180"])
def test_every_barcode_scans_to_exactly_the_tracking_number(size: str, settings: RenderSettings,
                                                            tmp_path: Path) -> None:
    parcels = [make_parcel(i, code=code) for i, code in enumerate(NUMBERS)]
    parcels.append(make_parcel(9, code="EMS", tracking_no="EA123456789CN"))
    pdf = tmp_path / "labels.pdf"
    render_labels(parcels, pdf, replace(settings, label_size=size))
    decoded = decode_pages(pdf, tmp_path)
    assert decoded == [{p.tracking_no} for p in parcels]


@needs
def test_text_extracts_with_receiver_and_number(settings: RenderSettings, tmp_path: Path) -> None:
    p = make_parcel(1, code="SF", receiver=make_receiver(1, name="欧阳娜娜"), weight_g=1250,
                    orders=(make_order(1, remark="易碎轻放"), make_order(2, sku="CUP-01", qty=3, product="马克杯",
                                                                      spec="白色")))
    pdf = tmp_path / "labels.pdf"
    render_labels([p], pdf, settings)
    text = run("pdftotext", str(pdf), "-").replace("\n", "")   # wrapped lines joined
    for want in ("欧阳娜娜", "SF1023574470215", "13812345678", "文三路101号", "浙江 杭州 西湖区",
                 "李四", "梦想小镇", "马克杯 白色 ×3", "易碎轻放", "1.25kg", "2026-05-17 14:03", "顺丰"):
        assert want in text, want
    # no routing data: no sorting code and no 集包地, the destination in words instead
    assert "集包地" not in text and not re.search(r"\d{3}-\d{3}-\d{2}", text)


def test_font_is_embedded_subset_with_tounicode(settings: RenderSettings, tmp_path: Path) -> None:
    pdf = tmp_path / "labels.pdf"
    render_labels([make_parcel(0)], pdf, settings)
    fonts = {}
    for page in PdfReader(pdf).pages:
        for name, ref in page["/Resources"]["/Font"].items():
            fonts[name] = ref.get_object()
    assert len(fonts) == 2
    for f in fonts.values():
        assert f["/Subtype"] == "/Type0" and f["/Encoding"] == "/Identity-H" and "/ToUnicode" in f
        desc = f["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in desc
        assert re.fullmatch(r"/[A-Z]{6}\+NotoSansSC-(Regular|Bold)", str(desc["/FontName"]))
        # a subset: far smaller than the 10 MB static instance
        assert len(desc["/FontFile2"].get_object().get_data()) < 1_500_000
    if shutil.which("pdffonts"):
        rows = run("pdffonts", str(pdf)).splitlines()[2:]
        assert rows and all(r.split()[-5:-2] == ["yes", "yes", "yes"] for r in rows)


@needs
def test_masked_phone_and_long_address_shrinks_or_warns(settings: RenderSettings, tmp_path: Path) -> None:
    long_addr = "幸福里小区" * 8 + "东门对面的快递柜"
    huge = "很长" * 200
    ps = [make_parcel(0, receiver=make_receiver(0, address=long_addr)),
          make_parcel(1, receiver=make_receiver(1, address=huge))]
    pdf = tmp_path / "labels.pdf"
    n, warnings = render_labels(ps, pdf, replace(settings, mask_phone=True))
    text = run("pdftotext", str(pdf), "-").replace("\n", "")
    assert "138****5678" in text and "13812345678" not in text
    assert "东门对面的快递柜" in text                       # fits after wrapping/shrinking
    assert len(warnings) == 1 and ps[1].tracking_no in warnings[0] and "recv_addr" in warnings[0]
    assert "…" in text                                      # the truncation is visible on the label


def test_mask_phone_forms() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+8613812345678") == "+86138****5678"
    assert mask_phone("13812345678-1234") == "138****5678-1234"
    assert mask_phone("0571-88886666") == "057******6666"


def test_code128_symbols_and_checksum() -> None:
    # all digits, even length: start C, pairs, check, stop
    assert symbols("73100000000001") == [105, 73, 10, 0, 0, 0, 0, 1, 102, 106]
    # letters then 13 digits: B for "YT1", C for 12 digits
    assert symbols("YT1234567890123")[:5] == [104, 57, 52, 17, 99]
    with pytest.raises(BarcodeError):
        symbols("运单123")


def test_hub_line_names_the_destination_in_words() -> None:
    assert hub_line(make_receiver(0)) == "浙江 杭州 西湖区"
    assert hub_line(make_receiver(0, province="上海市", city="上海市", district="浦东新区")) == "上海 浦东新区"
    assert hub_line(make_receiver(0, province="广西壮族自治区", city="南宁市", district="青秀区")) == "广西 南宁 青秀区"


PRIVACY = [  # (name, phone, address): PDD privacy numbers and their extensions, copied exactly
    ("张三[1234]", "13812345678-1234", "文三路100号【1234】"),
    ("张三【1234】", "13812345678-1234", "文三路100号[5678]"),
    ("欧阳娜娜娜娜娜【123456】", "+8613812345678-123456", "幸福里小区" * 40 + "000号【4321】"),
]


@needs
@pytest.mark.parametrize("size", ["76x130", "100x180"])
def test_privacy_numbers_and_extensions_print_exactly(size: str, settings: RenderSettings, tmp_path: Path) -> None:
    ps = [make_parcel(i, receiver=make_receiver(i, name=n, phone=ph, address=a))
          for i, (n, ph, a) in enumerate(PRIVACY)]
    pdf = tmp_path / "labels.pdf"
    _, warnings = render_labels(ps, pdf, replace(settings, label_size=size))
    for k, (name, phone, addr) in enumerate(PRIVACY, 1):
        text = run("pdftotext", "-f", str(k), "-l", str(k), str(pdf), "-")
        flat = text.replace("\n", "")
        for exact in (name, phone):   # whole, not cut: the field ends where the value ends
            assert re.search(rf"(^|\s){re.escape(exact)}(\s|$)", text, re.M), exact
        tail = re.search(r"[\[【]\d+[\]】]$", addr)
        assert tail is not None
        if k < 3:
            assert addr in flat
        else:   # too long for the box: shortened with … and a warning, the extension kept at the end
            assert flat.count(tail.group(0)) == flat.count("…" + tail.group(0)) >= 1
            assert any("recv_addr" in w for w in warnings)
    masked = tmp_path / "masked.pdf"
    render_labels(ps[:1], masked, replace(settings, label_size=size, mask_phone=True))
    assert re.search(r"(^|\s)138\*{4}5678-1234$", run("pdftotext", str(masked), "-"), re.M)


def test_truncation_keeps_a_trailing_extension(settings: RenderSettings, tmp_path: Path) -> None:
    name = "很长很长的名字" * 4 + "【1234】"
    pdf = tmp_path / "l.pdf"
    _, warnings = render_labels([make_parcel(0, receiver=make_receiver(0, name=name))], pdf, settings)
    text = PdfReader(pdf).pages[0].extract_text()
    assert "…【1234】" in text and any("recv_name" in w for w in warnings)


def test_mixed_carriers_in_one_reprint_file(settings: RenderSettings, tmp_path: Path) -> None:
    pdf = tmp_path / "reprint.pdf"
    render_labels([make_parcel(0, code="ZTO"), make_parcel(1, code="SF")], pdf, settings)
    texts = [p.extract_text() for p in PdfReader(pdf).pages]
    assert "中通" in texts[0] and "顺丰" in texts[1]


@needs
def test_parallel_render_matches_page_order(settings: RenderSettings, tmp_path: Path) -> None:
    n = 3100   # above the single-process threshold: two worker processes
    ps = [make_parcel(i, tracking_no=f"73{i:012d}") for i in range(n)]
    pdf = tmp_path / "labels.pdf"
    pages, _ = render_labels(ps, pdf, replace(settings, workers=2))
    assert pages == n == len(PdfReader(pdf).pages)
    for k in (1, 2500, 2501, n):
        text = run("pdftotext", "-f", str(k), "-l", str(k), str(pdf), "-")
        assert ps[k - 1].tracking_no in text and f"{k}/{n}" in text


def test_missing_glyph_and_overlong_name_are_reported(settings: RenderSettings, tmp_path: Path) -> None:
    p = make_parcel(0, receiver=make_receiver(0, name="买家\U0001F600" + "很长的名字" * 20))
    pdf = tmp_path / "l.pdf"
    _, warnings = render_labels([p], pdf, settings)
    assert any("\U0001F600" in w for w in warnings)
    assert any("recv_name" in w for w in warnings)
    text = PdfReader(pdf).pages[0].extract_text()
    assert "买家" in text and "…" in text
