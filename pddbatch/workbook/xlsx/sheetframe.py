"""What surrounds a worksheet's rows, and what the rewrite is asked to do.

`SheetJob` is the patcher's order for one sheet. Before <sheetData>: the sheet must be a plain
worksheet, its <dimension> grows over what is written, new columns get a width. After </sheetData>:
the autoFilter widens over new header columns and the comments' <legacyDrawing> goes in its place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pddbatch.errors import InputError
from pddbatch.model import CellValue
from pddbatch.workbook.xlsx.cellxml import get_attr, parse_range, range_ref, set_attr
from pddbatch.workbook.xlsx.parts import MAIN_NS, REL_NS, STRICT_NS

NEW_COL_WIDTH = 18
Cell = tuple[int, int]
# elements that must come after <legacyDrawing> in a worksheet (CT_Worksheet order)
_AFTER_LEGACY = (b"legacyDrawingHF", b"drawingHF", b"picture", b"oleObjects", b"controls",
                 b"webPublishItems", b"tableParts", b"extLst")


@dataclass
class SheetJob:
    """What to do to one sheet; built by the patcher from the WritePlan and the earlier record."""

    header_row: int
    first_row: int
    last_row: int
    owned: tuple[int, ...]
    values: Mapping[Cell, CellValue]
    headers: dict[int, str]                        # new columns: col -> header text
    marks: frozenset[Cell]
    prev: frozenset[Cell]                          # cells pddbatch marked on an earlier run
    unmark: Callable[[Cell, int | None], int | None]   # (cell, its s now) -> the s to put back
    mark_style: Callable[[int | None], int]
    legacy_rel_id: str | None = None               # insert <legacyDrawing r:id=...> when set
    rel_ns: str = REL_NS                           # the package's relationships namespace (Strict differs)


def frame_head(head: bytes, p: bytes, job: SheetJob, needed: Sequence[int]) -> bytes:
    """The part before <sheetData>: refused unless a plain worksheet; its dimension grown to the
    rows and columns written, widths for new columns."""
    root = re.search(rb"<([\w.-]+:)?(worksheet|chartsheet|dialogsheet)\b", head)
    if root is None or root.group(2) != b"worksheet" or (MAIN_NS.encode() not in head
                                                          and STRICT_NS.encode() not in head):
        raise InputError("目标不是普通工作表（可能是图表工作表），无法写回",
                         "The target is not a normal worksheet (chart sheet?); cannot write back")
    add_cols = sorted(job.headers)
    rows = list(needed)
    dim = re.search(rb"<" + p + rb"dimension\b[^>]*?/>", head)
    if dim is not None and (add_cols or rows):
        ref = get_attr(dim.group(0), re.compile(rb'\sref\s*=\s*"([^"]*)"'))
        rng = parse_range(ref) if ref else None
        if rng is not None:
            cols = add_cols + [c for _, c in job.marks] + [c for c in job.owned if rows]
            r1, c1, r2, c2 = rng
            new = range_ref(min([r1] + rows), min([c1] + cols), max([r2] + rows), max([c2] + cols))
            if new != ref:
                tag = set_attr(dim.group(0), b"ref", new)
                head = head[:dim.start()] + tag + head[dim.end():]
    if add_cols:
        head = _widths(head, p, add_cols)
    return head


def _widths(head: bytes, p: bytes, add_cols: list[int]) -> bytes:
    cols_m = re.search(rb"<" + p + rb"cols>(.*?)</" + p + rb"cols>", head, re.S)
    covered: list[tuple[int, int]] = []
    if cols_m:
        for cm in re.finditer(rb"<" + p + rb"col\b[^>]*>", cols_m.group(1)):
            lo = get_attr(cm.group(0), re.compile(rb'\smin\s*=\s*"(\d+)"'))
            hi = get_attr(cm.group(0), re.compile(rb'\smax\s*=\s*"(\d+)"'))
            if lo and hi:
                covered.append((int(lo), int(hi)))
    todo = [c for c in add_cols if not any(lo <= c <= hi for lo, hi in covered)]
    if not todo:
        return head
    new = b"".join(b"<" + p + b'col min="%d" max="%d" width="%d" customWidth="1"/>' % (c, c, NEW_COL_WIDTH)
                   for c in todo)
    if cols_m:
        # <col> elements are sorted by min; ours are beyond every covered one or go in order
        inner = cols_m.group(1)
        entries = re.findall(rb"<" + p + rb"col\b[^>]*?(?:/>|>.*?</" + p + rb"col>)", inner, re.S)
        items = [(int(get_attr(e, re.compile(rb'\smin\s*=\s*"(\d+)"')) or 0), e) for e in entries]
        items += [(c, b"<" + p + b'col min="%d" max="%d" width="%d" customWidth="1"/>' % (c, c, NEW_COL_WIDTH))
                  for c in todo]
        items.sort(key=lambda t: t[0])
        body = b"".join(e for _, e in items)
        return head[:cols_m.start(1)] + body + head[cols_m.end(1):]
    return head + b"<" + p + b"cols>" + new + b"</" + p + b"cols>"


def frame_tail(tail: bytes, p: bytes, job: SheetJob) -> bytes:
    """The part after </sheetData>: the autoFilter widened over new header columns, the comments'
    <legacyDrawing> put in its place."""
    out = tail
    if job.headers:
        af = re.search(rb"<" + p + rb"autoFilter\b[^>]*>", out)
        if af is not None:
            ref = get_attr(af.group(0), re.compile(rb'\sref\s*=\s*"([^"]*)"'))
            rng = parse_range(ref) if ref else None
            lo, hi = min(job.headers), max(job.headers)
            if rng is not None and rng[0] == job.header_row and lo - 1 <= rng[3] < hi:
                new = set_attr(af.group(0), b"ref", range_ref(rng[0], rng[1], rng[2], hi))
                out = out[:af.start()] + new + out[af.end():]
    if job.legacy_rel_id is not None:
        el = (b"<" + p + b'legacyDrawing xmlns:r="' + job.rel_ns.encode() + b'" r:id="'
              + job.legacy_rel_id.encode() + b'"/>')
        at = -1
        for name in _AFTER_LEGACY:
            m = re.search(rb"<" + p + name + rb"[\s/>]", out)
            if m and (at < 0 or m.start() < at):
                at = m.start()
        mc = re.search(rb"<mc:AlternateContent\b", out)
        if mc and (at < 0 or mc.start() < at):
            at = mc.start()
        if at < 0:
            at = out.rfind(b"</" + p + b"worksheet>")
        out = out[:at] + el + out[at:]
    return out
