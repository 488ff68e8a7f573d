"""CSV out as PDD's own exports write it: tracking numbers stay text (a leading tab), the file keeps
the encoding it was read in, and only characters that encoding can hold are written."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from pddbatch.model import OwnedColumn, WritePlan
from pddbatch.workbook.marks import read_record_meta
from pddbatch.workbook.read import read_table
from pddbatch.workbook.save import apply_plan

HEADER = ["订单号", "收货人", "快递公司", "快递单号"]
ORDERS = ["260517-000000000000001", "260517-000000000000002", "260517-000000000000003"]


def pdd_csv(path: Path, encoding: str) -> Path:
    """An export shaped like PDD's: order numbers behind a tab, 快递单号 empty or tab-prefixed."""
    rows = [HEADER, ["\t" + ORDERS[0], "张三", "", ""], ["\t" + ORDERS[1], "李四", "中通快递", "\t731000000000001"],
            ["\t" + ORDERS[2], "王五", "", ""]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    data = out.getvalue()
    path.write_bytes(b"\xef\xbb\xbf" + data.encode("utf-8") if encoding == "utf-8-sig" else data.encode(encoding))
    return path


def plan(meta: dict[str, str] | None = None) -> WritePlan:
    cols = (OwnedColumn("快递公司", 3, False), OwnedColumn("快递单号", 4, False), OwnedColumn("处理状态", 5, True),
            OwnedColumn("处理说明", 6, True))
    values = {(2, 3): "中通快递", (2, 4): "731234567890123", (2, 5): "已分配", (2, 6): None,
              (3, 3): "中通快递", (3, 4): "\t731000000000001", (3, 5): "已分配", (3, 6): None,
              (4, 3): None, (4, 4): None, (4, 5): "暂缓", (4, 6): "⚠ 即将超时 → 请先发；地址含“門”字"}
    return WritePlan("orders", 1, cols, values, {}, None, last_row=4, record_meta=dict(meta or {}))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "gb18030"])
def test_csv_keeps_numbers_as_text_in_its_own_encoding(tmp_path: Path, encoding: str) -> None:
    path = pdd_csv(tmp_path / "orders.csv", encoding)
    if encoding == "gb18030":      # a real GB18030 file: holds a character GBK has not (𠮷, 4 bytes)
        path.write_bytes(path.read_bytes().replace("王五".encode("gbk"), "王𠮷".encode("gb18030")))
    apply_plan(path, plan({"ledger_id": "abc"}), backup=False)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    strict = "utf-8-sig" if encoding == "utf-8-sig" else encoding
    rows = list(csv.reader(io.StringIO(raw.decode(strict), newline="")))   # strict: no undecodable byte
    assert rows[0] == [*HEADER, "处理状态", "处理说明"]
    assert rows[1][:4] == ["\t" + ORDERS[0], "张三", "中通快递", "\t731234567890123"]
    assert rows[2][3] == "\t731000000000001"                # the export's own tab, kept, never quoted away
    assert rows[1][0].startswith("\t") and rows[3][0] == "\t" + ORDERS[2]
    note = rows[3][5]
    if encoding == "gbk":
        assert note == "! 即将超时 → 请先发；地址含“門”字"      # ⚠ is not GBK: substituted
    else:                                                   # UTF-8 and real GB18030 hold every character
        assert note == "⚠ 即将超时 → 请先发；地址含“門”字"
    if encoding == "gb18030":
        assert "王𠮷" in raw.decode("gb18030")                   # the file's own 4-byte character stays
    # pddbatch's own reader strips the tab again
    table = read_table(path, lambda row: "订单号" in [str(v).strip() for v in row if v])
    assert table.rows[0][0] == "\t" + ORDERS[0]
    assert read_record_meta(path) == {"ledger_id": "abc"}
    again = apply_plan(path, plan(), backup=False)
    assert again.backup is None and path.read_bytes() == raw     # a rerun changes nothing
    assert read_record_meta(path) == {"ledger_id": "abc"}


def test_libreoffice_reads_tracking_numbers_as_text(tmp_path: Path) -> None:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice not installed")
    path = pdd_csv(tmp_path / "orders.csv", "utf-8-sig")
    apply_plan(path, plan(), backup=False)
    subprocess.run(["soffice", "--headless", "--infilter=CSV:44,34,76", "--convert-to", "xlsx", "--outdir",
                    str(tmp_path / "lo"), str(path)], check=True, capture_output=True, timeout=180)
    ws = openpyxl.load_workbook(tmp_path / "lo" / "orders.xlsx").active
    tracking = ws["D2"].value
    assert isinstance(tracking, str) and tracking.strip() == "731234567890123"    # not 7.31234567890123E+14
    assert isinstance(ws["A2"].value, str) and ws["A2"].value.strip() == ORDERS[0]
