"""三段码 and 集包地 on labels come only from real data: the seller's routing table or the export."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from pddbatch.config import load_config
from pddbatch.errors import ConfigError
from pddbatch.render import render_labels
from pddbatch.render.settings import RenderSettings
from pddbatch.routing import load_routing_table
from tests.render.render_factory import make_order, make_parcel, make_receiver

needs = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is needed")

TABLE = """省,市,区,三段码,集包地
浙江省,杭州市,西湖区,300-W01 00,杭州转运中心
浙江,杭州,,300-W00 00,杭州转运中心
广东省,深圳市,南山区,755-K12 08,深圳集包
"""
CODE = re.compile(r"(?<![\d-])\d{3}-[A-Z0-9]{3}(?: \d{2})?(?!\d)")


def write_table(tmp: Path, text: str = TABLE, name: str = "routing-ZTO.csv", encoding: str = "gbk") -> Path:
    path = tmp / name
    path.write_bytes(text.encode(encoding))
    return path


def pages(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


@needs
def test_labels_carry_only_codes_from_the_table(settings: RenderSettings, tmp_path: Path) -> None:
    table = load_routing_table(write_table(tmp_path), "ZTO")
    ps = [make_parcel(0),                                                             # district row
          make_parcel(1, receiver=make_receiver(1, district="拱墅区")),                # city-wide row
          make_parcel(2, receiver=make_receiver(2, province="广东省", city="深圳市", district="南山区")),
          make_parcel(3, receiver=make_receiver(3, province="四川省", city="成都市", district="武侯区")),
          make_parcel(4, code="SF", receiver=make_receiver(4))]                       # no SF table
    pdf = tmp_path / "labels.pdf"
    _, warnings = render_labels(ps, pdf, replace(settings, routing={"ZTO": table}))
    texts = pages(pdf)
    printed = [set(CODE.findall(t)) for t in texts]
    assert printed == [{"300-W01 00"}, {"300-W00 00"}, {"755-K12 08"}, set(), set()]
    assert set().union(*printed) <= table.codes()
    assert "集包地：杭州转运中心" in texts[0] and "集包地：深圳集包" in texts[2]
    for t in texts[3:]:      # no data: the destination in words, no 集包地
        assert "集包地" not in t
    assert "四川 成都 武侯区" in texts[3] and "浙江 杭州 西湖区" in texts[4]
    assert any("ZTO" in w and "四川 成都 武侯区" in w and "分拣码表" in w for w in warnings)


@needs
def test_export_column_code_is_printed_for_its_carrier_only(settings: RenderSettings, tmp_path: Path) -> None:
    r = make_receiver(0)
    own = make_order(0, receiver=r)
    ps = [make_parcel(0, orders=(replace(own, sort_code="311-A02 07", pack_hub="杭州中心"),)),
          make_parcel(1, orders=(replace(own, sort_code="999-X99 99", carrier_name="顺丰速运"),)),
          make_parcel(2, orders=(replace(own, sort_code="311-A02 07"), replace(own, order_sn="x", sort_code="311-B")))]
    pdf = tmp_path / "labels.pdf"
    _, warnings = render_labels(ps, pdf, settings)
    texts = pages(pdf)
    assert "311-A02 07" in texts[0] and "集包地：杭州中心" in texts[0]
    assert "999-X99" not in texts[1] and "311-" not in texts[2]
    assert any("另一家快递" in w for w in warnings) and any("不一致" in w for w in warnings)


def test_table_problems_are_config_errors_naming_the_row(tmp_path: Path) -> None:
    bad = TABLE + "浙江省,杭州市,西湖区,301-X00 00,杭州转运中心\n,杭州市,余杭区,302-A,\n江苏省,南京市,玄武区,,\n"
    with pytest.raises(ConfigError) as ei:
        load_routing_table(write_table(tmp_path, bad), "ZTO")
    msg = ei.value.message
    assert "routing-ZTO.csv" in msg and "第 5 行" in msg and "第 6 行" in msg and "第 7 行没有三段码" in msg
    with pytest.raises(ConfigError, match="三段码"):
        load_routing_table(write_table(tmp_path, "省,市,区\n浙江,杭州,西湖区\n"), "ZTO")


def test_table_headers_by_alias_and_xlsx(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["省份", "城市", "区县", "分拣码", "集包中心"])
    ws.append(["上海市", "上海市", "浦东新区", "200-P01", "上海集包"])
    path = tmp_path / "routing-YTO.xlsx"
    wb.save(path)
    table = load_routing_table(path, "YTO")
    route = table.route(make_receiver(0, province="上海", city="上海市", district="浦东新区"))
    assert route is not None and (route.sort_code, route.pack_hub) == ("200-P01", "上海集包")
    assert table.route(make_receiver(0)) is None


def test_config_labels_routing_is_loaded_and_checked(tmp_path: Path) -> None:
    write_table(tmp_path)
    cfg = tmp_path / "pddbatch.toml"
    cfg.write_text('[sender]\nname = "店"\nphone = "13800000000"\naddress = "浙江省杭州市西湖区文三路1号"\n'
                   '[carriers]\ndefault = "ZTO"\n[labels.routing]\nZTO = "routing-ZTO.csv"\n', encoding="utf-8")
    config = load_config(cfg)
    assert set(config.routing) == {"ZTO"}
    assert config.routing["ZTO"].route(make_receiver(0)) is not None
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("routing-ZTO.csv", "missing.csv"), encoding="utf-8")
    with pytest.raises(ConfigError, match="missing.csv"):
        load_config(cfg)


def test_export_headers_map_to_order_fields() -> None:
    from pddbatch.validate import make_order
    from pddbatch.workbook.headers import alias_table, norm_header

    lookup = alias_table().lookup
    assert lookup[norm_header("三段码")] == lookup[norm_header("大头笔")] == "sort_code"
    assert lookup[norm_header("集包地")] == "pack_hub"
    order = make_order(2, {"order_sn": "260517-600000000000001", "sort_code": "300-W01 00", "pack_hub": "杭州中心"})
    assert (order.sort_code, order.pack_hub) == ("300-W01 00", "杭州中心")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_big_file_says_each_finding_once_with_the_whole_files_count(settings: RenderSettings, tmp_path: Path,
                                                                      workers: int) -> None:
    """A file drawn in runs of 2,500 labels (in this process or in two workers) reports what routing and
    the font missed once for the file — not once per run with that run's count."""
    from pddbatch.render.labels import render_label_files

    table = load_routing_table(write_table(tmp_path), "ZTO")
    places = [("四川省", "成都市", "武侯区"), ("湖南省", "长沙市", "雨花区"), ("河北省", "石家庄市", "长安区")]
    ps = []
    for i in range(6000):            # runs 0-2499 and 2500-4999 lack one place each; all three in the last
        prov, city, dist = places[0] if i < 2500 else places[1] if i < 5000 else places[i % 3]
        name = "王\U0001F600" if i == 10 else "李\U0001F601" if i == 4000 else f"张{i % 7}"
        ps.append(make_parcel(i, tracking_no=f"73{i:012d}",
                              receiver=make_receiver(i, name=name, province=prov, city=city, district=dist)))
    _, warnings = render_label_files(ps, replace(settings, routing={"ZTO": table}, workers=workers),
                                     pdf=tmp_path / "l.pdf")
    unrouted = [w for w in warnings if "分拣码表" in w]
    assert len(unrouted) == 1 and unrouted[0].startswith("ZTO：3 个目的地"), warnings
    glyphs = [w for w in warnings if "字体中没有这些字" in w]
    assert len(glyphs) == 1 and "\U0001F600" in glyphs[0] and "\U0001F601" in glyphs[0], warnings
