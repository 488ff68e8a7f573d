"""Disk full while saving: RLIMIT_FSIZE in the subprocess makes every write past N bytes fail (EFBIG).

The original workbook stays byte for byte, the message says the save failed and why, exit code 2,
the ledger stays sound, and a rerun with room to write completes.
"""

from __future__ import annotations

import resource
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.crash.crashkit import (
    LEDGER,
    NOW,
    assert_clean_exit,
    doctor,
    live_numbers,
    make_shop,
    process,
    start,
)


def file_limit(limit: int) -> Callable[[], None]:
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def limited(args: list[str], cwd: Path, limit: int) -> tuple[int, str]:
    proc = start(args, cwd, file_limit(limit))
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out + err


def test_validate_save_fails_cleanly(tmp_path: Path) -> None:
    path = make_shop(tmp_path)
    old = path.read_bytes()
    rc, text = limited(["validate", path.name], tmp_path, len(old) // 2)
    assert rc == 2, text
    assert "Traceback" not in text and "内部错误" not in text
    assert f"保存 {path.name} 失败" in text and "原文件未改动" in text, text
    assert path.read_bytes() == old
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".pddbatch-tmp"], "temp file left behind"
    assert_clean_exit(process(path))       # room again: it completes


@pytest.mark.parametrize("limit_kb", [8, 64, 200, 400])
def test_process_with_little_room(tmp_path: Path, limit_kb: int) -> None:
    """Whichever write hits the wall first (ledger, labels, workbook), the run stops with a clear message."""
    path = make_shop(tmp_path)
    old = path.read_bytes()
    rc, text = limited(["process", path.name, "--now", NOW], tmp_path, limit_kb * 1024)
    assert "Traceback" not in text and "内部错误" not in text, text
    assert rc in (0, 1, 2), text
    if rc == 2:
        assert text.startswith("错误：") or "\n错误：" in text, text
        assert path.read_bytes() == old
    ledger = tmp_path / LEDGER
    before = live_numbers(ledger)
    if rc == 2 and before:      # a late failure says what was produced and what a rerun does
        assert "已分配单号" in text and "重新运行会给每个订单同样的单号" in text, text
    if ledger.exists():
        assert doctor(ledger).returncode == 0
    assert_clean_exit(process(path))
    after = live_numbers(ledger)
    assert {sn: after[sn] for sn in before} == before


def test_disk_full_while_writing_the_ledger_says_so(tmp_path: Path) -> None:
    """The ledger can't grow: a plain sentence, exit 2, and the ledger still passes doctor."""
    import resource
    import shutil
    import subprocess

    from tests.support import SAMPLE, generator, sample_rows

    for name in ("pddbatch.toml", "demo-pool-ZTO.txt", "demo-pool-YZXB.txt", "demo-pool-SF.txt"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    book = tmp_path / "orders.xlsx"
    generator.write_xlsx(sample_rows(), book)
    before = book.read_bytes()

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    proc = subprocess.run(["pddbatch", "process", str(book)], preexec_fn=limit, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "磁盘空间不足" in proc.stderr and "Traceback" not in proc.stderr
    assert book.read_bytes() == before
    doctor = subprocess.run(["pddbatch", "doctor", "--ledger", str(tmp_path / "pddbatch-ledger.sqlite")],
                            capture_output=True, text=True, timeout=60)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr


@pytest.mark.parametrize("limit_kb", [300, 500])
def test_a_late_failure_says_what_was_produced(tmp_path: Path, limit_kb: int) -> None:
    """Pools already in the ledger: the numbers are taken, then labels or the workbook hit the wall."""
    from pddbatch.ledger import Ledger

    path = make_shop(tmp_path)
    old = path.read_bytes()
    with Ledger.open(tmp_path / LEDGER) as ledger:
        for code in ("ZTO", "YZXB", "SF"):
            ledger.import_pool_file(tmp_path / f"demo-pool-{code}.txt", code)
    rc, text = limited(["process", path.name, "--now", NOW], tmp_path, limit_kb * 1024)
    assert rc == 2 and "Traceback" not in text, text
    before = live_numbers(tmp_path / LEDGER)
    assert before, "the numbers were allocated before the failure"
    assert f"本次新分配 {len(set(before.values()))} 个" in text, text
    out = tmp_path / "orders.pddbatch"
    made = sorted(p.name for p in out.glob("*") if p.is_file()) if out.is_dir() else []
    if "面单和单据已写入" not in text:         # exactly the files that exist are named
        assert all(name in text for name in made) and ("没有生成" in text) == (not made), (made, text)
    assert "工作簿没有写回（保持原样）" in text and path.read_bytes() == old, text
    assert "重新运行会给每个订单同样的单号" in text
    assert_clean_exit(process(path))
    after = live_numbers(tmp_path / LEDGER)
    assert {sn: after[sn] for sn in before} == before
