"""A tiny hand-rolled .xlsx writer for the hostile corpus: every part is plain text we can tamper with.

xlsxwriter writes well-formed packages only; the corpus needs DOCTYPEs in any part, missing parts,
wrong content types and raw cell types, so this writes the package itself with `zipfile`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass(frozen=True)
class Formula:
    """A formula cell with a cached value (what Excel stores)."""

    text: str
    cached: str | float = ""


@dataclass(frozen=True)
class Err:
    """An error value cell such as #N/A."""

    code: str


@dataclass(frozen=True)
class Raw:
    """A cell written verbatim as `<c r=".." ...>` inner XML (for entity references)."""

    attrs: str
    inner: str


Cell = str | int | float | bool | None | Formula | Err | Raw


@dataclass
class SheetSpec:
    name: str
    rows: Sequence[Sequence[Cell]]
    state: str = "visible"                    # visible | hidden | veryHidden
    hidden_rows: frozenset[int] = frozenset()  # 1-based
    merges: tuple[str, ...] = ()
    comment: str | None = None                # text of a comment on A1


@dataclass
class Package:
    """Parts of a package by name; `tamper` edits a part's text before it is zipped."""

    parts: dict[str, str] = field(default_factory=dict)

    def tamper(self, name: str, fn: Callable[[str], str]) -> None:
        self.parts[name] = fn(self.parts[name])

    def write(self, path: Path, order: Sequence[str] | None = None) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in order or list(self.parts):
                if name in self.parts:
                    zf.writestr(name, self.parts[name].encode("utf-8"))


def col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def package(sheets: Sequence[SheetSpec], *, shared: bool = True) -> Package:
    """Build every part of a minimal, valid workbook (strings shared unless `shared=False`)."""
    strings: list[str] = []
    index: dict[str, int] = {}
    pkg = Package()
    overrides = [("/xl/workbook.xml", CT + "sheet.main+xml"), ("/xl/styles.xml", CT + "styles+xml")]
    wb_rels = []
    sheet_entries = []
    for n, spec in enumerate(sheets, start=1):
        xml = [DECL, f'<worksheet xmlns="{MAIN}" xmlns:r="{RNS}"><sheetData>']
        for r, row in enumerate(spec.rows, start=1):
            hidden = ' hidden="1"' if r in spec.hidden_rows else ""
            xml.append(f'<row r="{r}"{hidden}>')
            for c, v in enumerate(row):
                ref = f"{col_letter(c)}{r}"
                xml.append(_cell(ref, v, strings, index, shared))
            xml.append("</row>")
        xml.append("</sheetData>")
        if spec.merges:
            xml.append(f'<mergeCells count="{len(spec.merges)}">'
                       + "".join(f'<mergeCell ref="{m}"/>' for m in spec.merges) + "</mergeCells>")
        if spec.comment is not None:
            xml.append('<legacyDrawing r:id="rId2"/>')
        xml.append("</worksheet>")
        part = f"xl/worksheets/sheet{n}.xml"
        pkg.parts[part] = "".join(xml)
        overrides.append((f"/{part}", CT + "worksheet+xml"))
        wb_rels.append(f'<Relationship Id="rId{n}" Type="{RT}worksheet" Target="worksheets/sheet{n}.xml"/>')
        state = "" if spec.state == "visible" else f' state="{spec.state}"'
        sheet_entries.append(f'<sheet name={quoteattr(spec.name)} sheetId="{n}"{state} r:id="rId{n}"/>')
        if spec.comment is not None:
            pkg.parts[f"xl/comments{n}.xml"] = (
                DECL + f'<comments xmlns="{MAIN}"><authors><author>x</author></authors><commentList>'
                f'<comment ref="A1" authorId="0"><text><t>{escape(spec.comment)}</t></text></comment>'
                "</commentList></comments>")
            pkg.parts[f"xl/drawings/vmlDrawing{n}.vml"] = (
                '<xml xmlns:v="urn:schemas-microsoft-com:vml"><v:shape id="_x0000_s1025"/></xml>')
            pkg.parts[f"xl/worksheets/_rels/sheet{n}.xml.rels"] = (
                DECL + f'<Relationships xmlns="{PKG}">'
                f'<Relationship Id="rId1" Type="{RT}comments" Target="../comments{n}.xml"/>'
                f'<Relationship Id="rId2" Type="{RT}vmlDrawing" Target="../drawings/vmlDrawing{n}.vml"/>'
                "</Relationships>")
            overrides.append((f"/xl/comments{n}.xml", CT + "comments+xml"))
    k = len(sheets) + 1
    wb_rels.append(f'<Relationship Id="rId{k}" Type="{RT}styles" Target="styles.xml"/>')
    if shared:
        wb_rels.append(f'<Relationship Id="rId{k + 1}" Type="{RT}sharedStrings" Target="sharedStrings.xml"/>')
        overrides.append(("/xl/sharedStrings.xml", CT + "sharedStrings+xml"))
        pkg.parts["xl/sharedStrings.xml"] = (
            DECL + f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'
            + "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings) + "</sst>")
    pkg.parts["xl/workbook.xml"] = (DECL + f'<workbook xmlns="{MAIN}" xmlns:r="{RNS}"><sheets>'
                                    + "".join(sheet_entries) + "</sheets></workbook>")
    pkg.parts["xl/_rels/workbook.xml.rels"] = DECL + f'<Relationships xmlns="{PKG}">' + "".join(wb_rels) \
        + "</Relationships>"
    pkg.parts["xl/styles.xml"] = (
        DECL + f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
        '</numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
        '</fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
        '<cellXfs count="2"><xf/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>')
    pkg.parts["_rels/.rels"] = (
        DECL + f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{RT}officeDocument" '
        'Target="xl/workbook.xml"/><Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
        'Target="docProps/core.xml"/></Relationships>')
    pkg.parts["docProps/core.xml"] = (
        DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>corpus</dc:creator>'
        "</cp:coreProperties>")
    ct = [DECL, '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">',
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
          '<Default Extension="xml" ContentType="application/xml"/>',
          '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>',
          '<Override PartName="/docProps/core.xml" '
          'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>']
    ct += [f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides]
    ct.append("</Types>")
    pkg.parts["[Content_Types].xml"] = "".join(ct)
    # [Content_Types].xml first, as Excel writes it
    pkg.parts = {"[Content_Types].xml": pkg.parts.pop("[Content_Types].xml"), **pkg.parts}
    return pkg


def _cell(ref: str, v: Cell, strings: list[str], index: dict[str, int], shared: bool) -> str:
    if v is None:
        return ""
    if isinstance(v, Raw):
        return f'<c r="{ref}"{v.attrs}>{v.inner}</c>'
    if isinstance(v, Formula):
        if isinstance(v.cached, str):
            return f'<c r="{ref}" t="str"><f>{escape(v.text)}</f><v>{escape(v.cached)}</v></c>'
        return f'<c r="{ref}"><f>{escape(v.text)}</f><v>{v.cached!r}</v></c>'
    if isinstance(v, Err):
        return f'<c r="{ref}" t="e"><v>{escape(v.code)}</v></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, int | float):
        return f'<c r="{ref}"><v>{v!r}</v></c>'
    if not shared:
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(v)}</t></is></c>'
    if v not in index:
        index[v] = len(strings)
        strings.append(v)
    return f'<c r="{ref}" t="s"><v>{index[v]}</v></c>'
