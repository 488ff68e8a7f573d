"""explain, reprint and process tell one story: voided numbers, merged parcels, rules changed after numbering."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import openpyxl
from pypdf import PdfReader

from pddbatch.ledger import Ledger, ParcelRecord
from pddbatch.pipeline import Options, explain, process, reprint

NOW = datetime(2026, 11, 26, 8, 0)


def _run(book: Path) -> int:
    result = process(book, Options(now=NOW))
    assert result.run_id is not None
    return result.run_id


def _rows(book: Path) -> dict[str, dict[str, object]]:
    wb = openpyxl.load_workbook(book, read_only=True)
    ws = wb[wb.sheetnames[0]]
    it = ws.iter_rows(values_only=True)
    head = [str(h or "").strip() for h in next(it)]
    out = {str(r[head.index("订单号")]).strip(): dict(zip(head, r, strict=False)) for r in it if r[head.index("订单号")]}
    wb.close()
    return out


def _merged(book: Path, run_id: int) -> ParcelRecord:
    with Ledger.open(book.parent / "pddbatch-ledger.sqlite") as ledger:
        return next(p for p in ledger.parcels_for_run(run_id) if len(p.order_sns) == 3)


def _label_text(folder: Path, number: str) -> str:
    for pdf in folder.glob("labels-*.pdf"):
        for page in PdfReader(pdf).pages:
            text = page.extract_text()
            if number in text.replace(" ", ""):
                return text
    raise AssertionError(f"no label for {number}")


def test_voiding_a_merged_parcel_renumbers_every_order_as_one_parcel(orders_xlsx: Path) -> None:
    book = orders_xlsx
    old = _merged(book, _run(book))
    with Ledger.open(book.parent / "pddbatch-ledger.sqlite") as ledger:
        assert len(ledger.void(old.tracking_no)) == 1

    for sn in old.order_sns:         # explain tells what process will do
        story = "\n".join(explain(book, sn, Options(now=NOW)))
        assert f"原单号 {old.tracking_no} 已作废" in story, story
        assert "处理时会分配新单号" in story and "手工发货" not in story, story

    run2 = _run(book)
    rows = _rows(book)
    new_numbers = {str(rows[sn]["快递单号"]) for sn in old.order_sns}
    assert len(new_numbers) == 1 and old.tracking_no not in new_numbers, new_numbers
    new = new_numbers.pop()
    for sn in old.order_sns:
        assert rows[sn]["处理状态"] == "已分配", rows[sn]
        assert f"原单号 {old.tracking_no} 已作废" in str(rows[sn]["处理说明"])
    with Ledger.open(book.parent / "pddbatch-ledger.sqlite") as ledger:
        live = ledger.find_parcels([new])
        assert [set(p.order_sns) for p in live] == [set(old.order_sns)] and live[0].run_id == run2
    label = _label_text(book.parent / "orders.pddbatch", new)
    assert "合并 3 单" in label, label

    for sn in old.order_sns:        # and afterwards explain says where the order stands now
        assert any(f"已分配 ZTO {new}" in line or new in line for line in explain(book, sn, Options(now=NOW)))


def test_explain_tells_the_voided_story_for_a_single_order(orders_xlsx: Path) -> None:
    book = orders_xlsx
    run_id = _run(book)
    with Ledger.open(book.parent / "pddbatch-ledger.sqlite") as ledger:
        single = next(p for p in ledger.parcels_for_run(run_id) if len(p.order_sns) == 1)
        ledger.void(single.tracking_no)
    sn = single.order_sns[0]
    story = explain(book, sn, Options(now=NOW))
    assert any(f"原单号 {single.tracking_no} 已作废" in line for line in story), story
    assert not any("手工发货" in line for line in story), story
    _run(book)
    row = _rows(book)[sn]
    assert row["处理状态"] == "已分配" and row["快递单号"] != single.tracking_no


def test_reprint_uses_the_configured_output_folder(orders_xlsx: Path) -> None:
    book = orders_xlsx
    cfg = book.parent / "pddbatch.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('[output]\n', '[output]\ndir = "labels-out"\n'),
                   encoding="utf-8")
    run_id = _run(book)
    assert (book.parent / "labels-out" / "labels-ZTO.pdf").is_file()
    res = reprint([], run_id=run_id, workbook=book, config_path=cfg, now=NOW)
    assert res.parcels > 0 and res.files
    for f in res.files:
        assert Path(f).parent.parent == book.parent / "labels-out", f
        assert re.fullmatch(r"reprint-\d{8}-\d{6}", Path(f).parent.name)
    assert not (book.parent / "orders.pddbatch").exists()


def test_a_rule_added_after_numbering_keeps_the_number_and_says_to_void(orders_xlsx: Path) -> None:
    book = orders_xlsx
    _run(book)
    before = {sn: r for sn, r in _rows(book).items() if r["处理状态"] == "已分配"}
    sn, row = next(iter(before.items()))
    cfg = book.parent / "pddbatch.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "# first match wins\n",
        f'# first match wins\n[[carriers.rules]]\nname = "先别发"\ncities = ["{row["市"]}"]\nhold = "客户要求暂缓"\n\n'),
        encoding="utf-8")
    result = process(book, Options(now=NOW))
    after = _rows(book)
    assert after[sn]["处理状态"] == "已分配" and after[sn]["快递单号"] == row["快递单号"], after[sn]
    assert f"pddbatch void {row['快递单号']}" in str(after[sn]["处理说明"])
    assert result.allocated_new == 0
    with Ledger.open(book.parent / "pddbatch-ledger.sqlite") as ledger:
        live = ledger.existing_for_orders(list(after))
    shown = {s: str(r["快递单号"]) for s, r in after.items() if r["处理状态"] == "已分配"}
    assert shown == {s: p.tracking_no for s, p in live.items()}     # ledger and workbook agree
    story = explain(book, sn, Options(now=NOW))
    assert any("void" in line for line in story), story
