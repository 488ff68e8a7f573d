"""Package-level helpers for the patcher: relationships, content types, part names, XML text.

Small parts are edited as text (so every byte we do not mean to change stays as it was) and are
parsed, where parsing is needed, through defusedxml only.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import Any

import defusedxml.ElementTree as DET

from pddbatch.errors import InputError

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
RT_WORKSHEET = RT + "worksheet"
RT_CHARTSHEET = RT + "chartsheet"
RT_COMMENTS = RT + "comments"
RT_VML = RT + "vmlDrawing"
RT_STYLES = RT + "styles"
RT_CUSTOM_XML = RT + "customXml"
RT_THREADED = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(text: str) -> str:
    """Escape text for element content (control characters XML cannot hold are dropped)."""
    text = _BAD_XML_CHARS.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(text: str) -> str:
    return esc(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def parse_xml(data: bytes, what: str) -> Any:
    """Parse a small part with defusedxml: entities and external references are refused."""
    try:
        return DET.fromstring(data, forbid_dtd=True)
    except Exception as exc:
        raise InputError(f"工作簿部件 {what} 无法安全解析（{type(exc).__name__}），已停止写回",
                         f"Workbook part {what} cannot be parsed safely ({type(exc).__name__}); "
                         "write-back stopped") from exc


@dataclass(frozen=True, slots=True)
class Dialect:
    """The namespaces a package uses: transitional OOXML (what Excel saves by default) or ISO Strict
    (Excel's "Strict Open XML" save). Parts pddbatch adds are written in the package's own dialect."""

    main: str
    rel: str

    @property
    def strict(self) -> bool:
        return self.main == STRICT_NS

    def rel_type(self, rel_type: str) -> str:
        """A (transitional) relationship type as this package spells it."""
        return STRICT_REL_NS + "/" + rel_type[len(RT):] if self.strict and rel_type.startswith(RT) else rel_type


TRANSITIONAL = Dialect(MAIN_NS, REL_NS)
STRICT = Dialect(STRICT_NS, STRICT_REL_NS)


def check_ns(root: Any, what: str) -> Dialect:
    """The dialect of a workbook part's root element; InputError for a namespace we do not know."""
    if root.tag.startswith("{" + STRICT_NS):
        return STRICT
    if root.tag.startswith("{" + MAIN_NS):
        return TRANSITIONAL
    raise InputError(f"工作簿部件 {what} 使用了无法识别的命名空间，已停止写回",
                     f"Workbook part {what} uses an unknown namespace; write-back stopped")


def norm_type(rel_type: str) -> str:
    """Strict relationship types read as their transitional twins, so one comparison serves both."""
    if rel_type.startswith(STRICT_REL_NS + "/"):
        return RT + rel_type[len(STRICT_REL_NS) + 1:]
    return rel_type


@dataclass(frozen=True, slots=True)
class Rel:
    id: str
    type: str
    target: str        # resolved part name without leading '/', e.g. xl/worksheets/sheet1.xml
    external: bool


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    folder = posixpath.dirname(source_part)
    return posixpath.normpath(posixpath.join(folder, target))


def relative(source_part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(source_part) or ".")


def read_rels(zf: zipfile.ZipFile, part: str) -> list[Rel]:
    name = rels_name(part)
    if name not in zf.NameToInfo:
        return []
    root = parse_xml(zf.read(name), name)
    out: list[Rel] = []
    for el in root:
        if not el.tag.endswith("Relationship"):
            continue
        external = el.get("TargetMode") == "External"
        target = el.get("Target", "")
        out.append(Rel(el.get("Id", ""), norm_type(el.get("Type", "")),
                       target if external else resolve(part, target), external))
    return out


def add_rel(rels_xml: bytes | None, rel_id: str, rel_type: str, target: str) -> bytes:
    """Append one relationship to a .rels part (creating the part when it does not exist)."""
    entry = f'<Relationship Id="{rel_id}" Type="{rel_type}" Target="{esc_attr(target)}"/>'
    if rels_xml is None:
        return (XML_DECL + f'<Relationships xmlns="{PKG_REL_NS}">{entry}</Relationships>').encode()
    text = rels_xml.decode("utf-8")
    m = re.search(r"<Relationships\b[^>]*/>", text)
    if m:
        open_tag = m.group(0)[:-2] + ">"
        return (text[:m.start()] + open_tag + entry + "</Relationships>" + text[m.end():]).encode()
    idx = text.rfind("</Relationships>")
    if idx < 0:
        raise InputError("关系部件格式异常，已停止写回", "Malformed relationships part; write-back stopped")
    return (text[:idx] + entry + text[idx:]).encode()


def new_rel_id(rels: list[Rel]) -> str:
    used = {r.id for r in rels}
    n = len(rels) + 1
    while f"rId{n}" in used:
        n += 1
    return f"rId{n}"


def free_part(names: set[str], pattern: str) -> str:
    """First unused part name for a pattern with one `{}` (e.g. 'xl/comments{}.xml')."""
    n = 1
    while pattern.format(n) in names:
        n += 1
    return pattern.format(n)


def add_content_type(ct_xml: bytes, *, override: tuple[str, str] | None = None,
                     default: tuple[str, str] | None = None) -> bytes:
    """Add an Override (part, type) or a Default (extension, type) unless one is already there."""
    text = ct_xml.decode("utf-8")
    if override is not None:
        part, ctype = override
        if re.search(rf'PartName="/{re.escape(part)}"', text):
            return ct_xml
        entry = f'<Override PartName="/{esc_attr(part)}" ContentType="{ctype}"/>'
    elif default is not None:
        ext, ctype = default
        if re.search(rf'<Default\b[^>]*Extension="{re.escape(ext)}"', text, re.I):
            return ct_xml
        entry = f'<Default Extension="{ext}" ContentType="{ctype}"/>'
    else:
        return ct_xml
    idx = text.rfind("</Types>")
    if idx < 0:
        raise InputError("[Content_Types].xml 格式异常", "Malformed [Content_Types].xml")
    return (text[:idx] + entry + text[idx:]).encode()


def xml_prefix(text: bytes, local: bytes, ns: str = MAIN_NS) -> bytes:
    """The prefix (b'' or b'x:') a part uses for `local` elements of the SpreadsheetML namespace."""
    m = re.search(rb"<([A-Za-z_][\w.-]*:)?" + local + rb"[\s/>]", text)
    if m is None:
        return b""
    prefix = m.group(1) or b""
    if prefix:
        decl = b"xmlns:" + prefix[:-1] + b'="'
        if decl + ns.encode() + b'"' not in text and decl + STRICT_NS.encode() + b'"' not in text:
            raise InputError("工作表使用了无法识别的命名空间，已停止写回",
                             "Sheet uses an unrecognised namespace; write-back stopped")
    return prefix
