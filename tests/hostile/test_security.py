"""Security checks: sandboxed templates, no formulas from data, personal data masked in messages and ledger."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pddbatch.cli import main
from pddbatch.errors import TemplateError
from pddbatch.render.layout import FieldTemplate, load_layout
from pddbatch.resources import template_path
from tests.support import SAMPLE, generator, sample_rows

ESCAPES = ["{{ ''.__class__.__mro__[1].__subclasses__() }}",
           "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
           "{{ ''.__class__.__base__.__subclasses__()[0].__init__.__globals__ }}"]


def _templates(obj: Any) -> list[FieldTemplate]:
    found: list[FieldTemplate] = []
    if isinstance(obj, FieldTemplate):
        return [obj]
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            found += _templates(getattr(obj, f.name))
    elif isinstance(obj, tuple | list):
        for x in obj:
            found += _templates(x)
    return found


@pytest.mark.parametrize("payload", ESCAPES)
def test_seller_template_cannot_escape_the_sandbox(tmp_path: Path, payload: str) -> None:
    doc = json.loads(template_path("label-76x130.json").read_text(encoding="utf-8"))
    text = json.dumps(doc, ensure_ascii=False)
    first = next(s for s in json.loads(text, object_hook=lambda d: d).get("fields", []) if "{" in json.dumps(s))
    key = next(k for k, v in first.items() if isinstance(v, str) and "{{" in v)
    first[key] = payload
    doc["fields"] = [first if f == next(x for x in doc["fields"] if "{" in json.dumps(x)) else f
                     for f in doc["fields"]]
    (tmp_path / "label-76x130.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    try:
        layout = load_layout("76x130", tmp_path)
    except TemplateError:
        return                     # refused at compile time: fine
    evil = [t for t in _templates(layout) if t.source == payload]
    assert evil, "the tampered field was not loaded"
    with pytest.raises(TemplateError):
        evil[0].render({"cycler": None})


def _shop(tmp_path: Path) -> Path:
    rows = sample_rows()
    generator.write_xlsx(rows, tmp_path / "orders.xlsx")
    for f in [SAMPLE / "pddbatch.toml", *SAMPLE.glob("demo-pool-*.txt")]:
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / "orders.xlsx"


def test_personal_data_is_masked_in_messages_and_ledger(tmp_path: Path) -> None:
    path = _shop(tmp_path)
    rows = sample_rows()
    res = CliRunner().invoke(main, ["process", str(path), "--json", "--now", "2026-11-26 08:00:00"])
    assert res.exit_code == 1, res.output
    phones = {str(r["手机"]).split("-")[0] for r in rows if len(str(r["手机"]).split("-")[0]) >= 11}
    addresses = {r["详细地址"] for r in rows if len(str(r["详细地址"])) > 8}
    # the ledger's run summaries carry counts and notes, never a phone or an address
    with sqlite3.connect(tmp_path / "pddbatch-ledger.sqlite") as conn:
        summaries = " ".join(s for (s,) in conn.execute("SELECT summary FROM runs"))
    assert not [p for p in phones if p in summaries]
    assert not [a for a in addresses if a in summaries]
    # issue messages (terminal JSON) name the row and field; a phone shows masked
    report = json.loads(res.stdout)
    text = json.dumps(report.get("issues", report), ensure_ascii=False)
    leaked = [p for p in phones if p in text]
    assert not leaked, leaked[:3]


def test_written_workbook_has_no_formulas(tmp_path: Path) -> None:
    """Formula-looking text in every text column stays text in every workbook pddbatch writes."""
    from tests.hostile import runner
    from tests.hostile.corpus import FORMULA_TEXTS, base_rows, grid, package, sheet

    free_text = ["商品", "商品规格", "商家编码-规格维度", "商家编码-商品维度", "商家备注", "买家留言", "收货人", "街道"]
    rows = base_rows(12)
    for i, r in enumerate(rows):
        for h in free_text:
            r[h] = FORMULA_TEXTS[i % len(FORMULA_TEXTS)]
    path = tmp_path / "orders.xlsx"
    package([sheet(grid(rows))]).write(path)
    for f in [SAMPLE / "pddbatch.toml", *SAMPLE.glob("demo-pool-*.txt")]:
        shutil.copy(f, tmp_path / f.name)
    res = CliRunner().invoke(main, ["process", str(path)])
    assert res.exit_code in (0, 1), res.output
    written = [p for p in tmp_path.rglob("*.xlsx") if "pddbatch-backup" not in p.parts]
    assert path in written and len(written) >= 2
    for p in written:
        assert not runner.formula_cells(p), p
