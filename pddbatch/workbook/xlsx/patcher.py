"""Apply a WritePlan to an .xlsx/.xlsm package by streaming: untouched members are copied as-is.

Rewritten: the target sheet (streamed), styles.xml, the sheet's comments + VML + .rels, the
issues sheet, pddbatch's mark record (the hidden sheet `_pddbatch`, see `workbook.marks`), and
workbook.xml/.rels and [Content_Types].xml when parts are added. Every other member keeps its
bytes, name, date and compression.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pddbatch.deflate import fast_member, fast_reader
from pddbatch.errors import InputError
from pddbatch.model import WritePlan, col_letter
from pddbatch.workbook.marks import RECORD_SHEET, UNKNOWN_FILL, Mark, MarkRecord, read_record
from pddbatch.workbook.xlsx.cellxml import parse_range
from pddbatch.workbook.xlsx.issues_sheet import issues_sheet_xml, record_sheet_xml
from pddbatch.workbook.xlsx.notes import Comments, Vml, new_vml, vml_idmaps
from pddbatch.workbook.xlsx.package import Package, drop_calc_chain, drop_part, locate, put_sheet
from pddbatch.workbook.xlsx.parts import (
    CT_COMMENTS,
    CT_VML,
    RT_COMMENTS,
    RT_CUSTOM_XML,
    RT_THREADED,
    RT_VML,
    Rel,
    free_part,
    read_rels,
)
from pddbatch.workbook.xlsx.record import is_record, parse_record
from pddbatch.workbook.xlsx.row_order import RowsOutOfOrder, sort_rows
from pddbatch.workbook.xlsx.rowscan import RowScan
from pddbatch.workbook.xlsx.sheetframe import SheetJob
from pddbatch.workbook.xlsx.styles import StyleBook
from pddbatch.workbook.xlsx.worksheet import rewrite_sheet

Cell = tuple[int, int]


@dataclass(frozen=True, slots=True)
class PatchResult:
    changed: bool
    cells_written: int
    marks_written: int
    marks_cleared: int


def check_patchable(src: Path, sheet: str, columns: Collection[int] = (), header_row: int = 0) -> None:
    """The patcher's structure checks, made before anything is decided (InputError as `patch_workbook`).

    Besides the package structure: a part pddbatch edits stored as UTF-16, and a shared or array
    formula over one of `columns` below `header_row` (overwriting one cell of it would break the
    rest), are refused here, before a number is allocated.
    """
    try:
        zin = zipfile.ZipFile(src)
    except zipfile.BadZipFile as exc:
        raise InputError(f"{src.name} 已损坏（不是完整的 xlsx 文件）", f"{src.name} is corrupt") from exc
    with zin:
        pkg = Package(zin)
        loc = locate(zin, pkg, sheet)
        for part in (loc.wb_part, loc.sheet_part, loc.styles_part):
            with zin.open(part) as fh:
                head = fh.read(4)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[1:2] == b"\x00" or head[:1] == b"\x00":
                raise InputError(f"{src.name} 的部件 {part} 以 UTF-16 编码保存，pddbatch 不能安全写回：请用 Excel "
                                 "或 WPS 打开后另存为 .xlsx（会存成 UTF-8），没有分配任何单号",
                                 f"Part {part} of {src.name} is stored as UTF-16, which pddbatch cannot write back "
                                 "safely: open it in Excel or WPS and save as .xlsx (UTF-8); nothing was allocated")
        if columns:
            with fast_reader(zin.open(loc.sheet_part)) as fh:
                _check_formulas(fh, sheet, set(columns), header_row)


_SHARED_F = re.compile(rb"<(?:[\w.-]+:)?f\b([^>]*\bref\s*=\s*\"([^\"]*)\"[^>]*)>")


def _check_formulas(fh: IO[bytes], sheet: str, columns: set[int], header_row: int) -> None:
    """Refuse a shared/array formula whose range covers an owned column below the header row."""
    tail = b""
    while True:
        chunk = fh.read(1 << 20)
        buf = tail + chunk
        # the pattern stops at every "<" of the sheet (50,000 rows: 0.3 s); a megabyte without "ref"
        # anywhere can't hold a match, and an export's data rows have none (found at memchr speed)
        for m in _SHARED_F.finditer(buf) if b"ref" in buf else ():
            if not re.search(rb'\bt\s*=\s*"(shared|array)"', m.group(1)):
                continue
            rng = parse_range(m.group(2))
            if rng is None:
                continue
            r1, c1, r2, c2 = rng
            hit = sorted(c for c in columns if c1 <= c <= c2)
            if hit and r2 > header_row:
                ref = m.group(2).decode("ascii", "replace")
                kind = "数组" if b'"array"' in m.group(1) else "共享"
                raise InputError(
                    f"工作表“{sheet}”的 {ref} 是{kind}公式，覆盖了 pddbatch 要写入的 {col_letter(hit[0])} 列："
                    f"写入其中一格会破坏整组公式。请先把这一列的公式转成数值（复制后“选择性粘贴-数值”）或删掉，"
                    "再运行；没有分配任何单号",
                    f"{ref} in sheet '{sheet}' is a {'n array' if kind == '数组' else ' shared'} formula over column "
                    f"{col_letter(hit[0])}, which pddbatch writes: writing one cell of it breaks the whole group. "
                    "Turn that column's formulas into values (copy, paste values) or delete them and run again; "
                    "nothing was allocated")
        if not chunk:
            return
        tail = buf[-4096:]


def patch_workbook(src: Path, dst: IO[bytes], plan: WritePlan, scan: RowScan | None = None) -> PatchResult:
    """Write the patched package to `dst`. `changed` is False when the result equals the input.

    `scan`: the sheet's row shapes worked out before the plan existed (`rowscan`), used only if they
    were taken from this very sheet part for the plan's columns."""
    try:
        zin = zipfile.ZipFile(src)
    except zipfile.BadZipFile as exc:
        raise InputError(f"{src.name} 已损坏（不是完整的 xlsx 文件）", f"{src.name} is corrupt") from exc
    with zin:
        pkg = Package(zin)
        loc = locate(zin, pkg, plan.sheet)
        wb_part, wb_rels, sheets, sheet_ids = loc.wb_part, loc.wb_rels, loc.sheets, loc.sheet_ids
        sheet_part, styles_part = loc.sheet_part, loc.styles_part

        # ---- earlier marks: the record sheet (or an older pddbatch's custom XML part) ----------------
        record = _read_record(src, zin, pkg, wb_rels, sheets)
        prev = record.for_sheet(plan.sheet)

        # ---- styles --------------------------------------------------------------------------------
        book = StyleBook(zin.read(styles_part))

        # ---- notes ---------------------------------------------------------------------------------
        sheet_rels = read_rels(zin, sheet_part)
        comments_part = next((r.target for r in sheet_rels if r.type == RT_COMMENTS), None)
        vml_part = next((r.target for r in sheet_rels if r.type == RT_VML), None)
        threaded = any(r.type == RT_THREADED for r in sheet_rels)
        legacy_rel_id: str | None = None
        has_comments = comments_part is not None and comments_part in pkg.names
        need_notes = bool(plan.marks) or any(m.noted for m in prev.values()) or has_comments
        comments: Comments | None = None
        vml: Vml | None = None
        if need_notes:
            try:
                comments = Comments(zin.read(comments_part) if comments_part in pkg.names else None,
                                    pkg.dialect.main)
            except ValueError as exc:
                raise InputError("批注部件格式异常，无法安全写回", "Malformed comments part") from exc
            if vml_part is not None and vml_part in pkg.names:
                vml = Vml(zin.read(vml_part))
            else:
                used = [m for n in pkg.names if n.endswith(".vml") for m in vml_idmaps(zin.read(n))]
                vml = Vml(new_vml(max(used, default=0) + 1))
            for cell in comments.ours():       # a mark the record lost (record gone, rows moved): undo it too
                prev.setdefault(cell, Mark(plan.sheet, cell[0], cell[1], "", True, None))

        noted: dict[Cell, bool] = {}
        cleared = sum(1 for c in prev if c not in plan.marks)
        if comments is not None and vml is not None:
            for cell, m in prev.items():
                if m.noted and comments.is_ours(cell):
                    del comments.entries[cell]
                    vml.remove_note(cell)
                elif (plan.sheet, *cell) in record.legacy_notes and comments.is_ours(cell):
                    comments.entries[cell] = record.legacy_notes[(plan.sheet, *cell)]   # an older pddbatch covered it
            for cell in sorted(plan.marks):
                if cell in comments.entries or threaded:
                    noted[cell] = False          # the seller's own note stays as it is
                    continue
                noted[cell] = True
                comments.put_ours(cell, plan.marks[cell])
                if not vml.has_note_shape(cell):
                    vml.add_note(cell, plan.marks[cell])
        else:
            noted = {cell: False for cell in plan.marks}

        if comments is not None and vml is not None and (comments.render() != comments.original or plan.marks):
            if comments_part is None:
                comments_part = free_part(pkg.all_names(), "xl/comments{}.xml")
                pkg.put(comments_part, comments.render())
                pkg.link(sheet_part, RT_COMMENTS, comments_part)
                pkg.content_type(override=(comments_part, CT_COMMENTS))
            else:
                pkg.put(comments_part, comments.render())
            if vml_part is None:
                vml_part = free_part(pkg.all_names(), "xl/drawings/vmlDrawing{}.vml")
                pkg.put(vml_part, vml.render())
                legacy_rel_id = pkg.link(sheet_part, RT_VML, vml_part)
                pkg.content_type(default=("vml", CT_VML))
            else:
                pkg.put(vml_part, vml.render())

        # ---- the sheet (streamed to a temporary file) ----------------------------------------------
        values_rows = [r for r, _ in plan.values]
        last = plan.last_row or max(values_rows, default=plan.header_row)
        job = SheetJob(
            header_row=plan.header_row, first_row=plan.header_row + 1, last_row=last,
            owned=tuple(sorted({c.col for c in plan.columns})), values=plan.values,
            headers={c.col: c.header for c in plan.columns if c.is_new},
            marks=frozenset(plan.marks), prev=frozenset(prev),
            unmark=lambda cell, style: book.unmark(style, prev[cell].style, prev[cell].fill),
            mark_style=book.mark_style, legacy_rel_id=legacy_rel_id, rel_ns=pkg.dialect.rel)
        with tempfile.TemporaryFile(dir=str(src.parent)) as spool:
            try:
                with fast_reader(zin.open(sheet_part)) as sheet_in:
                    shapes = scan.shapes if scan is not None and scan.fits(
                        sheet_part, zin.getinfo(sheet_part), job.owned) else None
                    result = rewrite_sheet(sheet_in, spool, job, shapes)
            except RowsOutOfOrder:        # rare (some tools' edits): sort in memory, then the same rewrite
                spool.seek(0)
                spool.truncate()
                result = rewrite_sheet(io.BytesIO(sort_rows(zin.read(sheet_part))), spool, job)
                result.changed = True
            new_marks = []
            for cell in plan.marks:
                origin = result.origins.get(cell)
                new_marks.append(Mark(plan.sheet, cell[0], cell[1], book.fill_of(origin), noted[cell], origin))
            pkg.put(styles_part, book.render())
            if result.formula_overwritten:
                drop_calc_chain(pkg, wb_part, wb_rels)

            # ---- issues sheet ------------------------------------------------------------------------
            if plan.issues_sheet is not None:
                put_sheet(pkg, wb_part, sheets, sheet_ids, plan.issues_sheet.name,
                           issues_sheet_xml(plan.issues_sheet, pkg.dialect))

            # ---- the mark record ---------------------------------------------------------------------
            names = [n for n in sheets if n != RECORD_SHEET]
            if plan.issues_sheet is not None and plan.issues_sheet.name not in names:
                names.append(plan.issues_sheet.name)
            new_record = record.with_sheet(plan.sheet, new_marks, plan.record_meta, names)
            if record.found or not new_record.empty:
                put_sheet(pkg, wb_part, sheets, sheet_ids, RECORD_SHEET,
                           record_sheet_xml(new_record.rows(), pkg.dialect), hidden=True)
            for rel in record.legacy_parts:
                drop_part(pkg, wb_part, rel)

            changed = result.changed or bool(pkg.replaced) or bool(pkg.added) or bool(pkg.removed)
            if changed:
                spool.seek(0)
                _write_zip(zin, pkg, sheet_part, spool, dst)
    return PatchResult(changed, result.cells_written, len(plan.marks), cleared)


@dataclass
class _FileRecord(MarkRecord):
    legacy_parts: list[Rel] = field(default_factory=list)
    legacy_notes: dict[tuple[str, int, int], bytes] = field(default_factory=dict)


def _read_record(src: Path, zin: zipfile.ZipFile, pkg: Package, wb_rels: list[Rel],
                 sheets: dict[str, Rel]) -> _FileRecord:
    """The record sheet's marks, else an older pddbatch's custom XML record converted to marks."""
    rec = _FileRecord()
    legacy = [r for r in wb_rels if r.type == RT_CUSTOM_XML and r.target in pkg.names
              and is_record(zin.read(r.target))]
    if RECORD_SHEET in sheets:
        found = read_record(src)
        rec.marks, rec.meta, rec.found = found.marks, found.meta, True
    elif legacy:
        for sheet, entries in parse_record(zin.read(legacy[0].target)).items():
            for cell, e in entries.items():
                rec.marks[(sheet, *cell)] = Mark(sheet, cell[0], cell[1], UNKNOWN_FILL, e.note == "added",
                                                 e.orig_style)
                if e.note == "replaced" and e.orig_comment:
                    rec.legacy_notes[(sheet, *cell)] = e.orig_comment
        rec.found = True
    rec.legacy_parts = legacy
    return rec


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = info.compress_type
    new.external_attr = info.external_attr
    new.create_system = info.create_system
    new.comment = info.comment
    return new


SHEET_LEVEL = 1


def _write_zip(zin: zipfile.ZipFile, pkg: Package, sheet_part: str, sheet_xml: IO[bytes],
               dst: IO[bytes]) -> None:
    # Streamed members (the rewritten sheet, big copied ones) are deflated at SHEET_LEVEL: for a
    # 100,000-row sheet level 1 took 0.6 s against 1.5 s at zlib's default, for a 23% larger part
    # (Excel deflates it again at its own level on the seller's next save); by ISA-L where installed
    # (pddbatch.deflate: ~4x zlib's level 1, and smaller).
    zout = zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True,
                           compresslevel=SHEET_LEVEL)
    try:
        for info in zin.infolist():
            name = info.filename
            if name in pkg.removed:
                continue
            new = _copy_info(info)
            if name == sheet_part:
                with fast_member(zout.open(new, "w", force_zip64=info.file_size > (1 << 30)), SHEET_LEVEL) as out:
                    shutil.copyfileobj(sheet_xml, out, 1 << 20)
            elif name in pkg.replaced:
                zout.writestr(new, pkg.replaced[name])
            elif info.file_size > (8 << 20):
                new.file_size = info.file_size
                with zin.open(info) as fin, \
                        fast_member(zout.open(new, "w", force_zip64=info.file_size > (1 << 30)), SHEET_LEVEL) as out:
                    shutil.copyfileobj(fin, out, 1 << 20)
            else:
                zout.writestr(new, zin.read(info))
        stamp = max((i.date_time for i in zin.infolist()), default=(1980, 1, 1, 0, 0, 0))
        for name, data in pkg.added.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)
    except BaseException:   # stopped part-way: the caller discards dst; closing would raise over the stop
        zout.fp = None
        raise
    zout.close()
