"""styles.xml: find or append the light red fill and the "original style + red fill" cell formats.

Existing fills and formats are never changed or reordered, so every style index in the workbook
keeps its meaning. Entries are reused when already present, which keeps reruns byte-identical.
"""

from __future__ import annotations

import re

from pddbatch.errors import InputError
from pddbatch.workbook.xlsx.cellxml import set_attr
from pddbatch.workbook.xlsx.parts import xml_prefix

MARK_RGB = b"FFFFC7CE"          # Excel's own "light red fill"
MAX_XFS = 64000


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

    def mark_fill(self) -> int:
        if self.fill_id is None:
            p = self.p
            fill = (b"<" + p + b'fill><' + p + b'patternFill patternType="solid"><' + p + b'fgColor rgb="'
                    + MARK_RGB + b'"/><' + p + b'bgColor indexed="64"/></' + p + b"patternFill></" + p + b"fill>")
            if fill in self.fills:
                self.fill_id = self.fills.index(fill)
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
            if len(self.xfs) >= MAX_XFS:
                raise InputError("工作簿的单元格格式已达 Excel 上限，无法再添加标记格式",
                                 "The workbook has reached Excel's cell-format limit; cannot add mark formats")
            self.xfs.append(raw)
            idx = len(self.xfs) - 1
            self.xf_index[raw] = idx
        self.cache[orig] = idx
        return idx

    def is_mark_style(self, idx: int) -> bool:
        """True when format `idx` carries pddbatch's red fill."""
        if not 0 <= idx < len(self.xfs) or self.fill_id is None:
            return False
        return f'fillId="{self.fill_id}"'.encode() in self.xfs[idx][: self.xfs[idx].index(b">")]

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
