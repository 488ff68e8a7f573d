"""The sheets pddbatch adds to a workbook: the issues list (问题清单) and its hidden mark record
(`_pddbatch`, see `workbook.marks`). Small, self-contained worksheet parts with inline strings."""

from __future__ import annotations

from collections.abc import Sequence

from pddbatch.model import CellValue, IssuesSheet, col_letter
from pddbatch.workbook.xlsx.cellxml import value_xml
from pddbatch.workbook.xlsx.parts import TRANSITIONAL, XML_DECL, Dialect

WIDTHS = (14, 9, 7, 16, 22, 70)
RECORD_WIDTHS = (14, 9, 10, 6, 6)


def issues_sheet_xml(sheet: IssuesSheet, dialect: Dialect = TRANSITIONAL) -> bytes:
    """Header in row 1, one row per issue, header row frozen."""
    return table_sheet_xml([sheet.header, *sheet.rows], WIDTHS, frozen=True, dialect=dialect)


def record_sheet_xml(rows: Sequence[Sequence[CellValue]], dialect: Dialect = TRANSITIONAL) -> bytes:
    """The mark record's rows (`MarkRecord.rows()`), as a plain sheet."""
    return table_sheet_xml(rows, RECORD_WIDTHS, frozen=False, dialect=dialect)


def table_sheet_xml(rows: Sequence[Sequence[CellValue]], widths: Sequence[int], *, frozen: bool,
                    dialect: Dialect = TRANSITIONAL) -> bytes:
    width = max([len(r) for r in rows] + [1])
    n = max(len(rows), 1)
    pane = ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' if frozen else "")
    out = [XML_DECL.encode(),
           f'<worksheet xmlns="{dialect.main}" xmlns:r="{dialect.rel}">'
           f'<dimension ref="A1:{col_letter(width)}{n}"/>'
           f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
           '<sheetFormatPr defaultRowHeight="15"/><cols>'.encode()]
    for i in range(width):
        w = widths[i] if i < len(widths) else 14
        out.append(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'.encode())
    out.append(b"</cols><sheetData>")
    for r, row in enumerate(rows, start=1):
        out.append(b'<row r="%d">' % r)
        for c, value in enumerate(row, start=1):
            out.append(value_xml(b"", f"{col_letter(c)}{r}", None, value))
        out.append(b"</row>")
    out.append(b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
               b' footer="0.3"/></worksheet>')
    return b"".join(out)
