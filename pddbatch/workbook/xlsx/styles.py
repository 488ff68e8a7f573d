"""styles.xml: find or append the light red fill and the "original style + red fill" cell formats.

Existing fills and formats are never changed or reordered, so every style index in the workbook
keeps its meaning. Entries are reused when already present, which keeps reruns byte-identical.
A mark is recognised by its fill's colour, not by an index: editors (LibreOffice, openpyxl, WPS)
renumber fills and formats on save, so an index remembered from the last run may mean anything.
"""

from __future__ import annotations

import re

from pddbatch.errors import InputError
from pddbatch.workbook.marks import MARK_RGB, UNKNOWN_FILL, is_mark_rgb
from pddbatch.workbook.xlsx.cellxml import get_attr, set_attr
from pddbatch.workbook.xlsx.parts import xml_prefix

MARK_ARGB = ("FF" + MARK_RGB).encode()      # marks.MARK_FILL as styles.xml spells it
MAX_XFS = 64000
_FILL_ID = re.compile(rb'\sfillId\s*=\s*"(\d+)"')
_APPLY_FILL = re.compile(rb'\sapplyFill\s*=\s*"[^"]*"')
_PATTERN = re.compile(rb'patternType\s*=\s*"(\w+)"')
_FG_RGB = re.compile(rb'<(?:[\w.-]+:)?fgColor\b[^>]*\srgb\s*=\s*"([0-9A-Fa-f]{6,8})"')


class StyleBook:
    def __init__(self, xml: bytes) -> None:
        self.original = xml
        self.p = p = xml_prefix(xml, b"styleSheet")
        self.fills_m = re.search(rb"<" + p + rb"fills\b[^>]*>(.*?)</" + p + rb"fills>", xml, re.S)
        self.xfs_m = re.search(rb"<" + p + rb"cellXfs\b[^>]*>(.*?)</" + p + rb"cellXfs>", xml, re.S)
        if self.fills_m is None or self.xfs_m is None:
            raise InputError("styles.xml 缺少 fills/cellXfs，无法安全写回", "styles.xml lacks fills/cellXfs")
        self.fills = re.findall(rb"<" + p + rb"fill(?=[\s/>])[^>]*?(?:/>|>.*?</" + p + rb"fill>)",
                                self.fills_m.group(1), re.S)
        self.xfs = re.findall(rb"<" + p + rb"xf(?=[\s/>])[^>]*?(?:/>|>.*?</" + p + rb"xf>)",
                              self.xfs_m.group(1), re.S)
        if not self.xfs:
            raise InputError("styles.xml 没有单元格格式，无法安全写回", "styles.xml has no cell formats")
        self.n_fills = len(self.fills)
        self.n_xfs = len(self.xfs)
        self.xf_index = {raw: i for i, raw in reversed(list(enumerate(self.xfs)))}
        self.fill_id: int | None = None
        self.cache: dict[int | None, int] = {}
        self._plain: dict[bytes, int] | None = None

    # ---- what a format looks like -------------------------------------------------------------------

    def fill_of(self, idx: int | None) -> str:
        """The fill of cell format `idx` as the mark record writes it: "#RRGGBB", "" none, "?" other."""
        xf = self.xfs[idx] if idx is not None and 0 <= idx < len(self.xfs) else self.xfs[0]
        fid = get_attr(xf[: xf.index(b">") + 1], _FILL_ID)
        return self._fill_desc(int(fid) if fid else 0)

    def _fill_desc(self, fid: int) -> str:
        if not 0 <= fid < len(self.fills):
            return ""
        fill = self.fills[fid]
        pattern = _PATTERN.search(fill)
        if pattern is None or pattern.group(1) == b"none":
            return ""
        rgb = _FG_RGB.search(fill)
        if pattern.group(1) == b"solid" and rgb is not None:
            return "#" + rgb.group(1).decode()[-6:].upper()
        return UNKNOWN_FILL

    def is_marked(self, idx: int | None) -> bool:
        """True when format `idx` carries exactly pddbatch's fill (whatever its index)."""
        return idx is not None and 0 <= idx < len(self.xfs) and is_mark_rgb(self.fill_of(idx))

    def unmark(self, current: int | None, before: int | None, fill: str) -> int | None:
        """The format to put back on a marked cell now in format `current`.

        `before` (the index recorded last run) is used when it still is `current` without the red
        fill; otherwise `current` gets the recorded `fill` back (an existing equal format is reused).
        """
        if not self.is_marked(current):
            return current
        assert current is not None
        b = 0 if before is None else before        # no s attribute = format 0
        if 0 <= b < len(self.xfs) and not self.is_marked(b) and fill in (UNKNOWN_FILL, self.fill_of(b)) \
                and self._plain_xf(self.xfs[b]) == self._plain_xf(self.xfs[current]):
            return before
        target = self._find_fill(fill)
        base = self.xfs[current]
        head_end = base.index(b">") + 1
        head = set_attr(base[:head_end], b"fillId", str(target).encode())
        head = set_attr(head, b"applyFill", b"1" if target else None)
        raw = head + base[head_end:]
        hit = self._plain_index().get(self._plain_xf(raw, keep_fill=True))
        if hit is not None:
            return hit
        return self._append_xf(raw)

    def _plain_xf(self, raw: bytes, keep_fill: bool = False) -> bytes:
        """A format with applyFill (and, unless `keep_fill`, fillId) left out: what compares two formats."""
        head_end = raw.index(b">") + 1
        head = _APPLY_FILL.sub(b"", raw[:head_end])
        if not keep_fill:
            head = _FILL_ID.sub(b"", head)
        elif get_attr(head, _FILL_ID) is None:
            head = set_attr(head, b"fillId", b"0")
        return head + raw[head_end:]

    def _plain_index(self) -> dict[bytes, int]:
        if self._plain is None:
            self._plain = {}
            for i in range(len(self.xfs) - 1, -1, -1):
                self._plain[self._plain_xf(self.xfs[i], keep_fill=True)] = i
        return self._plain

    def _find_fill(self, fill: str) -> int:
        """Index of a fill with this description ("" none -> the no-fill entry), appended when missing."""
        if fill == UNKNOWN_FILL:
            fill = ""
        for i in range(len(self.fills)):
            if self._fill_desc(i) == fill and (fill or i != 1):     # fills[1] is gray125 by convention
                return i
        if not fill:
            return 0
        p = self.p
        self.fills.append(b"<" + p + b'fill><' + p + b'patternFill patternType="solid"><' + p + b'fgColor rgb="FF'
                          + fill[1:].encode() + b'"/><' + p + b'bgColor indexed="64"/></' + p + b"patternFill></"
                          + p + b"fill>")
        return len(self.fills) - 1

    def _append_xf(self, raw: bytes) -> int:
        if len(self.xfs) >= MAX_XFS:
            raise InputError("工作簿的单元格格式已达 Excel 上限，无法再添加标记格式",
                             "The workbook has reached Excel's cell-format limit; cannot add mark formats")
        self.xfs.append(raw)
        idx = len(self.xfs) - 1
        self.xf_index[raw] = idx
        if self._plain is not None:
            self._plain.setdefault(self._plain_xf(raw, keep_fill=True), idx)
        return idx

    # ---- pddbatch's own fill ------------------------------------------------------------------------

    def mark_fill(self) -> int:
        if self.fill_id is None:
            p = self.p
            fill = (b"<" + p + b'fill><' + p + b'patternFill patternType="solid"><' + p + b'fgColor rgb="'
                    + MARK_ARGB + b'"/><' + p + b'bgColor indexed="64"/></' + p + b"patternFill></" + p + b"fill>")
            found = [i for i in range(len(self.fills)) if is_mark_rgb(self._fill_desc(i))]
            if fill in self.fills:
                self.fill_id = self.fills.index(fill)
            elif found:       # an editor rewrote pddbatch's fill in its own spelling: reuse it
                self.fill_id = found[0]
            else:
                self.fills.append(fill)
                self.fill_id = len(self.fills) - 1
        return self.fill_id

    def mark_style(self, orig: int | None) -> int:
        """Index of a cell format equal to `orig` (None = default) but with the red fill."""
        hit = self.cache.get(orig)
        if hit is not None:
            return hit
        base = self.xfs[orig] if orig is not None and 0 <= orig < len(self.xfs) else self.xfs[0]
        head_end = base.index(b">") + 1
        head = base[:head_end]
        fill = str(self.mark_fill()).encode()
        new_head = set_attr(set_attr(head, b"fillId", fill), b"applyFill", b"1")
        raw = new_head + base[head_end:]
        idx = self.xf_index.get(raw)
        if idx is None:
            idx = self._append_xf(raw)
        self.cache[orig] = idx
        return idx

    def render(self) -> bytes:
        if len(self.fills) == self.n_fills and len(self.xfs) == self.n_xfs:
            return self.original
        xml = self.original
        assert self.fills_m is not None and self.xfs_m is not None
        # cellXfs comes after fills in styles.xml: patch it first so the fills offsets stay valid
        spans = [(self.xfs_m, self.xfs), (self.fills_m, self.fills)]
        spans.sort(key=lambda t: -t[0].start())
        for m, items in spans:
            open_tag = xml[m.start():m.start(1)]
            open_tag = set_attr(open_tag, b"count", str(len(items)).encode())
            xml = xml[:m.start()] + open_tag + b"".join(items) + xml[m.end(1):]
        return xml
