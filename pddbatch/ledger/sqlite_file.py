"""The SQLite ledger as a file on disk: refused when it is empty or cut short (never taken for a new
ledger), and the temporary files a new ledger is built in before it is linked into place."""

from __future__ import annotations

import glob
import os
import time
import uuid
from pathlib import Path

from pddbatch.errors import LedgerError
from pddbatch.ledger.database import LedgerDamaged

SETTLE_S = 2.0
STALE_CREATION_S = 60
_HEADER = b"SQLite format 3\x00"


def creation_name(path: Path) -> Path:
    """A temporary name beside `path` for this process to build a new ledger in."""
    return path.with_name(f".{path.name}.creating-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def refuse_damaged_file(path: Path) -> None:
    """An existing ledger file that is empty or shorter than its own header says is damaged.

    SQLite would quietly start a brand-new ledger in a 0-byte file, handing out numbers already
    printed; a file cut short loses the parcels at its end. Another process may be checkpointing
    the file this very moment (header written before the pages after it) or, an older pddbatch,
    creating it in place (0 bytes for a few milliseconds), so only a state that lasts `SETTLE_S` counts.
    """
    deadline = time.monotonic() + SETTLE_S
    while True:
        try:
            _check_file(path)
            return
        except LedgerDamaged:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _check_file(path: Path) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LedgerError(f"无法读取台账文件 {path}：{exc.strerror}",
                          f"Cannot read the ledger file {path}: {exc.strerror}") from exc
    if size == 0:
        raise LedgerDamaged(
            f"台账文件是空的（0 字节）：{path}。它可能被清空或替换过；已打印的单号不能再分配，所以不会把它当作新台账。"
            "请从备份恢复台账文件（若确实要新建台账，请先删除这个空文件）",
            f"The ledger file is empty (0 bytes): {path}. It may have been emptied or replaced; numbers already "
            "printed must not be handed out again, so it is not treated as a new ledger. Restore the ledger from "
            "a backup (to really start a new ledger, delete the empty file first)")
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise LedgerError(f"无法读取台账文件 {path}：{exc.strerror}",
                          f"Cannot read the ledger file {path}: {exc.strerror}") from exc
    if len(head) < 100 or not head.startswith(_HEADER):
        return   # not an SQLite file at all: opening it says so
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    header_valid = head[92:96] == head[24:28]
    wal = path.with_name(path.name + "-wal")
    # pages still in the write-ahead log (a checkpoint the disk stopped half-way) belong to the ledger:
    # SQLite recovers them on open, so a short main file beside a non-empty WAL is not a truncation
    pending = wal.exists() and wal.stat().st_size > 0
    if header_valid and pages and size < pages * page_size and not pending:
        raise LedgerDamaged(
            f"台账文件被截断了：{path} 只有 {size} 字节，文件头记录应有 {pages * page_size} 字节。请从备份恢复台账文件",
            f"The ledger file is truncated: {path} has {size} bytes, its header says {pages * page_size}. "
            "Restore the ledger from a backup")


def remove_stale_creations(path: Path) -> None:
    """Temporary ledgers a killed creation left beside `path` (older than a minute): never linked, never used."""
    for old in path.parent.glob(f".{glob.escape(path.name)}.creating-*"):
        try:
            if time.time() - old.stat().st_mtime > STALE_CREATION_S:
                old.unlink()
        except OSError:
            continue


def sync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
