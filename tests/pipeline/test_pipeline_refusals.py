"""Refused before any number is taken: a different or empty ledger, an unwritable workbook or folder,
names too long; a workbook reached through a symlink is written where it lives."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pddbatch.ledger import Ledger

NOW = "2026-11-26 08:00"
EXE = [sys.executable, "-c", "from pddbatch.cli import run; run()"]


def cli(book: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PDDBATCH_LANG": "zh"}
    env.pop("PDDBATCH_DEBUG", None)
    return subprocess.run([*EXE, "process", str(book), "--now", NOW, *args], cwd=book.parent, capture_output=True,
                          text=True, env=env, timeout=300)


def used_numbers(ledger: Path) -> int:
    if not ledger.exists() or ledger.stat().st_size == 0:
        return 0
    with sqlite3.connect(ledger) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'numbers'").fetchone():
            return 0
        return int(conn.execute("SELECT count(*) FROM numbers WHERE state = 'used'").fetchone()[0])


def refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    text = proc.stdout + proc.stderr
    assert proc.returncode == 2, text
    assert "Traceback" not in text and "内部错误" not in text, text
    for w in words:
        assert w in text, text


@pytest.mark.parametrize("how", ["deleted", "zero_bytes", "other_ledger"])
def test_a_replaced_ledger_is_refused_before_allocating(orders_xlsx: Path, how: str) -> None:
    book = orders_xlsx
    ledger = book.parent / "pddbatch-ledger.sqlite"
    first = cli(book)
    assert first.returncode in (0, 1), first.stderr
    (book.parent / "orders.pddbatch" / "ledger-id.txt").is_file()
    shown = book.read_bytes()
    for p in book.parent.glob("pddbatch-ledger.sqlite*"):
        p.unlink()
    if how == "zero_bytes":
        ledger.write_bytes(b"")
    elif how == "other_ledger":
        with Ledger.open(ledger):
            pass
    proc = cli(book)
    # a 0-byte file the ledger itself refuses; a new or other ledger the identity check refuses
    refused(proc, "台账", "空" if how == "zero_bytes" else "没有分配任何单号")
    assert used_numbers(ledger) == 0
    assert book.read_bytes() == shown


def test_an_empty_ledger_with_numbered_rows_but_no_records_is_refused(orders_xlsx: Path) -> None:
    """Outputs gone and the mark record too (an editor dropped the hidden sheet): the rows' own 已分配
    numbers are the evidence."""
    import shutil

    import openpyxl

    book = orders_xlsx
    assert cli(book).returncode in (0, 1)
    for p in book.parent.glob("pddbatch-ledger.sqlite*"):
        p.unlink()
    shutil.rmtree(book.parent / "orders.pddbatch")
    wb = openpyxl.load_workbook(book)
    del wb["_pddbatch"]
    wb.save(book)
    refused(cli(book), "是空的", "没有分配任何单号")
    assert used_numbers(book.parent / "pddbatch-ledger.sqlite") == 0


def test_the_workbook_record_names_its_ledger(orders_xlsx: Path) -> None:
    """Outputs gone, ledger replaced: the workbook's own mark record still knows which ledger it was."""
    import shutil

    book = orders_xlsx
    assert cli(book).returncode in (0, 1)
    for p in book.parent.glob("pddbatch-ledger.sqlite*"):
        p.unlink()
    shutil.rmtree(book.parent / "orders.pddbatch")
    refused(cli(book), "来自另一个台账", "没有分配任何单号")
    assert used_numbers(book.parent / "pddbatch-ledger.sqlite") == 0


def test_a_read_only_workbook_is_refused_before_allocating(orders_xlsx: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes through read-only permissions; the check is os.access, as for a seller")
    book = orders_xlsx
    book.chmod(0o444)
    refused(cli(book), "只读", "没有分配任何单号")
    assert used_numbers(book.parent / "pddbatch-ledger.sqlite") == 0


def test_read_only_check_via_access(orders_xlsx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same refusal in-process where the tests run as root (os.access is the OS's own answer elsewhere)."""
    from datetime import datetime

    from pddbatch.errors import InputError
    from pddbatch.pipeline import Options, process

    book = orders_xlsx
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == book and mode == os.W_OK
                        else real_access(p, mode, **kw))
    with pytest.raises(InputError, match="只读"):
        process(book, Options(now=datetime(2026, 11, 26, 8)))
    assert used_numbers(book.parent / "pddbatch-ledger.sqlite") == 0


def test_output_location_that_is_a_file_is_refused_before_allocating(orders_xlsx: Path) -> None:
    book = orders_xlsx
    (book.parent / "blocker").write_text("not a folder", encoding="utf-8")
    refused(cli(book, "--out", str(book.parent / "blocker" / "labels")), "不是文件夹", "没有分配任何单号")
    assert used_numbers(book.parent / "pddbatch-ledger.sqlite") == 0


def test_a_name_too_long_for_its_backup_is_refused_before_allocating(orders_xlsx: Path) -> None:
    book = orders_xlsx
    long = book.with_name("订" * 78 + ".xlsx")   # 234-byte stem: its lock fits in 255 bytes, its backup would not
    book.rename(long)
    refused(cli(long), "文件名太长", "没有分配任何单号")
    assert used_numbers(book.parent / "pddbatch-ledger.sqlite") == 0


def test_an_unpatchable_workbook_is_refused_before_allocating(orders_xlsx: Path) -> None:
    """No styles part: the patcher would refuse at the end; now it is refused first."""
    import zipfile

    book = orders_xlsx
    broken = book.with_name("broken.xlsx")
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                text = data.decode()
                import re

                text = re.sub(r'<Relationship [^>]*Type="[^"]*/styles"[^>]*/>', "", text)
                data = text.encode()
            if info.filename != "xl/styles.xml":
                zout.writestr(info, data)
    proc = cli(broken)
    refused(proc, "样式")
    assert used_numbers(book.parent / "pddbatch-ledger.sqlite") == 0


@pytest.mark.parametrize("relative", [True, False])
def test_a_workbook_through_a_symlink_is_written_where_it_lives(orders_xlsx: Path, relative: bool) -> None:
    book = orders_xlsx
    elsewhere = book.parent / "desk"
    elsewhere.mkdir()
    link = elsewhere / "today.xlsx"
    link.symlink_to(os.path.relpath(book, elsewhere) if relative else book)
    for name in ("pddbatch.toml", "demo-pool-ZTO.txt", "demo-pool-YZXB.txt", "demo-pool-SF.txt"):
        (elsewhere / name).write_bytes((book.parent / name).read_bytes())
    old = book.read_bytes()
    proc = cli(link)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert link.is_symlink() and link.resolve() == book.resolve()
    assert book.read_bytes() != old                       # the real file got the numbers
    backups = list((book.parent / "pddbatch-backup").iterdir())
    assert len(backups) == 1 and not backups[0].is_symlink() and backups[0].read_bytes() == old


def test_the_structure_check_beside_planning_refuses_before_a_number_is_taken(
        orders_xlsx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A big workbook's structure check runs in a child while this process plans; its refusal (an array
    formula over 快递单号) still comes before allocation, as our own error, and nothing is numbered."""
    from datetime import datetime

    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula

    import pddbatch.pipeline.batch as batch
    import pddbatch.workbook.save as save
    from pddbatch.errors import InputError
    from pddbatch.model import col_letter
    from pddbatch.parallel import can_fork
    from pddbatch.pipeline import Options, load_table, process

    if not can_fork():
        pytest.skip("the check is forked (Linux)")
    book = orders_xlsx
    table = load_table(book)
    col = col_letter([h.strip() for h in table.headers].index("快递单号") + 1)
    wb = openpyxl.load_workbook(book)
    wb[table.sheet][f"{col}2"] = ArrayFormula(f"{col}2:{col}6", "=B2:B6")
    wb.save(book)
    here: list[str] = []
    real = save.check_patchable
    monkeypatch.setattr(save, "check_patchable", lambda *a, **k: here.append("checked here") or real(*a, **k))
    monkeypatch.setattr(batch, "PARALLEL_ROWS", 1)
    with pytest.raises(InputError, match=f"{col}2:{col}6") as err:
        process(book, Options(now=datetime(2026, 11, 26, 8, 0)))
    assert "没有分配任何单号" in err.value.text("zh")
    assert here == []                 # told by the child: a call in this process would be seen
    assert used_numbers(book.parent / "pddbatch-ledger.sqlite") == 0
    monkeypatch.setattr(batch, "PARALLEL_ROWS", 10**9)
    with pytest.raises(InputError, match=f"{col}2:{col}6"):
        process(book, Options(now=datetime(2026, 11, 26, 8, 0)))
    assert here == ["checked here"]
