"""`pddbatch process` as the seller runs it on the sample day: numbers, statuses, documents, reruns."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from pddbatch.cli import main
from pddbatch.ledger import Ledger
from tests.support import generator, sample_rows

NOW = "2026-11-26 09:00:00"


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _sheet(path: Path) -> tuple[list[dict[str, object]], dict[str, int]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb["订单列表"]
    rows = list(ws.iter_rows(values_only=True))
    head = {str(h).strip(): i for i, h in enumerate(rows[0]) if h}
    out = [{k: r[i] if i < len(r) else None for k, i in head.items()} for r in rows[1:]]
    wb.close()
    return out, head


def _process(path: Path, *extra: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["process", str(path), "--now", NOW, *extra])
    return res.exit_code, res.output


def test_process_sample_day(orders_xlsx: Path) -> None:
    code, out = _process(orders_xlsx)
    assert code == 1, out                     # the sample has rejected rows
    first = out.splitlines()[0]
    assert first.startswith("共 320 行：已分配 ")
    rows, head = _sheet(orders_xlsx)
    assert {"快递公司", "快递单号", "处理状态", "处理说明"} <= set(head)
    statuses = Counter(r["处理状态"] for r in rows)
    assert set(statuses) == {"已分配", "已拦截", "已跳过", "校验失败", "暂缓", "缺货"}
    assert statuses["校验失败"] == 12
    assert sum(statuses.values()) == 320
    assert f"已分配 {statuses['已分配']}" in first and f"已拦截 {statuses['已拦截']}" in first

    source = sample_rows()
    wb = openpyxl.load_workbook(orders_xlsx, read_only=True)
    stock_left = {r[0]: r[2] for r in list(wb["库存"].iter_rows(values_only=True))[1:]}
    wb.close()
    numbers_by_recipient: dict[str, set[str]] = {}
    assert len(rows) == len(source)
    for r, src in zip(rows, source, strict=True):
        if r["处理状态"] == "已分配":
            assert src is not None and src["订单状态"] == "待发货" and src["售后状态"] == "无售后或售后取消"
            assert r["快递公司"] in ("中通快递", "邮政快递包裹", "顺丰快递")
            if "顺丰" in f"{src['商家备注']}{src['买家留言']}":
                assert r["快递公司"] == "顺丰快递" and "买家要顺丰" in str(r["处理说明"])
            elif "新疆" in str(src["省"]) or "西藏" in str(src["省"]):
                assert r["快递公司"] == "邮政快递包裹" and "偏远地区走邮政" in str(r["处理说明"])
            key = f"{src['收货人']}|{src['手机']}|{src['详细地址']}"
            numbers_by_recipient.setdefault(key, set()).add(str(r["快递单号"]))
        elif r["处理状态"] == "暂缓":
            # the rule looks at the whole parcel: any order to the same person asking for 同城仓
            assert src is not None and not r["快递单号"] and "同城仓" in str(r["处理说明"])
            same = [o for o in source if (o["收货人"], o["手机"]) == (src["收货人"], src["手机"])]
            assert any("同城仓" in o["商家备注"] for o in same)
        elif r["处理状态"] == "缺货":
            assert src is not None and not r["快递单号"]
            assert stock_left[src["商家编码-规格维度"]] < src["商品数量(件)"]
        elif r["处理状态"] == "已拦截":
            assert not r["快递单号"] and "售后" in str(r["处理说明"])
        elif r["处理状态"] == "已跳过" and src and src["快递单号"]:
            assert r["快递单号"] == src["快递单号"]        # a hand-entered number is left as it was
    # one number per recipient (merged parcels), never the same number for two recipients
    assert all(len(v) == 1 for v in numbers_by_recipient.values())
    flat = [next(iter(v)) for v in numbers_by_recipient.values()]
    assert len(flat) == len(set(flat))
    merged = [r for r in rows if "合并为一个包裹" in str(r["处理说明"] or "")]
    assert merged, "the sample has repeat buyers whose orders share a parcel"

    out_dir = orders_xlsx.with_name("orders.pddbatch")
    names = {p.name for p in out_dir.iterdir() if p.is_file()}
    assert {"labels-ZTO.pdf", "labels-SF.pdf", "labels-YZXB.pdf", "manifest.xlsx", "pdd-bulk-ship.xlsx", "picklist.pdf", "summary.json"} <= names
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["allocated"] == statuses["已分配"] and summary["rejected"] == 12

    # PDD's bulk-ship upload: one row per allocated order, the same numbers as in the workbook
    ship = openpyxl.load_workbook(out_dir / "pdd-bulk-ship.xlsx", read_only=True).active
    ship_rows = [r for r in ship.iter_rows(values_only=True)]
    assert ship_rows[0][:3] == ("订单号", "快递公司", "快递单号")
    uploaded = {r[0]: (r[1], r[2]) for r in ship_rows[1:] if r[0] and r[0] != "order_sn"}
    allocated = {r["订单号"]: (r["快递公司"], r["快递单号"]) for r in rows if r["处理状态"] == "已分配"}
    assert uploaded == allocated


def test_rerun_changes_nothing_and_allocates_nothing(orders_xlsx: Path) -> None:
    _process(orders_xlsx)
    rows1, _ = _sheet(orders_xlsx)
    digest = _digest(orders_xlsx)
    ledger = orders_xlsx.with_name("pddbatch-ledger.sqlite")
    used = sqlite3.connect(ledger).execute("select count(*) from numbers where state='used'").fetchone()
    code, out = _process(orders_xlsx)
    assert code == 1
    rows2, _ = _sheet(orders_xlsx)
    assert [(r["订单号"], r["快递单号"], r["处理状态"]) for r in rows1] == \
           [(r["订单号"], r["快递单号"], r["处理状态"]) for r in rows2]
    assert sqlite3.connect(ledger).execute("select count(*) from numbers where state='used'").fetchone() == used
    assert "新分配 0" in out and "没有新包裹" in out
    assert _digest(orders_xlsx) == digest          # nothing to change: the file is not rewritten


def test_void_gives_a_new_number_and_says_so(orders_xlsx: Path) -> None:
    _process(orders_xlsx)
    rows, _ = _sheet(orders_xlsx)
    victim = next(r for r in rows if r["处理状态"] == "已分配" and "合并" not in str(r["处理说明"] or ""))
    res = CliRunner().invoke(main, ["void", str(victim["快递单号"]), "--ledger",
                                    str(orders_xlsx.with_name("pddbatch-ledger.sqlite"))])
    assert res.exit_code == 0, res.output
    _process(orders_xlsx)
    rows2, _ = _sheet(orders_xlsx)
    after = next(r for r in rows2 if r["订单号"] == victim["订单号"])
    assert after["处理状态"] == "已分配" and after["快递单号"] != victim["快递单号"]
    assert f"原单号 {victim['快递单号']} 已作废" in str(after["处理说明"])
    everything = [r["快递单号"] for r in rows2 if r["处理状态"] == "已分配"]
    assert victim["快递单号"] not in everything


def test_pool_exhausted_rows_say_how_many_are_missing(shop: Path) -> None:
    (shop / "demo-pool-ZTO.txt").write_text("# carrier: ZTO\n" + "".join(f"7319{i:010d}\n" for i in range(1, 21)),
                                            encoding="utf-8")
    code, out = _process(shop / "orders.xlsx")
    assert code == 1
    assert "中通快递单号不足：还差" in out
    rows, _ = _sheet(shop / "orders.xlsx")
    short = [r for r in rows if r["处理状态"] == "单号不足"]
    assert short and all(not r["快递单号"] for r in short)
    assert sum(1 for r in rows if r["快递公司"] == "中通快递" and r["处理状态"] == "已分配") >= 20
    with Ledger.open(shop / "pddbatch-ledger.sqlite") as ledger:
        assert ledger.check_integrity() == []


def test_no_config_stops_before_touching_anything(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    generator.write_xlsx(sample_rows(20, faults=False), path)
    before = _digest(path)
    code, out = _process(path)
    assert code == 2 and "pddbatch init" in out
    assert _digest(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["orders.xlsx"]


def test_workbook_open_in_excel_is_reported(orders_xlsx: Path) -> None:
    owner = orders_xlsx.with_name("~$orders.xlsx")
    owner.write_bytes(b"\x00" * 165)
    before = _digest(orders_xlsx)
    code, out = _process(orders_xlsx)
    assert code == 2 and "Excel" in out
    assert _digest(orders_xlsx) == before


def test_dry_run_allocates_and_writes_nothing(orders_xlsx: Path) -> None:
    before = _digest(orders_xlsx)
    code, out = _process(orders_xlsx, "--dry-run", "--json")
    data = json.loads(out)
    assert data["dry_run"] is True and data["rejected"] == 12
    assert _digest(orders_xlsx) == before
    assert not orders_xlsx.with_name("orders.pddbatch").exists()


def test_reprint_from_the_ledger_allocates_nothing(orders_xlsx: Path, tmp_path: Path) -> None:
    import subprocess

    _process(orders_xlsx)
    rows, _ = _sheet(orders_xlsx)
    target = next(r for r in rows if r["处理状态"] == "已分配" and r["快递公司"] == "中通快递")
    ledger_path = orders_xlsx.with_name("pddbatch-ledger.sqlite")
    used = sqlite3.connect(ledger_path).execute("select count(*) from numbers where state='used'").fetchone()
    out = tmp_path / "again"
    res = CliRunner().invoke(main, ["reprint", str(target["订单号"]), str(target["快递单号"]), "NOT-A-NUMBER",
                                    "--config", str(orders_xlsx.with_name("pddbatch.toml")), "--out", str(out),
                                    "--no-zpl"])
    assert res.exit_code == 1, res.output            # one key unknown: said, and exit 1
    assert res.output.splitlines()[0] == "已补打 1 张面单："
    assert "台账中没有：NOT-A-NUMBER" in res.output
    pdf = out / "labels-ZTO.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert str(target["快递单号"]) in text
    with Ledger.open(ledger_path) as ledger:
        rec = ledger.find_parcels([str(target["快递单号"])])[0]
        assert ledger.reprint_count(rec.id) == 1
    assert sqlite3.connect(ledger_path).execute("select count(*) from numbers where state='used'").fetchone() == used


def test_a_big_day_uses_both_cores_and_everything_adds_up(tmp_path: Path) -> None:
    """6,000 orders: the write-back runs beside the labels (forked), label pages come from two workers."""
    import shutil
    import subprocess

    from pypdf import PdfReader

    from pddbatch.pipeline import batch as pipeline
    from pddbatch.render.labels import PARALLEL_MIN
    from tests.support import SAMPLE

    rows_in = list(generator.iter_orders(6000, seed=11))
    book = tmp_path / "big.xlsx"
    generator.write_xlsx(rows_in, book)
    for name in ("pddbatch.toml", "demo-pool-YZXB.txt", "demo-pool-SF.txt"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    (tmp_path / "demo-pool-ZTO.txt").write_text("".join(f"7319{i:010d}\n" for i in range(1, 6001)), encoding="utf-8")
    for code, start in (("YZXB", "9810000000001"), ("SF", "SF1900000000001")):
        subprocess.run(["pddbatch", "pool", "add", "--carrier", code, "--start", start, "--count", "1500",
                        "--ledger", str(tmp_path / "pddbatch-ledger.sqlite")], check=True, capture_output=True)
    code, out = _process(book, "--json")
    summary = json.loads(out)
    assert summary["short"] == 0 and summary["rejected"] == 0
    assert summary["rows"] >= pipeline.PARALLEL_ROWS and summary["parcels"] >= PARALLEL_MIN
    rows, _ = _sheet(book)
    allocated = [r for r in rows if r["处理状态"] == "已分配"]
    assert len(allocated) == summary["allocated"]
    numbers = {r["快递单号"] for r in allocated}
    assert len(numbers) == summary["parcels"]
    out_dir = tmp_path / "big.pddbatch"
    pages = sum(len(PdfReader(p).pages) for p in out_dir.glob("labels-*.pdf"))
    assert pages == summary["parcels"]
    ship = openpyxl.load_workbook(out_dir / "pdd-bulk-ship.xlsx", read_only=True).active
    shipped = {r[0]: r[2] for r in ship.iter_rows(min_row=2, values_only=True) if r[0] and r[0] != "order_sn"}
    assert shipped == {r["订单号"]: r["快递单号"] for r in allocated}
    manifest = openpyxl.load_workbook(out_dir / "manifest.xlsx", read_only=True)
    listed = {str(r[1]) for ws in manifest.worksheets if ws.title != "拣货单"
              for r in ws.iter_rows(values_only=True) if r and isinstance(r[0], int)}
    assert listed == numbers
