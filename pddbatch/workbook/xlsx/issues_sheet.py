"""The issues worksheet (问题清单): a small, self-contained worksheet part with inline strings."""

from __future__ import annotations

from pddbatch.model import IssuesSheet, col_letter
from pddbatch.workbook.xlsx.cellxml import value_xml
from pddbatch.workbook.xlsx.parts import MAIN_NS, REL_NS, XML_DECL

WIDTHS = (14, 9, 7, 16, 22, 70)


def issues_sheet_xml(sheet: IssuesSheet) -> bytes:
    """Header in row 1, one row per issue, header row frozen."""
    width = max([len(sheet.header)] + [len(r) for r in sheet.rows])
    n = len(sheet.rows) + 1
    out = [XML_DECL.encode(),
           f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
           f'<dimension ref="A1:{col_letter(max(width, 1))}{n}"/>'
           '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
           ' state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>'.encode()]
    for i in range(max(width, 1)):
        w = WIDTHS[i] if i < len(WIDTHS) else 14
        out.append(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'.encode())
    out.append(b"</cols><sheetData>")
    for r, row in enumerate([sheet.header, *sheet.rows], start=1):
        out.append(b'<row r="%d">' % r)
        for c, value in enumerate(row, start=1):
            out.append(value_xml(b"", f"{col_letter(c)}{r}", None, value))
        out.append(b"</row>")
    out.append(b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
               b' footer="0.3"/></worksheet>')
    return b"".join(out)
