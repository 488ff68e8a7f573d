"""Refusals before any number is taken, and a clean stop when the run is interrupted.

- `check_ledger_identity`: a workbook or output folder numbered from one ledger is never processed
  against another (a deleted, emptied or replaced ledger would hand printed numbers out again).
- `precheck`: everything that can make the write-back or the outputs fail is tried first (the
  workbook is writable and patchable, the backup and output folders can be written, names fit).
- `Interruptible`: Ctrl-C and SIGTERM become `RunInterrupted` (已中断) with everything unwound.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType

from pddbatch.errors import InputError, LedgerError, PddBatchError, SaveError
from pddbatch.ledger import Ledger
from pddbatch.messages import status_text
from pddbatch.model import RowStatus
from pddbatch.parallel import Background
from pddbatch.workbook.backend import FileSheet, SheetBackend
from pddbatch.workbook.headers import norm_header
from pddbatch.workbook.marks import read_record_meta
from pddbatch.workbook.read import Table
from pddbatch.workbook.writeplan import STATUS_HEADER, TRACKING_HEADER

LEDGER_ID_FILE = "ledger-id.txt"


class LedgerMismatchError(LedgerError):
    """The ledger is not the one this workbook / output folder was numbered from (or it is empty)."""


class RunInterrupted(PddBatchError):
    """Ctrl-C or SIGTERM stopped the run; everything done so far is consistent."""


# ---- ledger identity -----------------------------------------------------------------------------

def recorded_ledger_ids(path: Path, out_dir: Path) -> dict[str, str]:
    """Where the workbook's numbers came from: {"workbook" | "outputs": ledger id} as recorded."""
    found: dict[str, str] = {}
    marker = out_dir / LEDGER_ID_FILE
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = marker.read_text(encoding="utf-8").strip()
        if text:
            found["outputs"] = text
    meta = read_record_meta(path) if path.is_file() else {}    # the mark record of the last write-back
    if meta.get("ledger_id"):
        found["workbook"] = meta["ledger_id"]
    return found


def rows_show_our_numbers(table: Table) -> int:
    """Rows whose 处理状态 says pddbatch numbered them and whose 快递单号 holds a number."""
    heads = {norm_header(h): i for i, h in enumerate(table.headers) if h}
    st, tn = heads.get(norm_header(STATUS_HEADER)), heads.get(norm_header(TRACKING_HEADER))
    if st is None or tn is None:
        return 0
    ours = {status_text(RowStatus.ALLOCATED, "zh"), status_text(RowStatus.ALLOCATED, "en")}
    return sum(1 for r in table.rows if st < len(r) and tn < len(r) and r[st] in ours and r[tn] not in (None, ""))


def check_ledger_identity(ledger: Ledger, path: Path, table: Table, out_dir: Path) -> None:
    """LedgerMismatchError, before any allocation, when this ledger can't be the one the numbers came from."""
    current = ledger.ledger_id
    for where, recorded in recorded_ledger_ids(path, out_dir).items():
        if recorded != current:
            place_zh = f"工作簿 {path.name}" if where == "workbook" else f"输出文件夹 {out_dir}"
            place_en = f"workbook {path.name}" if where == "workbook" else f"output folder {out_dir}"
            raise LedgerMismatchError(
                f"{place_zh} 里的单号来自另一个台账（编号 {recorded}），而现在的台账 {ledger.shown} 是 {current}"
                f"{'（一个新建或被清空的台账）' if ledger.parcel_count() == 0 else ''}。为免重复使用已打印的单号，"
                f"没有分配任何单号：请把原来的台账放回原处（或在 pddbatch.toml 中指向它）后再运行",
                f"The numbers in {place_en} came from another ledger (id {recorded}), but the ledger at "
                f"{ledger.shown} is {current}{' (a new or emptied ledger)' if ledger.parcel_count() == 0 else ''}. "
                f"To never hand out a printed number again, nothing was allocated: put the original ledger "
                f"back (or point pddbatch.toml at it) and run again")
    if ledger.parcel_count() == 0:
        shown = rows_show_our_numbers(table)
        if shown:
            raise LedgerMismatchError(
                f"工作簿 {path.name} 有 {shown} 行显示 pddbatch 已分配的单号，但台账 {ledger.shown} 是空的"
                f"（新建、被删除或被清空）。为免重复使用已打印的单号，没有分配任何单号：请恢复原来的台账后再运行",
                f"{shown} rows of {path.name} show numbers pddbatch allocated, but the ledger {ledger.shown} is "
                f"empty (new, deleted or emptied). To never hand out a printed number again, nothing was "
                f"allocated: restore the original ledger and run again")


def record_ledger_identity(out_dir: Path, ledger_id: str) -> Path | None:
    """Write `<out>/ledger-id.txt` (once; the folder then belongs to this ledger)."""
    marker = out_dir / LEDGER_ID_FILE
    if not out_dir.is_dir():
        return None
    with contextlib.suppress(OSError):
        if marker.read_text(encoding="utf-8").strip() == ledger_id:
            return marker
    tmp = marker.with_suffix(".txt.tmp")
    tmp.write_text(ledger_id + "\n", encoding="utf-8")
    os.replace(tmp, marker)
    return marker


# ---- refuse before allocating --------------------------------------------------------------------

TEMP_NAME_EXTRA = len(".~..pddbatch-tmp") + 8       # workbook/save.py's temp file: .~<stem>.<random>.pddbatch-tmp
BACKUP_NAME_EXTRA = len(".20261126-080000-99")      # pddbatch-backup/<stem>.<stamp>-n<suffix>


def precheck(backend: SheetBackend, table: Table, out_dir: Path, *, backup: bool,
             structure: Background[None] | None = None) -> None:
    """Everything that could make the write-back or the outputs fail, tried before a number is taken.

    `structure` is the workbook's structure check already started (`start_structure_check`); it is
    told last, as when it runs here.
    """
    _check_out_dir(out_dir)
    if not isinstance(backend, FileSheet):
        return       # Excel writes the live book; it has no file to replace
    real = backend.real_path()
    if not real.is_file():
        return       # the reader already said what is wrong
    _check_names(real)
    if not os.access(real, os.W_OK):
        raise InputError(f"{real.name} 是只读文件：pddbatch 不会替换它。请去掉只读属性（或换一个可写的副本）后再运行；"
                         f"没有分配任何单号",
                         f"{real.name} is read-only: pddbatch will not replace it. Make it writable (or use a "
                         f"writable copy) and run again; nothing was allocated")
    _probe_folder(real.parent, f"{real.name} 所在的文件夹", f"the folder of {real.name}")
    if backup:
        from pddbatch.workbook.save import BACKUP_DIR

        folder = real.parent / BACKUP_DIR
        if folder.exists() or not real.parent.is_dir():
            _probe_folder(folder, "备份文件夹", "the backup folder")
    check = structure if structure is not None else start_structure_check(backend, table, parallel=False)
    if check is not None:
        check.join()


def start_structure_check(backend: SheetBackend, table: Table, *, parallel: bool) -> Background[None] | None:
    """The patcher's structure check of the workbook (formulas over the columns pddbatch writes, …),
    begun in a forked child while this process plans (50,000 rows: 0.5 s off the run's one-core
    stretch); `precheck` tells its verdict. None when there is nothing to check."""
    if not isinstance(backend, FileSheet):
        return None
    real = backend.real_path()
    if not real.is_file() or real.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    from pddbatch.workbook.save import check_patchable

    return Background(lambda: check_patchable(real, table.sheet, table), fork=parallel)


def _check_names(real: Path) -> None:
    try:
        name_max = os.pathconf(real.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    longest = len(real.stem.encode()) + max(TEMP_NAME_EXTRA, BACKUP_NAME_EXTRA + len(real.suffix.encode()),
                                            len(".问题清单.csv".encode()))
    longest = max(longest, len(f".{real.name}.pddbatch.lock".encode()))
    if longest > name_max:
        raise InputError(f"文件名太长（{len(real.name.encode())} 字节）：备份和临时文件的名字会超过文件系统的 "
                         f"{name_max} 字节上限。请把 {real.name[:40]}… 改短后再运行；没有分配任何单号",
                         f"The file name is too long ({len(real.name.encode())} bytes): its backup and temporary "
                         f"files would exceed the file system's {name_max}-byte limit. Rename it and run again; "
                         f"nothing was allocated")


def _check_out_dir(out_dir: Path) -> None:
    probe = out_dir
    while not probe.exists():          # the folder is made when labels are written: its nearest existing parent
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise SaveError(f"输出位置 {probe} 是一个文件，不是文件夹：请在 pddbatch.toml 的 [output] 或 --out 中换一个位置；"
                        f"没有分配任何单号",
                        f"The output location {probe} is a file, not a folder: choose another ([output] in "
                        f"pddbatch.toml or --out); nothing was allocated")
    _probe_folder(probe, "输出文件夹", "the output folder")


def _probe_folder(folder: Path, what_zh: str, what_en: str) -> None:
    if not folder.exists():
        return
    try:
        fd, name = tempfile.mkstemp(prefix=".pddbatch-probe-", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        why = {errno.ENOSPC: "磁盘空间不足", errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限",
               errno.EROFS: "磁盘是只读的", errno.EDQUOT: "超出磁盘配额"}.get(exc.errno or 0, str(exc))
        raise SaveError(f"无法写入{what_zh} {folder}（{why}）：没有分配任何单号，请解决后再运行",
                        f"Cannot write to {what_en} {folder} ({exc.strerror}): nothing was allocated; fix it "
                        f"and run again") from exc


# ---- interruptions -------------------------------------------------------------------------------

class _Stop(BaseException):
    """Raised by the SIGTERM/SIGINT handler: unwinds like Ctrl-C."""


STAGE_NAMES = {"read": ("读取表格", "reading"), "ledger": ("打开台账", "opening the ledger"),
               "check": ("写入前检查", "checking"), "allocate": ("分配单号", "allocating numbers"),
               "render": ("生成面单", "rendering labels"), "write_back": ("写回表格", "writing back"),
               "finish": ("收尾", "finishing")}


def interrupted_error(stage: str, allocated: bool) -> RunInterrupted:
    """已中断: where the run stopped, what is done, and that a rerun is safe."""
    zh_stage, en_stage = STAGE_NAMES.get(stage, (stage, stage))
    if allocated:
        zh = (f"已中断（{zh_stage}）：单号已在台账中分配，已生成的面单和写回的内容都是完整的；"
              "重新运行会给每个订单同样的单号，并补齐没有完成的面单和写回")
        en = (f"Interrupted ({en_stage}): the numbers are allocated in the ledger; whatever was written is complete. "
              "Running again gives every order the same number and finishes the labels and write-back")
    else:
        zh = f"已中断（{zh_stage}）：没有分配任何单号，工作簿未改动；可以直接重新运行"
        en = f"Interrupted ({en_stage}): no number was allocated and the workbook is unchanged; just run again"
    return RunInterrupted(zh, en)


class Interruptible:
    """For the run: SIGTERM (and SIGINT) raise inside the run; a second signal during clean-up is ignored.

    Only the main thread can take signals; elsewhere (an Excel host thread) this does nothing.
    """

    def __init__(self) -> None:
        self._old: dict[int, object] = {}
        self._stopping = False
        self._held = False
        self._pending: str | None = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:
            return
        if self._held:
            self._pending = signal.Signals(signum).name
            return
        self._stopping = True
        raise _Stop(signal.Signals(signum).name)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """A signal during the block waits for its end: a step that must not be cut in two (the run's
        row written to the ledger and its id known to the run, so a stop is recorded against it)."""
        self._held = True
        try:
            yield
        finally:
            self._held = False
        if self._pending is not None and not self._stopping:
            name, self._pending = self._pending, None
            self._stopping = True
            raise _Stop(name)

    def __enter__(self) -> Interruptible:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(ValueError, OSError):
                    self._old[sig] = signal.signal(sig, self._handler)
        return self

    def calm(self) -> None:
        """From now on signals are ignored until the run is wound up (clean-up must finish)."""
        self._stopping = True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, old in self._old.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, old)  # type: ignore[arg-type]


def is_interrupt(exc: BaseException) -> bool:
    return isinstance(exc, KeyboardInterrupt | _Stop)
