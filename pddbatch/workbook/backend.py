"""Where the seller's sheet lives: a file on disk (`FileSheet`) or an open Excel book (`LiveSheet`).

The pipeline reads the orders table, the optional 商品资料 / 库存 sheets, and applies one `WritePlan`
at a time through a `SheetBackend`; it never asks which kind it has.

A `FileSheet` remembers what it read (inode, size, mtime and a SHA-256 of the bytes) and refuses
to write back into a file that changed since: rows may have moved, and a number must never land
next to another order.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pddbatch.errors import InputError, SaveError
from pddbatch.model import WriteOutcome, WritePlan
from pddbatch.workbook.headers import alias_table, key_header
from pddbatch.workbook.read import Table, read_table

if TYPE_CHECKING:
    from pddbatch.workbook.xlsx.rowscan import RowScan


class SheetBackend(Protocol):
    """Where the seller's sheet lives: a file on disk (FileSheet) or an open Excel book (LiveSheet)."""

    path: Path

    def read_table(self, sheet: str | None) -> Table: ...                      # the orders table

    def read_side_table(self, name: str, columns: str, what: str) -> Table | None: ...  # 商品资料 / 库存

    def apply(self, plan: WritePlan, *, backup: bool = True) -> WriteOutcome: ...  # one WritePlan, all or nothing

    def locked(self) -> AbstractContextManager[None]: ...                          # no other run on this book


class WorkbookChangedError(SaveError):
    """The workbook was saved by another program between pddbatch's read and its write-back."""


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What a file was when pddbatch read it: enough to tell any later save apart."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        st = path.stat()
        h = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, h.hexdigest())

    def same_stat(self, path: Path) -> bool:
        try:
            st = path.stat()
        except OSError:
            return False
        return self.matches(st)

    def matches(self, st: os.stat_result) -> bool:
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == (self.dev, self.ino, self.size, self.mtime_ns)


def changed_error(name: str) -> WorkbookChangedError:
    return WorkbookChangedError(
        f"{name} 在 pddbatch 读取之后被其他程序（Excel、WPS、同步盘或另一个 pddbatch）保存过：为免把单号写到"
        f"挪动过的行上，未写回。单号已在台账中分配、面单已生成；对现在的文件重新运行是安全的（同一订单会拿到同一单号）",
        f"{name} was saved by another program (Excel, WPS, a sync client or another pddbatch) after pddbatch "
        f"read it: to never put a number beside a row that moved, nothing was written back. The numbers are "
        f"allocated in the ledger and the labels written; running again on the file as it is now is safe "
        f"(each order gets the same number)")


def read_only_error(name: str) -> InputError:
    return InputError(f"{name} 是只读文件：pddbatch 不会替换它。请去掉只读属性（或换一个可写的副本）后再运行",
                      f"{name} is read-only: pddbatch will not replace it. Make it writable (or use a writable "
                      f"copy) and run again")


class FileSheet:
    """The seller's .xlsx/.xlsm/.csv on disk (workbook/read.py in, workbook/save.py out)."""

    def __init__(self, path: Path, lang: str = "zh") -> None:
        self.path = Path(path)
        self.lang = lang
        self.identity: FileIdentity | None = None
        self._scan: RowScan | None = None

    def real_path(self) -> Path:
        """The file itself (a workbook given through a symlink is read and written where it lives)."""
        return Path(os.path.realpath(self.path)) if self.path.is_symlink() else self.path

    def read_table(self, sheet: str | None) -> Table:
        real = self.real_path()
        before = FileIdentity.of(real) if real.is_file() else None
        table = read_table(real, alias_table().is_header_row, sheet)
        if before is not None and not before.same_stat(real):     # saved while we read it: take it again
            before = FileIdentity.of(real)
            table = read_table(real, alias_table().is_header_row, sheet)
            if not before.same_stat(real):
                raise changed_error(self.path.name)
        table.path = str(self.path)
        self.identity = before
        return table

    def read_side_table(self, name: str, columns: str, what: str) -> Table | None:
        real = self.real_path()
        if real.suffix.lower() in (".csv", ".txt"):
            return None
        aliases = alias_table(columns)
        table = read_table(real, aliases.is_header_row, name, what, key_header(aliases))
        table.path = str(self.path)
        return table

    def unchanged(self) -> bool:
        """True when the file is still, byte for byte, what `read_table` read."""
        if self.identity is None:
            return True
        real = self.real_path()
        if not self.identity.same_stat(real):
            return False
        return FileIdentity.of(real).sha256 == self.identity.sha256

    def apply(self, plan: WritePlan, *, backup: bool = True) -> WriteOutcome:
        from pddbatch.workbook.save import apply_plan

        if not self.unchanged():
            raise changed_error(self.path.name)
        real = self.real_path()
        if not os.access(real, os.W_OK) and real.is_file():
            raise read_only_error(real.name)
        seen = self.identity

        def guard(st: os.stat_result) -> None:      # the save re-checks at its start and just before the swap
            if seen is not None and not seen.matches(st):
                raise changed_error(self.path.name)

        outcome = apply_plan(real, plan, backup=backup, lang=self.lang, guard=guard, scan=self._scan)
        self._scan = None
        if self.identity is not None and real.is_file():     # our own save: the next plan writes onto it
            self.identity = FileIdentity.of(real)
        return outcome

    def scan_rows(self, sheet: str, owned: tuple[int, ...]) -> None:
        """Work out the sheet's row shapes for the `owned` columns now, before the write plan exists
        (a big run's write-back child does this while the orders are planned: `rowscan`); the next
        `apply` uses them if the sheet is still those bytes. Best effort: any trouble, and the apply
        scans the rows itself."""
        from pddbatch.workbook.xlsx.rowscan import scan_rows

        real = self.real_path()
        if real.suffix.lower() not in (".xlsx", ".xlsm"):
            return
        try:
            self._scan = scan_rows(real, sheet, owned)
        except Exception:  # noqa: BLE001 - the apply reads the same file and reports what is wrong
            self._scan = None

    def locked(self) -> AbstractContextManager[None]:
        real = self.real_path()
        if not real.is_file():      # let the reader say clearly what is wrong with the path
            return nullcontext()
        return _file_lock(real)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    from pddbatch.workbook.locks import workbook_lock

    with workbook_lock(path):
        yield


class LiveSheet:
    """An open xlwings Book (workbook/livebook.py, livewrites.py): read from and written to through Excel itself."""

    def __init__(self, book: Any, lang: str = "zh") -> None:
        self.book = book
        self.lang = lang
        self.path = Path(str(book.fullname))
        self.table: Table | None = None
        self.side: dict[str, Table] = {}     # 商品资料 / 库存 sheets read for the plan

    def read_table(self, sheet: str | None) -> Table:
        from pddbatch.workbook.livebook import read_book

        self.table = read_book(self.book, sheet, lang=self.lang)
        return self.table

    def read_side_table(self, name: str, columns: str, what: str) -> Table | None:
        from pddbatch.workbook.livebook import read_book

        if name not in {s.name for s in self.book.sheets}:
            return None
        aliases = alias_table(columns)
        self.side[name] = read_book(self.book, name, self.lang, aliases.is_header_row, what, key_header(aliases))
        return self.side[name]

    def apply(self, plan: WritePlan, *, backup: bool = True) -> WriteOutcome:
        """Excel keeps its own undo and the seller saves: no backup file here."""
        from pddbatch.workbook.livewrites import execute, plan_writes

        table = self.side.get(plan.sheet) if self.table is None or plan.sheet != self.table.sheet else self.table
        writes = plan_writes(self.book, plan, table)   # every read and check before any write
        execute(self.book, writes)
        marked = len(writes.notes_add)
        return WriteOutcome(str(self.path), None, writes.cells_written, marked, len(writes.notes_delete))

    def locked(self) -> AbstractContextManager[None]:
        return nullcontext()      # Excel holds the book while the button runs
