"""The record an older pddbatch kept in the workbook as a custom XML part (customXml/itemN.xml).

Read only, to undo that version's marks once: the patcher converts it into the shared mark record
(`workbook.marks`, the hidden `_pddbatch` sheet) and removes the part. LibreOffice and openpyxl
drop custom XML parts and the live Excel book cannot read them, which is why the record moved.
"""

from __future__ import annotations

from dataclasses import dataclass

from pddbatch.model import a1
from pddbatch.workbook.xlsx.cellxml import split_ref
from pddbatch.workbook.xlsx.parts import XML_DECL, esc, esc_attr, parse_xml

RECORD_NS = "urn:pddbatch:writeback:1"
ITEM_PROPS = (XML_DECL + '<ds:datastoreItem ds:itemID="{6A1F3C52-0B7E-4D2A-9C61-5E8D0F2B7A43}" '
              'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml">'
              "<ds:schemaRefs/></ds:datastoreItem>").encode()

Cell = tuple[int, int]


@dataclass(frozen=True, slots=True)
class MarkEntry:
    orig_style: int | None
    mark_style: int
    note: str               # "added" | "replaced" | "none"
    orig_comment: bytes = b""


def is_record(xml: bytes) -> bool:
    return RECORD_NS.encode() in xml[:400]


def parse_record(xml: bytes) -> dict[str, dict[Cell, MarkEntry]]:
    root = parse_xml(xml, "customXml record")
    out: dict[str, dict[Cell, MarkEntry]] = {}
    ns = "{" + RECORD_NS + "}"
    for sheet in root.findall(ns + "sheet"):
        marks: dict[Cell, MarkEntry] = {}
        for m in sheet.findall(ns + "m"):
            cell = split_ref(m.get("r", "").encode())
            ms = m.get("ms", "")
            if cell is None or not ms.isdigit():
                continue
            s = m.get("s")
            marks[cell] = MarkEntry(int(s) if s and s.isdigit() else None, int(ms), m.get("note", "none"),
                                    (m.text or "").encode("utf-8"))
        out[sheet.get("name", "")] = marks
    return out


def render_record(sheets: dict[str, dict[Cell, MarkEntry]]) -> bytes:
    parts = [XML_DECL, f'<pddbatch xmlns="{RECORD_NS}" version="1">']
    for name in sorted(sheets):
        marks = sheets[name]
        if not marks:
            continue
        parts.append(f'<sheet name="{esc_attr(name)}">')
        for cell in sorted(marks):
            e = marks[cell]
            s = f' s="{e.orig_style}"' if e.orig_style is not None else ""
            body = esc(e.orig_comment.decode("utf-8")) if e.orig_comment else ""
            parts.append(f'<m r="{a1(*cell)}"{s} ms="{e.mark_style}" note="{e.note}">{body}</m>'
                         if body else f'<m r="{a1(*cell)}"{s} ms="{e.mark_style}" note="{e.note}"/>')
        parts.append("</sheet>")
    parts.append("</pddbatch>")
    return "".join(parts).encode("utf-8")
