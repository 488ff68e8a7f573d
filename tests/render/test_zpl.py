"""ZPL II labels for 203 dpi thermal printers."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from pddbatch.render import render_labels
from pddbatch.render.settings import RenderSettings
from tests.render.render_factory import make_parcel, make_receiver


def test_zpl_content(settings: RenderSettings, tmp_path: Path) -> None:
    ps = [make_parcel(0, code="ZTO"), make_parcel(1, code="YTO", receiver=make_receiver(1, name="王^五~_"))]
    path = tmp_path / "labels.zpl"
    n, _ = render_labels(ps, path, replace(settings, zpl_font="E:SIMSUN.FNT", mask_phone=True))
    labels = path.read_text(encoding="utf-8").strip().split("\n")
    assert n == len(labels) == 2
    for lab, p in zip(labels, ps, strict=True):
        assert lab.startswith("^XA^CI28^PW608^LL1040") and lab.endswith("^XZ")
        assert re.search(rf"\^BY[23]\^BCN,\d+,N,N,N,A\^FH\^FD{p.tracking_no}\^FS", lab)
        assert "^A@N," in lab and ",E:SIMSUN.FNT^FH^FD" in lab
        assert "138****5678" in lab and "13812345678" not in lab
        assert "寄" in lab and "李四" in lab and "集包地：浙江杭州" in lab
    # ZPL control characters from order data are hex-escaped inside ^FH fields
    assert "王_5E五_7E_5F" in labels[1]
    assert labels[1].count("^XA") == 1


def test_zpl_100x180(settings: RenderSettings, tmp_path: Path) -> None:
    path = tmp_path / "l.zpl"
    render_labels([make_parcel(0)], path, replace(settings, label_size="100x180"))
    lab = path.read_text(encoding="utf-8")
    assert "^PW800^LL1440" in lab and lab.count("^BC") == 2 and "签收联" in lab
