"""manifest.xlsx and pdd-bulk-ship.xlsx, streamed by a small writer of our own (text stays text).

Why not xlsxwriter (a dependency anyway, used for the reconciliation workbook): measured on 100,000
parcels, CPU seconds, best of 3, the same cells and formats, xlsxwriter in constant_memory mode with
every string conversion off (2026-11-30, 2-core development machine):

    manifest.xlsx (2 carrier sheets + 拣货单)   ours 0.90 s   xlsxwriter 3.41 s
    pdd-bulk-ship.xlsx (100,000 x 3)            ours 0.34 s   xlsxwriter 2.00 s

xlsxwriter would add ~4 CPU-seconds to a 100,000-order run (a per-cell method call, type dispatch
and row bookkeeping, and zlib level 6 instead of 1); the files it writes are ~15% smaller.

Every string is an inline string cell (t="inlineStr"), never a formula, URL or number, so
`=HYPERLINK(...)` or `+86...` stays literal text; control characters are stored as Excel's _xHHHH_
escapes, cells cut at Excel's 32,767 UTF-16 units; styles and column widths as xlsxwriter would write
them. tests/render/test_fast_writers.py reads the files back with openpyxl and calamine.
"""

from __future__ import annotations

import re
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from xlsxwriter.theme import THEME_XML_2007

from pddbatch.clock import CHINA, china_now
from pddbatch.deflate import fast_member
from pddbatch.model import Parcel
from pddbatch.render.atomic import atomic_path
from pddbatch.render.tables import PickRow, bulk_ship_rows, manifest_rows, text

MAX_CELL = 32767                    # UTF-16 units Excel keeps in one cell
BOLD, HEAD = ' s="1"', ' s="2"'     # cellXfs below: 0 normal, 1 bold, 2 header (bold, fill, border)
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_ESC_1 = re.compile("(_x[0-9a-fA-F]{4}_)")
_ESC_2 = re.compile(r"([\x00-\x08\x0b-\x1f])")
_WS = re.compile(r"^\s|\s$")
_PLAIN_STYLES = (
    f'<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    '<family val="2"/><scheme val="minor"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/>'
    '<top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
    'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles><dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>')
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}"><fonts count="2"><font><sz val="11"/><color theme="1"/><name val="Calibri"/>'
    '<family val="2"/><scheme val="minor"/></font><font><b/><sz val="11"/><color theme="1"/>'
    '<name val="Calibri"/><family val="2"/><scheme val="minor"/></font></fonts><fills count="3"><fill>'
    '<patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill>'
    '<patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>'
    '</fills><borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border><border>'
    '<left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/>'
    '</border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" '
    'applyBorder="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles><dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
    'defaultPivotStyle="PivotStyleLight16"/></styleSheet>')


def _excel_length(s: str) -> str:
    """Cut `s` to Excel's 32,767 UTF-16 units per cell, never inside a character (as xlsxwriter does)."""
    n = 0
    for i, ch in enumerate(s):
        n += 2 if ord(ch) > 0xFFFF else 1
        if n > MAX_CELL:
            return s[:i]
    return s


def _is(s: str) -> str:
    """The `<is>` body of an inline string cell: control chars as _xHHHH_, XML-escaped."""
    if len(s) > MAX_CELL // 2:
        s = _excel_length(s)
    if _SPECIAL.search(s) is None:
        return f"<is><t>{s}</t></is>"
    s = _ESC_2.sub(lambda m: f"_x{ord(m.group(1)):04X}_", _ESC_1.sub(r"_x005F\1", s))
    s = s.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if _WS.search(s) else ""
    return f"<is><t{space}>{_data(s)}</t></is>"


def _data(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(s: str) -> str:
    return _data(s).replace('"', "&quot;")


def str_cell(ref: str, s: str, style: str = "") -> str:
    return f'<c r="{ref}"{style} t="inlineStr">{_is(s)}</c>'


def num_cell(ref: str, n: int, style: str = "") -> str:
    return f'<c r="{ref}"{style}><v>{n:.16G}</v></c>'


def row_xml(r: int, cells: Iterable[str]) -> str:
    return f'<row r="{r}">{"".join(cells)}</row>'


def _col_width(width: float) -> str:
    """xlsxwriter's character width -> the stored width (7 px digits, 5 px padding, 1/256 steps)."""
    return f"{int(int(width * 7 + 5 + 0.5) / 7 * 256) / 256:.16G}"


class StreamedBook:
    """A workbook of simple sheets written straight into a zip (sheet XML streamed row chunks).

    Use it as a context manager: the package is finished when the block ends normally; when the block
    is left by an exception (a stop arriving mid-sheet) the half-written file is closed as it is — its
    temporary path is discarded by the caller — and the zip is not left to complain when collected.
    """

    def __init__(self, path: Path, styles: str = _STYLES, when: datetime | None = None) -> None:
        """`when` (China wall-clock time like every time here, or aware; default now) dates every part
        and the document properties, so a run's documents are the same bytes whoever writes them, whenever."""
        self.styles = styles
        when = (when or china_now()).replace(microsecond=0)
        self.when = when.astimezone(CHINA) if when.tzinfo else when.replace(tzinfo=CHINA)
        self._date_time = self.when.timetuple()[:6]       # zip dates are wall-clock: China's
        self._raw = open(path, "wb")  # noqa: SIM115 (closed by close()/abandon())
        self.zf = zipfile.ZipFile(self._raw, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.names: list[str] = []

    def __enter__(self) -> StreamedBook:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()

    def abandon(self) -> None:
        """Give up the unfinished package: close the file without a central directory."""
        self.zf.fp = None       # ZipFile.close() is a no-op from here (no "open writing handle" error)
        self._raw.close()

    def _member(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        if sys.version_info >= (3, 13):   # what ZipFile(compresslevel=1) gives a part named by string
            info.compress_level = 1
        else:
            info._compresslevel = 1     # type: ignore[attr-defined]  # (a slot typeshed leaves out)
        info.external_attr = 0o600 << 16
        return info

    def _put(self, name: str, data: str) -> None:
        self.zf.writestr(self._member(name), data.encode())

    def sheet(self, name: str, cols: Sequence[tuple[int, int, float]], last_row: int, last_col: str,
              rows: Iterable[str]) -> None:
        """One sheet; `rows` are complete <row> elements in order, `last_row`/`last_col` its extent."""
        self.names.append(name)
        n = len(self.names)
        col_xml = "".join(f'<col min="{a}" max="{b}" width="{_col_width(w)}" customWidth="1"/>'
                          for a, b, w in cols)
        selected = ' tabSelected="1"' if n == 1 else ""
        with fast_member(self.zf.open(self._member(f"xl/worksheets/sheet{n}.xml"), "w"), 1) as fh:
            fh.write((f'{_DECL}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="A1:{last_col}'
                      f'{last_row}"/><sheetViews><sheetView{selected} workbookViewId="0"/></sheetViews>'
                      f'<sheetFormatPr defaultRowHeight="15"/><cols>{col_xml}</cols><sheetData>')
                     .encode())
            chunk: list[str] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= 4096:
                    fh.write("".join(chunk).encode())
                    chunk.clear()
            fh.write("".join(chunk).encode())
            fh.write(b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
                     b'header="0.3" footer="0.3"/></worksheet>')

    def close(self) -> None:
        k = len(self.names)
        sheet_ct = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.'
                           f'spreadsheetml.worksheet+xml"/>' for i in range(1, k + 1))
        pkg = "application/vnd.openxmlformats-package"
        self._put("[Content_Types].xml", (
            f'{_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="{pkg}.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{_CT}.extended-properties+xml"/>'
            f'<Override PartName="/docProps/core.xml" ContentType="{pkg}.core-properties+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
            f'<Override PartName="/xl/theme/theme1.xml" ContentType="{_CT}.theme+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>'
            f'{sheet_ct}</Types>'))
        self._put("_rels/.rels", (
            f'{_DECL}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
            f'Target="xl/workbook.xml"/><Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" '
            f'Target="docProps/core.xml"/><Relationship Id="rId3" Type="{_REL}/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>'))
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, k + 1))
        self._put("xl/_rels/workbook.xml.rels", (
            f'{_DECL}<Relationships xmlns="{_PKG_REL}">{rels}<Relationship Id="rId{k + 1}" Type="{_REL}/theme" '
            f'Target="theme/theme1.xml"/><Relationship Id="rId{k + 2}" Type="{_REL}/styles" '
            'Target="styles.xml"/></Relationships>'))
        sheets = "".join(f'<sheet name="{_attr(s)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, s in enumerate(self.names, start=1))
        self._put("xl/workbook.xml", (
            f'{_DECL}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><fileVersion appName="xl" lastEdited="4" '
            'lowestEdited="4" rupBuild="4505"/><workbookPr defaultThemeVersion="124226"/><bookViews>'
            '<workbookView xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>'
            f'<sheets>{sheets}</sheets><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'))
        self._put("xl/styles.xml", _DECL + self.styles)
        self._put("xl/theme/theme1.xml", THEME_XML_2007)
        now = self.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._put("docProps/core.xml", (
            f'{_DECL}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy><dcterms:created '
            f'xsi:type="dcterms:W3CDTF">{now}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">'
            f'{now}</dcterms:modified></cp:coreProperties>'))
        titles = "".join(f"<vt:lpstr>{_data(s)}</vt:lpstr>" for s in self.names)
        self._put("docProps/app.xml", (
            f'{_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            '<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>'
            '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
            f'</vt:variant><vt:variant><vt:i4>{k}</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts>'
            f'<vt:vector size="{k}" baseType="lpstr">{titles}</vt:vector></TitlesOfParts><Company></Company>'
            '<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>'
            '<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>'))
        self.zf.close()
        self._raw.close()


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join("_" if c in "[]:*?/\\" else c for c in name)[:31] or "Sheet"
    out, k = base, 2
    while out.lower() in used:
        out = f"{base[:28]}_{k}"
        k += 1
    used.add(out.lower())
    return out


def _manifest_rows(parcels: Sequence[Parcel], t: dict[str, Any], printed_at: str,
                   counts: dict[str, int], code: str) -> Iterable[str]:
    name = parcels[0].carrier.pdd_name
    yield row_xml(1, [str_cell("A1", f"{name} {t['manifest']}", BOLD)])
    yield row_xml(2, [str_cell("A2", printed_at)])
    yield row_xml(3, [str_cell(f"{c}3", h, HEAD) for c, h in zip("ABCDEF", t["man_cols"], strict=True)])
    rows = manifest_rows(parcels)
    r, weights, pieces, weighed = 3, 0, 0, False
    for x in rows:
        r += 1
        w = x.weight_g
        if w is None:
            wc = ""
        else:
            wc = f'<c r="F{r}"><v>{w:.16G}</v></c>'
            weights += w
            weighed = True
        pieces += x.pieces
        yield (f'<row r="{r}"><c r="A{r}"><v>{x.seq:.16G}</v></c><c r="B{r}" t="inlineStr">{_is(x.tracking_no)}'
               f'</c><c r="C{r}" t="inlineStr">{_is(x.order_sns)}</c><c r="D{r}" t="inlineStr">{_is(x.city)}</c>'
               f'<c r="E{r}"><v>{x.pieces:.16G}</v></c>{wc}</row>')
    r += 1
    total = [str_cell(f"A{r}", t["total"], BOLD), str_cell(f"B{r}", f"{len(rows)} {t['parcels']}", BOLD),
             num_cell(f"E{r}", pieces, BOLD)]
    if weighed:
        total.append(num_cell(f"F{r}", weights, BOLD))
    yield row_xml(r, total)
    r += 1
    for label in t["handover"]:
        r += 1
        yield row_xml(r, [str_cell(f"A{r}", f"{label}：", BOLD)])
    counts[code] = len(rows)


def _pick_rows(picks: Sequence[PickRow], t: dict[str, Any]) -> Iterable[str]:
    yield row_xml(1, [str_cell(f"{c}1", h, HEAD) for c, h in zip("ABCDEF", t["pick_cols"], strict=True)])
    for i, p in enumerate(picks, start=1):
        r = i + 1
        yield (f'<row r="{r}"><c r="A{r}"><v>{i:.16G}</v></c><c r="B{r}" t="inlineStr">{_is(p.sku)}</c>'
               f'<c r="C{r}" t="inlineStr">{_is(p.product)}</c><c r="D{r}" t="inlineStr">{_is(p.spec)}</c>'
               f'<c r="E{r}"><v>{p.quantity:.16G}</v></c><c r="F{r}"><v>{p.orders:.16G}</v></c></row>')
    r = len(picks) + 2
    yield row_xml(r, [str_cell(f"A{r}", t["total"], BOLD), num_cell(f"E{r}", sum(p.quantity for p in picks), BOLD),
                   num_cell(f"F{r}", sum(p.orders for p in picks), BOLD)])


def write_manifest_xlsx(path: Path, by_carrier: Mapping[str, Sequence[Parcel]], picks: Sequence[PickRow],
                        lang: str = "zh", printed_at: str = "", when: datetime | None = None) -> dict[str, int]:
    """One sheet per carrier + the 拣货单 sheet; returns manifest rows per carrier code.
    `when` dates the package (the run's print time; default now)."""
    t: dict[str, Any] = text(lang)
    counts: dict[str, int] = {}
    used: set[str] = set()
    with atomic_path(path) as tmp, StreamedBook(tmp, when=when) as book:
        for code, parcels in by_carrier.items():
            last = len(parcels) + 3 + 2 + len(t["handover"])
            book.sheet(_sheet_name(f"{parcels[0].carrier.pdd_name}", used),
                       [(1, 1, 6), (2, 2, 20), (3, 3, 48), (4, 6, 11)], last, "F",
                       _manifest_rows(parcels, t, printed_at, counts, code))
        book.sheet(_sheet_name(str(t["picklist"]) if lang == "en" else "拣货单", used),
                   [(1, 1, 6), (2, 2, 18), (3, 3, 40), (4, 4, 20)], len(picks) + 2, "F", _pick_rows(picks, t))
    return counts


def write_bulk_ship_xlsx(path: Path, parcels: Sequence[Parcel], when: datetime | None = None) -> int:
    """PDD 批量发货 upload: 订单号 | 快递公司 | 快递单号, one row per order; returns the row count."""
    rows = bulk_ship_rows(parcels)

    def lines() -> Iterable[str]:
        yield row_xml(1, [str_cell(f"{c}1", h) for c, h in zip("ABC", ("订单号", "快递公司", "快递单号"), strict=True)])
        for r, (sn, name, tn) in enumerate(rows, start=2):
            yield (f'<row r="{r}"><c r="A{r}" t="inlineStr">{_is(sn)}</c><c r="B{r}" t="inlineStr">{_is(name)}'
                   f'</c><c r="C{r}" t="inlineStr">{_is(tn)}</c></row>')

    with atomic_path(path) as tmp, StreamedBook(tmp, _PLAIN_STYLES, when) as book:
        book.sheet("Sheet1", [(1, 1, 26), (2, 2, 14), (3, 3, 22)], len(rows) + 1, "C", lines())
    return len(rows)
