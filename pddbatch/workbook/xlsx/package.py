"""An .xlsx package as the patcher sees it: its members, the ones replaced, added and removed, and
where the workbook, the target sheet and the styles live; adding a sheet, dropping a part."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

from pddbatch.errors import InputError
from pddbatch.workbook.xlsx.parts import (
    CT_WORKSHEET,
    RT,
    RT_CHARTSHEET,
    RT_STYLES,
    RT_WORKSHEET,
    TRANSITIONAL,
    Dialect,
    Rel,
    add_content_type,
    add_rel,
    check_ns,
    esc_attr,
    free_part,
    new_rel_id,
    norm_type,
    parse_xml,
    read_rels,
    relative,
    rels_name,
    resolve,
)

OFFICE_DOC = RT + "officeDocument"


class Package:
    """Reads the package structure and collects replaced / added / removed members."""

    def __init__(self, zin: zipfile.ZipFile) -> None:
        self.zin = zin
        self.names = set(zin.NameToInfo)
        self.replaced: dict[str, bytes] = {}
        self.added: dict[str, bytes] = {}
        self.removed: set[str] = set()
        self.dialect = TRANSITIONAL
        for info in zin.infolist():
            if info.flag_bits & 0x1:
                raise InputError("工作簿内含加密部件，无法写回", "The workbook has encrypted parts; cannot write back")
        if "[Content_Types].xml" not in self.names:
            raise InputError("不是 Excel 工作簿（缺少 [Content_Types].xml）", "Not an Excel workbook")

    def read(self, name: str) -> bytes:
        if name in self.replaced:
            return self.replaced[name]
        if name in self.added:
            return self.added[name]
        return self.zin.read(name)

    def exists(self, name: str) -> bool:
        return (name in self.names and name not in self.removed) or name in self.added

    def put(self, name: str, data: bytes) -> None:
        if name in self.names:
            if data != self.zin.read(name):
                self.replaced[name] = data
            else:
                self.replaced.pop(name, None)
        else:
            self.added[name] = data

    def rels(self, part: str) -> list[Rel]:
        rn = rels_name(part)
        if rn in self.added or rn in self.replaced:
            root = parse_xml(self.read(rn), rn)
            return [Rel(e.get("Id", ""), norm_type(e.get("Type", "")),
                        e.get("Target", "") if e.get("TargetMode") == "External" else resolve(part, e.get("Target", "")),
                        e.get("TargetMode") == "External") for e in root]
        return read_rels(self.zin, part)

    def link(self, source: str, rel_type: str, target: str) -> str:
        rels = self.rels(source)
        rid = new_rel_id(rels)
        rn = rels_name(source)
        self.put(rn, add_rel(self.read(rn) if self.exists(rn) else None, rid, self.dialect.rel_type(rel_type),
                             relative(source, target)))
        return rid

    def content_type(self, *, override: tuple[str, str] | None = None,
                     default: tuple[str, str] | None = None) -> None:
        name = "[Content_Types].xml"
        self.put(name, add_content_type(self.read(name), override=override, default=default))

    def all_names(self) -> set[str]:
        return (self.names - self.removed) | set(self.added)


@dataclass(frozen=True)
class Located:
    wb_part: str
    wb_rels: list[Rel]
    sheets: dict[str, Rel]
    sheet_ids: list[int]
    sheet_part: str
    styles_part: str


@dataclass(frozen=True)
class WorkbookSheets:
    wb_part: str
    dialect: Dialect
    wb_rels: list[Rel]
    sheets: dict[str, Rel]          # name -> its relationship (target part, worksheet or chartsheet)
    sheet_ids: list[int]


def workbook_sheets(zin: zipfile.ZipFile) -> WorkbookSheets:
    """The workbook part and its sheets by name: InputError when there is no sound workbook part."""
    wb_part = next((r.target for r in read_rels(zin, "") if r.type == OFFICE_DOC), "xl/workbook.xml")
    if wb_part not in zin.NameToInfo:
        raise InputError("工作簿缺少 workbook 部件", "The package has no workbook part")
    wb_root = parse_xml(zin.read(wb_part), wb_part)
    dialect = check_ns(wb_root, wb_part)
    wb_rels = read_rels(zin, wb_part)
    by_id = {r.id: r for r in wb_rels}
    sheets: dict[str, Rel] = {}
    sheet_ids: list[int] = []
    for el in wb_root.iter(f"{{{dialect.main}}}sheet"):
        rel = by_id.get(el.get(f"{{{dialect.rel}}}id", ""))
        if rel is not None:
            sheets[el.get("name", "")] = rel
        sid = el.get("sheetId", "0")
        sheet_ids.append(int(sid) if sid.isdigit() else 0)
    return WorkbookSheets(wb_part, dialect, wb_rels, sheets, sheet_ids)


def locate(zin: zipfile.ZipFile, pkg: Package, sheet: str) -> Located:
    """The workbook part, the target sheet and the styles: InputError when any is missing or wrong."""
    book = workbook_sheets(zin)
    pkg.dialect = book.dialect
    wb_part, wb_rels, sheets, sheet_ids = book.wb_part, book.wb_rels, book.sheets, book.sheet_ids
    target = sheets.get(sheet)
    if target is None:
        raise InputError(f"工作簿中没有工作表“{sheet}”", f"No sheet named '{sheet}' in the workbook")
    if target.type == RT_CHARTSHEET or target.type != RT_WORKSHEET:
        raise InputError(f"“{sheet}”是图表工作表，无法写回", f"'{sheet}' is a chart sheet")
    sheet_part = target.target
    if sheet_part not in pkg.names:
        raise InputError("工作表部件缺失", "The sheet part is missing")
    styles_part = next((r.target for r in wb_rels if r.type == RT_STYLES), None)
    if styles_part is None or styles_part not in pkg.names:
        raise InputError("工作簿缺少样式部件 styles.xml，无法安全写回", "The workbook has no styles part")
    return Located(wb_part, wb_rels, sheets, sheet_ids, sheet_part, styles_part)


def put_sheet(pkg: Package, wb_part: str, sheets: dict[str, Rel], sheet_ids: list[int], name: str, xml: bytes,
               *, hidden: bool = False) -> None:
    """Write sheet `name`'s part: over its existing worksheet part, or as a new part listed in the workbook."""
    existing = sheets.get(name)
    if existing is not None and existing.type == RT_WORKSHEET and existing.target in pkg.names:
        pkg.put(existing.target, xml)
        return
    part = free_part(pkg.all_names(), "xl/worksheets/sheet{}.xml")
    pkg.put(part, xml)
    rid = pkg.link(wb_part, RT_WORKSHEET, part)
    pkg.content_type(override=(part, CT_WORKSHEET))
    sheet_ids.append(max(sheet_ids, default=0) + 1)
    add_sheet_entry(pkg, wb_part, name, sheet_ids[-1], rid, hidden=hidden)


def add_sheet_entry(pkg: Package, wb_part: str, name: str, sheet_id: int, rid: str, *,
                     hidden: bool = False) -> None:
    text = pkg.read(wb_part)
    m = re.search(rb"</([\w.-]+:)?sheets>", text)
    if m is None:
        raise InputError("workbook.xml 格式异常", "Malformed workbook.xml")
    p = m.group(1) or b""
    state = b' state="hidden"' if hidden else b""
    entry = (b"<" + p + b'sheet xmlns:r="' + pkg.dialect.rel.encode() + b'" name="' + esc_attr(name).encode()
             + b'" sheetId="%d"' % sheet_id + state + b' r:id="' + rid.encode() + b'"/>')
    pkg.put(wb_part, text[:m.start()] + entry + text[m.start():])


def drop_calc_chain(pkg: Package, wb_part: str, wb_rels: list[Rel]) -> None:
    """A formula pddbatch overwrote may be listed in calcChain.xml; Excel rebuilds the chain."""
    for r in wb_rels:
        if r.type.endswith("/calcChain") and r.target in pkg.names:
            drop_part(pkg, wb_part, r)


def drop_part(pkg: Package, source: str, rel: Rel) -> None:
    """Remove a part with its relationship from `source`, its content type and the parts it relates
    to (an older pddbatch's record: customXml item + itemProps)."""
    for sub in pkg.rels(rel.target):
        if not sub.external and sub.target in pkg.names:
            pkg.removed.add(sub.target)
            drop_override(pkg, sub.target)
    if rels_name(rel.target) in pkg.names:
        pkg.removed.add(rels_name(rel.target))
    pkg.removed.add(rel.target)
    rn = rels_name(source)
    text = pkg.read(rn)
    text = re.sub(rb'<Relationship\b[^>]*\sId="' + re.escape(rel.id.encode()) + rb'"[^>]*/>', b"", text)
    pkg.put(rn, text)
    drop_override(pkg, rel.target)


def drop_override(pkg: Package, part: str) -> None:
    ct = pkg.read("[Content_Types].xml")
    ct = re.sub(rb'<Override\b[^>]*PartName="/' + re.escape(part.encode()) + rb'"[^>]*/>', b"", ct)
    pkg.put("[Content_Types].xml", ct)
