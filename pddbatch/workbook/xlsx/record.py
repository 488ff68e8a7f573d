"""The record an older pddbatch kept in the workbook as a custom XML part (customXml/itemN.xml).

Read only, to undo that version's marks once: the patcher converts it into the shared mark record
(`workbook.marks`, the hidden `_pddbatch` sheet) and removes the part. LibreOffice and openpyxl
drop custom XML parts and the live Excel book cannot read them, which is why the record moved.
"""

from __future__ import annotations

from dataclasses import dataclass

from pddbatch.workbook.xlsx.cellxml import split_ref
from pddbatch.workbook.xlsx.parts import parse_xml

RECORD_NS = "urn:pddbatch:writeback:1"

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
