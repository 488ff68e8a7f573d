"""CSV write-back, the workbook lock with real processes, and a save that fails half-way."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pddbatch.errors import WorkbookBusyError
from pddbatch.model import IssuesSheet, OwnedColumn, WritePlan
from pddbatch.workbook.locks import workbook_lock
from pddbatch.workbook.save import apply_plan
from tests.writeback.wb_fixtures import build_rich, plan_for

ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def csv_plan(new: bool = True) -> WritePlan:
    cols = (OwnedColumn("处理状态", 4, new), OwnedColumn("处理说明", 5, new))
    values = {(2, 4): "校验通过", (3, 4): "校验失败", (3, 5): "=HYPERLINK(\"x\")", (4, 4): "-1+2", (4, 5): 7}
    issues = IssuesSheet("问题清单", ("工作表", "单元格", "行号", "字段", "代码", "说明"),
                         (("orders", "C3", 3, "手机", "bad-phone", "@SUM(1)"),))
    return WritePlan("orders", 1, cols, values, {(3, 3): "x"}, issues, last_row=4)


@pytest.mark.parametrize(("encoding", "bom", "delim"), [("utf-8", True, ","), ("gb18030", False, ";")])
def test_csv_round_trip(tmp_path: Path, encoding: str, bom: bool, delim: str) -> None:
    path = tmp_path / "orders.csv"
    lines = [["订单号", "收货人", "手机"], ["260517-000000000000001", "张三", "13812345678"],
             ["260517-000000000000002", "李四，王五", "1381234"], ["260517-000000000000003", "郭海莉[9964]", "x"]]
    text = "\r\n".join(delim.join(f'"{c}"' if delim in c or "，" in c else c for c in row) for row in lines) + "\r\n"
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    path.write_bytes(raw)
    out = apply_plan(path, csv_plan())
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") == bom
    body = data[3:] if bom else data
    got = body.decode(encoding).split("\r\n")
    assert got[0] == delim.join(["订单号", "收货人", "手机", "处理状态", "处理说明"])
    assert got[1].endswith(f"{delim}校验通过{delim}")
    assert "'=HYPERLINK" in got[2] and f"{delim}'-1+2{delim}7" in got[3]
    assert "郭海莉[9964]" in got[3] and "李四，王五" in got[2]
    assert out.backup and Path(out.backup).read_bytes() == raw
    side = Path(out.sidecars[0])
    assert side.name == "orders.问题清单.csv" and side.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "'@SUM(1)" in side.read_text(encoding="utf-8-sig")
    again = apply_plan(path, csv_plan(new=False))
    assert again.backup is None and path.read_bytes() == data


def test_excel_owner_file_refuses(tmp_path: Path) -> None:
    book = build_rich(tmp_path / "orders.xlsx", rows=3)
    (tmp_path / "~$orders.xlsx").write_bytes(b"owner")
    with pytest.raises(WorkbookBusyError) as err, workbook_lock(book):
        pass
    assert "Excel" in err.value.message and "~$orders.xlsx" in err.value.message


HOLDER = textwrap.dedent("""
    import sys, time
    from pddbatch.workbook.locks import workbook_lock
    with workbook_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_second_process_is_refused_then_waits(tmp_path: Path) -> None:
    book = build_rich(tmp_path / "orders.xlsx", rows=3)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(book), "30"], stdout=subprocess.PIPE, env=ENV)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        t0 = time.monotonic()
        with pytest.raises(WorkbookBusyError) as err, workbook_lock(book, wait_seconds=0.3):
            pass
        assert time.monotonic() - t0 >= 0.3 and "pddbatch" in err.value.message
    finally:
        holder.kill()
        holder.wait()
    with workbook_lock(book, wait_seconds=2):                # the lock died with its holder
        pass
    short = subprocess.Popen([sys.executable, "-c", HOLDER, str(book), "0.5"], stdout=subprocess.PIPE, env=ENV)
    assert short.stdout is not None and short.stdout.readline().strip() == b"locked"
    with workbook_lock(book, wait_seconds=10):                # waits for the holder to finish
        assert short.poll() is not None or short.wait(5) == 0
    short.wait()
    assert not (tmp_path / ".orders.xlsx.pddbatch.lock").exists()


FULL_DISK = textwrap.dedent("""
    import resource, signal, sys
    sys.path.insert(0, sys.argv[2])
    from pathlib import Path
    from tests.writeback.wb_fixtures import plan_for
    from pddbatch.errors import SaveError
    from pddbatch.workbook.save import apply_plan
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
    try:
        apply_plan(Path(sys.argv[1]), plan_for(rows=300))
    except SaveError as exc:
        print(exc.message_en)
        sys.exit(3)
""")


def test_disk_full_leaves_original_intact(tmp_path: Path) -> None:
    book = build_rich(tmp_path / "orders.xlsx", rows=300)
    before = book.read_bytes()
    res = subprocess.run([sys.executable, "-c", FULL_DISK, str(book), str(Path(__file__).parents[2])],
                         capture_output=True, env=ENV, timeout=120)
    assert res.returncode == 3, res.stderr.decode()
    assert b"original is unchanged" in res.stdout
    assert book.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.xlsx"]


def test_backups_are_pruned(tmp_path: Path) -> None:
    book = build_rich(tmp_path / "orders.xlsx", rows=3)
    for i in range(8):
        apply_plan(book, plan_for(rows=3, status=f"第{i}次", new=i == 0))
    assert len(list((tmp_path / "pddbatch-backup").iterdir())) == 5
