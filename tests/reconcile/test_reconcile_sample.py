"""The bundled sample: every planted discrepancy (RECONCILE.md) is found where planted, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl

from pddbatch.reconcile import KINDS, reconcile
from tests.reconcile.reconcile_helpers import SAMPLE, found, make_aftersales

_ROW = re.compile(r"^\| `([a-z-]+)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \|")


def _documented() -> list[tuple[str, tuple[str, ...], str, str]]:
    out = []
    for line in (SAMPLE / "RECONCILE.md").read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            asns = tuple(sorted(x.strip() for x in m.group(2).split(",") if x.strip() not in ("", "—")))
            out.append((m.group(1), asns, m.group(3).strip().strip("—"), m.group(4).strip().strip("—")))
    return out


def test_the_documented_plants_are_exactly_what_is_found(tmp_path: Path) -> None:
    r = reconcile([SAMPLE / "orders.xlsx"], [SAMPLE / "售后-sample.xlsx"], [SAMPLE / "退货登记-sample.xlsx"],
                  out=tmp_path / "r.xlsx")
    doc = _documented()
    assert {k for k, *_ in doc} == set(KINDS)
    assert found(r) == sorted((k, asns) for k, asns, _, _ in doc)
    by_kind = {f.kind: f for f in r.findings}
    for kind, _, order_sn, track in doc:
        if order_sn:
            assert by_kind[kind].order_sn == order_sn, kind
        if track and kind != "ambiguous-match":
            assert by_kind[kind].tracking_no == track, kind
    # the sample order export carries its own planted faults: listed, but none is about after-sales
    assert r.blocking_issues == 0


def test_the_committed_sample_matches_its_generator(tmp_path: Path) -> None:
    g = make_aftersales.generate(SAMPLE / "orders.xlsx", tmp_path)
    for name in ("售后-sample.xlsx", "退货登记-sample.xlsx"):
        ours = [list(r) for r in openpyxl.load_workbook(tmp_path / name).active.iter_rows(values_only=True)]
        committed = [list(r) for r in openpyxl.load_workbook(SAMPLE / name).active.iter_rows(values_only=True)]
        assert ours == committed, f"{name} is stale: run python sample_data/make_aftersales.py"
    assert sorted((p.kind, p.aftersale_sns) for p in g.plants) == sorted((k, a) for k, a, _, _ in _documented())


def test_the_returns_log_template(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(SAMPLE / "returns-log-template.xlsx")
    assert wb.sheetnames == ["退货登记", "填写说明"]
    ws = wb["退货登记"]
    assert [c.value for c in ws[1]] == ["退货快递单号", "收货日期", "订单号", "件数", "状况", "备注"]
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and lists[0].formula1 == '"完好,破损,空包,错货"' and "E2" in lists[0].sqref
    help_text = " ".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert "退货快递单号" in help_text and "完好 / 破损 / 空包 / 错货" in help_text
    # a log filled in on the template reads back as a returns log
    ws.append(["JT0000000000022", "2026-11-08", "261101-000000000000002", 1, "完好"])
    wb.save(tmp_path / "filled.xlsx")
    from pddbatch.reconcile.inputs import read_inputs

    got = read_inputs([], [], [tmp_path / "filled.xlsx"], "buyer_paid")
    assert [(x.tracking_no, x.good, x.source.row) for x in got.returns] == [("JT0000000000022", True, 2)]
