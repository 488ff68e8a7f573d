"""One pddbatch run per workbook, and never over a workbook Excel (or WPS/LibreOffice) has open.

`workbook_lock(path)` holds an OS file lock (flock on POSIX, msvcrt.locking on Windows) on a
hidden `.<name>.pddbatch.lock` file beside the workbook for the whole run. The lock dies with the
process, so a crash never leaves a stale lock behind; the lock file itself is removed on release.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from pddbatch.errors import WorkbookBusyError

POLL_SECONDS = 0.1


def owner_files(path: Path) -> list[Path]:
    """Files that say another program has the workbook open (Excel/WPS `~$`, LibreOffice `.~lock`)."""
    name = path.name
    candidates = [path.with_name("~$" + name), path.with_name(f".~lock.{name}#")]
    return [p for p in candidates if p.exists()]


@contextlib.contextmanager
def workbook_lock(path: Path | str, wait_seconds: float = 0.0) -> Iterator[Path]:
    """Hold the workbook for one run; WorkbookBusyError if it is open elsewhere or locked."""
    path = Path(path)
    open_in = owner_files(path)
    if open_in:
        raise WorkbookBusyError(
            f"{path.name} 正在被 Excel（或 WPS/LibreOffice）打开：请先关闭它再运行。"
            f"如果它并没有打开，请删除旁边的 {open_in[0].name} 文件",
            f"{path.name} is open in Excel (or WPS/LibreOffice): close it and run again. "
            f"If it is not open, delete {open_in[0].name} beside it")
    lock_path = path.with_name(f".{path.name}.pddbatch.lock")
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    while True:
        fd = _open_lock(lock_path, path)
        if _try_lock(fd):
            # the holder before us may have removed the file after we opened it: lock the live one
            try:
                same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino or os.name == "nt"
            except OSError:
                same = False
            if same:
                break
            _unlock(fd)
        os.close(fd)
        if time.monotonic() >= deadline:
            raise WorkbookBusyError(
                f"另一个 pddbatch 正在处理 {path.name}：请等它结束后再运行",
                f"Another pddbatch run is working on {path.name}: wait for it to finish")
        time.sleep(POLL_SECONDS)
    try:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        if os.name != "nt":
            with contextlib.suppress(OSError):
                os.unlink(lock_path)
        _unlock(fd)
        os.close(fd)


def _open_lock(lock_path: Path, path: Path) -> int:
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise WorkbookBusyError(f"无法在 {path.parent} 中创建锁文件（{exc.strerror}）：请检查文件夹权限",
                                f"Cannot create a lock file in {path.parent} ({exc.strerror})") from exc


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(fd: int) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
