"""Put a WritePlan into the seller's own file (.xlsx/.xlsm by streaming patch, .csv by rewrite).

Saves are atomic: the new file is written beside the original, fsynced, then swapped in with
os.replace after a backup of the original is kept in `pddbatch-backup/` (the last KEEP_BACKUPS per
file). When the result would be identical to the file on disk nothing is written and no backup is
made, so rerunning the same plan is free and leaves the file untouched.

CSV cannot carry fills or notes: the issues list goes to a sidecar `<stem>.问题清单.csv`
(UTF-8 with BOM) and `WritePlan.record_meta` to `<file>.pddbatch-record.json` (`workbook.marks`).
A CSV is written back in the encoding it was read in (UTF-8 with or without BOM, GBK, GB18030,
UTF-16); a character pddbatch writes that the encoding cannot hold (⚠ in GBK) is substituted, never
turned into bytes a GBK reader rejects. Tracking numbers get PDD's own CSV convention, a leading
tab, so Excel and LibreOffice keep them as text (not 7.31E+13); the reader strips it again. Text pddbatch writes into a CSV that a spreadsheet would read as a formula
(starting with = + - @, tab or CR) gets a leading single quote: it is visible, survives trimming
and re-saving, and is what OWASP's CSV-injection guidance recommends; a tab would be invisible and is
stripped by many tools, bringing the formula back.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import glob
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pddbatch.deflate import INFLATE_ERRORS
from pddbatch.errors import InputError, SaveError
from pddbatch.model import CellValue, IssuesSheet, WriteOutcome, WritePlan
from pddbatch.workbook.read import Table, decode_text

if TYPE_CHECKING:
    from pddbatch.workbook.xlsx.rowscan import RowScan

BACKUP_DIR = "pddbatch-backup"
KEEP_BACKUPS = 5
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


Guard = Callable[[os.stat_result], None]   # raises when the file on disk is no longer the one that was read

# what reading a damaged package raises (a bad zip, a bad deflate stream by zlib or ISA-L, a cut member)
DAMAGED: tuple[type[Exception], ...] = (zipfile.BadZipFile, *INFLATE_ERRORS, EOFError)


def apply_plan(path: Path, plan: WritePlan, *, backup: bool = True, lang: str = "zh",
               guard: Guard | None = None, scan: RowScan | None = None) -> WriteOutcome:
    """Apply `plan` to the workbook or CSV at `path`; see the module docstring for the guarantees.

    Raises InputError for a file that cannot be patched safely, SaveError when writing fails
    (the original is then intact). `guard(stat)` is called on the file as it is when the save starts
    and again just before the swap (raise to refuse). `scan`: an .xlsx sheet's row shapes taken
    before the plan existed (`workbook.xlsx.rowscan`; ignored unless taken from this very sheet).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到文件：{path}", f"File not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _apply_xlsx(path, plan, backup, guard, scan)
    if suffix in (".csv", ".txt"):
        return _apply_csv(path, plan, backup, guard)
    raise InputError(f"不支持写回 {suffix} 文件：请使用 .xlsx、.xlsm 或 .csv",
                     f"Cannot write back into {suffix} files: use .xlsx, .xlsm or .csv")


# ---- xlsx / xlsm -------------------------------------------------------------------------------------

def check_patchable(path: Path, sheet: str, table: Table | None = None) -> None:
    """The patcher's structure checks for `sheet` of the .xlsx/.xlsm at `path`, before anything is decided.

    With the `table` read from it, formulas over the columns pddbatch will write are checked too.
    """
    from pddbatch.workbook.xlsx.patcher import check_patchable as check

    columns: list[int] = []
    header_row = 0
    if table is not None:
        from pddbatch.workbook.headers import alias_table, map_headers
        from pddbatch.workbook.writeplan import owned_columns

        cmap = map_headers(table.headers, alias_table(), table.sheet, table.header_row, required=())
        columns = [c.col for c in owned_columns(table, cmap, shipping=True).values()]
        header_row = table.header_row
    try:
        check(path, sheet, columns, header_row)
    except DAMAGED as exc:
        raise InputError(f"{path.name} 已损坏（{exc}）：请重新导出", f"{path.name} is corrupt ({exc}): export it again") \
            from exc


def _apply_xlsx(path: Path, plan: WritePlan, backup: bool, guard: Guard | None = None,
                scan: RowScan | None = None) -> WriteOutcome:
    from pddbatch.workbook.xlsx.patcher import patch_workbook

    counts: list[int] = []

    def write(fh: IO[bytes]) -> bool:
        try:
            res = patch_workbook(path, fh, plan, scan)
        except DAMAGED as exc:   # a damaged member, found on reading
            raise InputError(f"{path.name} 已损坏（{exc}）：未写回，原文件未改动；请重新导出",
                             f"{path.name} is corrupt ({exc}): nothing written, the original is "
                             "untouched; export it again") from exc
        counts.extend((res.cells_written, res.marks_written, res.marks_cleared))
        return res.changed

    saved_backup = atomic_write(path, write, backup=backup, guard=guard)
    return WriteOutcome(str(path), saved_backup, counts[0], counts[1], counts[2])


# ---- atomic save -------------------------------------------------------------------------------------

def atomic_write(path: Path, write: Callable[[IO[bytes]], bool], *, backup: bool = True,
                 guard: Guard | None = None) -> str | None:
    """Write a new version of `path` through `write(fh) -> changed` and swap it in atomically.

    Returns the backup's path (None when no backup was made or nothing changed).
    """
    try:
        before = path.stat()
    except OSError as exc:
        raise SaveError(f"无法读取 {path.name}：{_why(exc)}", f"Cannot read {path.name}: {_why_en(exc)}") from exc
    if guard is not None:
        guard(before)
    _remove_stale_temps(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".~{path.stem}.", suffix=".pddbatch-tmp", dir=str(path.parent))
    except OSError as exc:
        raise _save_error(path, exc) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            changed = write(fh)
            if not changed:
                return None
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, before.st_mode & 0o7777)
        now = path.stat()
        if guard is not None:
            guard(now)
        if (now.st_mtime_ns, now.st_size) != (before.st_mtime_ns, before.st_size):
            raise SaveError(f"{path.name} 在处理期间被其他程序修改，未保存：请重新运行",
                            f"{path.name} was changed by another program meanwhile; not saved: run again")
        saved = _backup(path) if backup else None
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return saved
    except OSError as exc:
        raise _save_error(path, exc) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


STALE_TEMP_SECONDS = 60


def _remove_stale_temps(path: Path) -> None:
    """Temp files a killed run left beside the workbook (never swapped in): tidy them away."""
    import time

    cutoff = time.time() - STALE_TEMP_SECONDS
    for old in path.parent.glob(f".~{glob.escape(path.stem)}.*.pddbatch-tmp"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                old.unlink()


def _backup(path: Path) -> str:
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{stamp}-{n}{path.suffix}"
        n += 1
    try:
        os.link(path, target)          # instant; the swap below leaves this inode as the backup
    except OSError:
        import shutil

        shutil.copy2(path, target)
    _prune(folder, path)
    return str(target)


def _prune(folder: Path, path: Path) -> None:
    pat = re.compile(re.escape(path.stem) + r"\.\d{8}-\d{6}(?:-\d+)?" + re.escape(path.suffix) + "$")
    olds = sorted((p for p in folder.iterdir() if pat.match(p.name)), key=lambda p: (p.stat().st_mtime_ns, p.name))
    for p in olds[:-KEEP_BACKUPS]:
        with contextlib.suppress(OSError):
            p.unlink()


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _why(exc: OSError) -> str:
    import errno

    return {errno.ENOSPC: "磁盘空间不足", errno.EFBIG: "文件超出允许的大小（磁盘配额）",
            errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限", errno.EROFS: "磁盘是只读的",
            errno.ENOENT: "文件或文件夹已不存在", errno.EDQUOT: "超出磁盘配额"}.get(exc.errno or 0, str(exc))


def _why_en(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _save_error(path: Path, exc: OSError) -> SaveError:
    return SaveError(f"保存 {path.name} 失败（{_why(exc)}）；原文件未改动",
                     f"Saving {path.name} failed ({_why_en(exc)}); the original is unchanged")


# ---- csv ---------------------------------------------------------------------------------------------

def neutralise(value: CellValue) -> str:
    """Text for a CSV cell pddbatch writes; formula-looking text gets a leading single quote.

    A tab before plain text (PDD's own "keep as text" marker: `\t7312…`) is not a formula and stays.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if not isinstance(value, str):
        return str(value)
    if _TEXT_MARKED.match(value):
        return value
    return "'" + value if value.startswith(_FORMULA_START) else value


_TEXT_MARKED = re.compile(r"\t[0-9A-Za-z][0-9A-Za-z-]*\Z")
_KEEP_AS_TEXT = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]*\Z")


def as_csv_text(value: CellValue) -> CellValue:
    """A number-like identifier (tracking number) as PDD's exports write it: a leading tab keeps it text."""
    if isinstance(value, str) and _KEEP_AS_TEXT.match(value) and any(ch.isdigit() for ch in value):
        return "\t" + value
    return value


def _apply_csv(path: Path, plan: WritePlan, backup: bool, guard: Guard | None = None) -> WriteOutcome:
    raw = path.read_bytes()
    text, encoding = decode_text(raw)
    if encoding == "utf-8" and b"\xef\xbf\xbd" not in raw and "\ufffd" in text:
        raise InputError(f"{path.name} 含无法识别的字符编码，不能安全写回",
                         f"{path.name} has undecodable bytes; cannot write back safely")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    newline = "\r\n" if "\r\n" in text[:65536] or "\n" not in text[:65536] else "\n"
    first = text.split("\n", 1)[0]
    quote_all = first.startswith('"') and first.rstrip("\r").endswith('"') and \
        first.count('"') >= 2 * len(rows[0] if rows else [])
    written = 0
    hr = plan.header_row
    last = plan.last_row or max((r for r, _ in plan.values), default=hr)
    for oc in plan.columns:
        if oc.is_new:
            _put(rows, hr, oc.col, oc.header)
    text_cols = {oc.col for oc in plan.columns if oc.header in _TEXT_HEADERS}
    for r in range(hr + 1, last + 1):
        for oc in plan.columns:
            v = plan.values.get((r, oc.col))
            if v is not None:
                written += 1
            if oc.col in text_cols:
                v = as_csv_text(v)
            _put(rows, r, oc.col, neutralise(v))     # rows stay rectangular: blanks are written too
    if encoding == "gb18030" and _is_gbk(raw):
        encoding = "gbk"           # a GBK file stays GBK: GB18030's 4-byte forms are refused by GBK readers
    out = io.StringIO()
    writer = csv.writer(out, delimiter=dialect.delimiter, quotechar=dialect.quotechar or '"',
                        lineterminator=newline, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    data = _encode(out.getvalue(), encoding)

    def write(fh: IO[bytes]) -> bool:
        fh.write(data)
        return data != raw

    saved = atomic_write(path, write, backup=backup, guard=guard)
    sidecars: tuple[str, ...] = ()
    if plan.issues_sheet is not None:
        sidecars = (str(_write_sidecar(path, plan.issues_sheet)),)
    if plan.record_meta:
        _write_csv_record(path, plan.record_meta)
    return WriteOutcome(str(path), saved, written, 0, 0, sidecars)


_TEXT_HEADERS = {"快递单号"}     # writeplan.TRACKING_HEADER


def _is_gbk(raw: bytes) -> bool:
    try:
        raw.decode("gbk")
    except UnicodeDecodeError:
        return False
    return True


_SUBSTITUTES = {"⚠": "!", "✓": "√", "✔": "√", "✗": "×", "✘": "×", "→": "->", "←": "<-", "•": "·",
                "\u2003": " ", "\u00a0": " ", "“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-"}


def _substitute(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a character the CSV's encoding cannot hold becomes a close look-alike."""
    import unicodedata

    assert isinstance(err, UnicodeEncodeError)
    out = []
    for ch in err.object[err.start:err.end]:
        alt = _SUBSTITUTES.get(ch) or unicodedata.normalize("NFKC", ch)
        try:
            alt.encode(err.encoding)
        except UnicodeEncodeError:
            alt = "?"
        out.append(alt)
    return "".join(out), err.end


codecs.register_error("pddbatch-substitute", _substitute)


def _write_csv_record(path: Path, meta: dict[str, str]) -> None:
    import json

    from pddbatch.workbook.marks import csv_record_path, read_record

    merged = {**read_record(path).meta, **meta}
    target = csv_record_path(path)
    _write_side_file(target, (json.dumps({"meta": merged}, ensure_ascii=False, indent=1, sort_keys=True)
                               + "\n").encode("utf-8"))


def _put(rows: list[list[str]], r: int, c: int, value: str) -> None:
    while len(rows) < r:
        rows.append([])
    row = rows[r - 1]
    if len(row) < c:
        row.extend([""] * (c - len(row)))
    row[c - 1] = value


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding, "pddbatch-substitute")


def _write_sidecar(path: Path, sheet: IssuesSheet) -> Path:
    target = path.with_name(f"{path.stem}.{sheet.name}.csv")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in sheet.header])
    writer.writerows([neutralise(v) for v in row] for row in sheet.rows)
    _write_side_file(target, b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    return target


def _write_side_file(target: Path, data: bytes) -> None:
    """A file beside the seller's (record, issues list): written atomically, left alone when unchanged."""
    if target.exists() and target.read_bytes() == data:
        return
    if not target.exists():
        try:
            target.write_bytes(b"")
        except OSError as exc:
            raise _save_error(target, exc) from exc

    def write(fh: IO[bytes]) -> bool:
        fh.write(data)
        return True

    atomic_write(target, write, backup=False)
