"""Layouts are data: a seller's own custom area works; a broken template names its file and line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from pddbatch.errors import TemplateError
from pddbatch.render import render_labels
from pddbatch.render.layout import load_layout
from pddbatch.render.settings import RenderSettings
from pddbatch.resources import template_path
from tests.render.render_factory import make_order, make_parcel


def seller_dir(tmp_path: Path, custom: str | None = None, layout_edit: dict[str, str] | None = None) -> Path:
    d = tmp_path / "layouts"
    d.mkdir()
    if custom is not None:
        (d / "label-custom.j2").write_text(custom, encoding="utf-8")
    if layout_edit is not None:
        raw = template_path("label-76x130.json").read_text(encoding="utf-8")
        for old, new in layout_edit.items():
            assert old in raw
            raw = raw.replace(old, new)
        (d / "label-76x130.json").write_text(raw, encoding="utf-8")
    return d


def test_shipped_layouts_validate() -> None:
    for size in ("76x130", "100x180"):
        lay = load_layout(size)
        assert {f.id for f in lay.fields} >= {"barcode", "sort_code", "recv_addr", "custom"}


def test_seller_changes_custom_area_without_code(settings: RenderSettings, tmp_path: Path) -> None:
    d = seller_dir(tmp_path, "{% for it in items %}拣:{{ it.sku }}={{ it.qty }} {% endfor %}单{{ order_sns|length }}")
    pdf = tmp_path / "l.pdf"
    render_labels([make_parcel(0, orders=(make_order(0, sku="A-1", qty=2),))], pdf, replace(settings, layout_dir=d))
    assert "拣:A-1=2 单1" in PdfReader(pdf).pages[0].extract_text()


def test_sku_short_names_from_settings(settings: RenderSettings, tmp_path: Path) -> None:
    pdf = tmp_path / "l.pdf"
    render_labels([make_parcel(0)], pdf, replace(settings, sku_names={"TS-RED-L": "红T大"}))
    assert "红T大 ×1" in PdfReader(pdf).pages[0].extract_text()


def test_syntax_error_in_custom_template_names_file_and_line(settings: RenderSettings, tmp_path: Path) -> None:
    d = seller_dir(tmp_path, "第一行\n第二行\n{{ items | no_such_filter }}\n第四行\n")
    with pytest.raises(TemplateError) as ei:
        render_labels([make_parcel(0)], tmp_path / "l.pdf", replace(settings, layout_dir=d))
    msg = ei.value.message_en
    assert "label-custom.j2" in msg and "line 3" in msg and "no_such_filter" in msg, msg
    assert "label-custom.j2" in ei.value.message and "第 3 行" in ei.value.message


def test_undefined_variable_in_layout_field_names_json_line(settings: RenderSettings, tmp_path: Path) -> None:
    d = seller_dir(tmp_path, layout_edit={"{% if pack_hub %}": "{% if pakc_hub %}"})
    raw = (d / "label-76x130.json").read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(raw, start=1) if "pakc_hub" in t)
    with pytest.raises(TemplateError) as ei:
        render_labels([make_parcel(0)], tmp_path / "l.pdf", replace(settings, layout_dir=d))
    assert "label-76x130.json" in ei.value.message_en and f"line {line}" in ei.value.message_en
    assert "pakc_hub" in ei.value.message_en


def test_static_field_using_parcel_data_is_an_error(settings: RenderSettings, tmp_path: Path) -> None:
    d = seller_dir(tmp_path, layout_edit={'"text": "{{ shop_name }}"': '"text": "{{ tracking_no }}"'})
    with pytest.raises(TemplateError, match="label-76x130.json"):
        render_labels([make_parcel(0)], tmp_path / "l.pdf", replace(settings, layout_dir=d))


def test_schema_violation_is_reported(settings: RenderSettings, tmp_path: Path) -> None:
    d = seller_dir(tmp_path, layout_edit={'"kind": "barcode"': '"kind": "qrcode"'})
    with pytest.raises(TemplateError) as ei:
        load_layout("76x130", d)
    assert "label-76x130.json" in ei.value.message_en and "fields/" in ei.value.message_en


def test_bad_json_is_reported_with_line(tmp_path: Path) -> None:
    d = tmp_path / "layouts"
    d.mkdir()
    (d / "label-76x130.json").write_text('{\n  "name": "x",\n  oops\n}', encoding="utf-8")
    with pytest.raises(TemplateError, match="第 3 行"):
        load_layout("76x130", d)


def test_sandbox_blocks_unsafe_attribute(settings: RenderSettings, tmp_path: Path) -> None:
    d = seller_dir(tmp_path, "{{ items.__class__.__mro__ }}")
    with pytest.raises(TemplateError, match="label-custom.j2"):
        render_labels([make_parcel(0)], tmp_path / "l.pdf", replace(settings, layout_dir=d))


def test_label_schema_is_draft_2020_12() -> None:
    schema = json.loads((Path(__file__).parents[2] / "schemas" / "label.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_combined_template_renders_what_jinja_renders(tmp_path: Path) -> None:
    """The label's one-template render (globals merged once) gives Jinja's own render, globals included."""
    from pddbatch.render.layout import SEP, FieldTemplate, combined

    sources = ["{{ receiver.name }}", "{% for i in range(2) %}{{ i }}{% endfor %}{{ dict(a=1)['a'] }}",
               "{{ items | map(attribute='name') | join('、') }}", "{% if remark %}备注：{{ remark }}{% endif %}",
               "|{{ seq }}/{{ total }}"]
    both = combined([FieldTemplate("t", 1, s, None) for s in sources])
    assert both is not None
    for k in range(3):
        ctx = {"receiver": {"name": f"王{k}"}, "items": [{"name": "T恤"}, {"name": f"袜{k}"}],
               "remark": "加急" if k else "", "seq": k, "total": 3}
        out = both.render(ctx)
        assert out == both.template.render(ctx)
        assert out.split(SEP)[1] == "011" and out.split(SEP)[4] == f"|{k}/3"
