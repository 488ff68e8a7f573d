"""Legacy notes (comments part + VML drawing) edited as text: the seller's own notes, shapes and
form controls in the same VML stay exactly as they were."""

from __future__ import annotations

import html
import re

from pddbatch.model import a1
from pddbatch.workbook.marks import NOTE_AUTHOR, is_mark_note, note_text
from pddbatch.workbook.xlsx.cellxml import split_ref
from pddbatch.workbook.xlsx.parts import MAIN_NS, XML_DECL, esc, xml_prefix

AUTHOR = NOTE_AUTHOR
_T = re.compile(rb"<(?:[\w.-]+:)?t\b[^>]*>(.*?)</(?:[\w.-]+:)?t>|<(?:[\w.-]+:)?t\b[^>]*/>", re.S)
_REF_ATTR = re.compile(rb'\sref\s*=\s*"([^"]*)"')
_AUTHOR_ATTR = re.compile(rb'\sauthorId\s*=\s*"(\d+)"')


class Comments:
    """The comments part of one sheet: authors and one raw <comment> per cell, in document order."""

    def __init__(self, xml: bytes | None, main_ns: str = MAIN_NS) -> None:
        self.original = xml
        if xml is None:
            xml = (XML_DECL + f'<comments xmlns="{main_ns}"><authors></authors><commentList>'
                   '</commentList></comments>').encode()
        p = self.p = xml_prefix(xml, b"comments")
        am = re.search(rb"<" + p + rb"authors\s*/>|<" + p + rb"authors\b[^>]*>(.*?)</" + p + rb"authors>",
                       xml, re.S)
        cm = re.search(rb"<" + p + rb"commentList\s*/>|<" + p + rb"commentList\b[^>]*>(.*?)</" + p
                       + rb"commentList>", xml, re.S)
        if am is None or cm is None or cm.start() < am.end():
            raise ValueError("malformed comments part")
        self.before = xml[:am.start()]
        self.between = xml[am.end():cm.start()]
        self.after = xml[cm.end():]
        self.authors: list[bytes] = re.findall(rb"<" + p + rb"author\b[^>]*>.*?</" + p + rb"author>|<" + p
                                               + rb"author\s*/>", am.group(1) or b"", re.S)
        self.entries: dict[tuple[int, int], bytes] = {}
        for raw in re.findall(rb"<" + p + rb"comment\b[^>]*?(?:/>|>.*?</" + p + rb"comment>)",
                              cm.group(1) or b"", re.S):
            ref = _REF_ATTR.search(raw[: raw.index(b">")])
            rc = split_ref(ref.group(1)) if ref else None
            if rc is not None:
                self.entries[rc] = raw
        mine = b"<" + p + b"author>" + AUTHOR.encode() + b"</" + p + b"author>"
        self.author_id = self.authors.index(mine) if mine in self.authors else -1
        self._mine = mine

    def is_ours(self, cell: tuple[int, int]) -> bool:
        """The note on `cell` is pddbatch's: its marker line, or pddbatch as its author."""
        raw = self.entries.get(cell)
        if raw is None:
            return False
        m = _AUTHOR_ATTR.search(raw[: raw.index(b">")])
        author = "pddbatch" if m is not None and int(m.group(1)) == self.author_id else None
        return is_mark_note(self.text(cell), author)

    def text(self, cell: tuple[int, int]) -> str | None:
        """The plain text of the note on `cell` (runs joined), None when there is none."""
        raw = self.entries.get(cell)
        if raw is None:
            return None
        return "".join(html.unescape((m.group(1) or b"").decode("utf-8", "replace")) for m in _T.finditer(raw))

    def ours(self) -> list[tuple[int, int]]:
        """Every cell holding a note pddbatch made (recognised from the note itself)."""
        return [cell for cell in self.entries if self.is_ours(cell)]

    def put_ours(self, cell: tuple[int, int], message: str) -> None:
        if self.author_id < 0:
            self.authors.append(self._mine)
            self.author_id = len(self.authors) - 1
        p = self.p.decode()
        self.entries[cell] = (f'<{p}comment ref="{a1(*cell)}" authorId="{self.author_id}"><{p}text>'
                              f'<{p}t xml:space="preserve">{esc(note_text(message))}</{p}t></{p}text>'
                              f'</{p}comment>').encode()

    def render(self) -> bytes:
        p = self.p
        return (self.before + b"<" + p + b"authors>" + b"".join(self.authors) + b"</" + p + b"authors>"
                + self.between + b"<" + p + b"commentList>" + b"".join(self.entries.values()) + b"</" + p
                + b"commentList>" + self.after)


_SHAPE = re.compile(rb"<v:shape\b[^>]*>.*?</v:shape>", re.S)
_SHAPE_ID = re.compile(rb"_x0000_s(\d+)")
_ROW = re.compile(rb"<x:Row>\s*(\d+)\s*</x:Row>")
_COL = re.compile(rb"<x:Column>\s*(\d+)\s*</x:Column>")
SHAPETYPE = (b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202"'
             b' path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
             b'<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')


def new_vml(idmap: int) -> bytes:
    return (b'<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
            b' xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
            b'<o:idmap v:ext="edit" data="%d"/></o:shapelayout>' % idmap + SHAPETYPE + b"</xml>")


def vml_idmaps(vml: bytes) -> list[int]:
    m = re.search(rb'<o:idmap\b[^>]*\sdata="([\d,\s]+)"', vml)
    return [int(x) for x in re.findall(rb"\d+", m.group(1))] if m else []


class Vml:
    """A VML drawing: note shapes pddbatch adds or removes; everything else is kept as bytes."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        self.removed: list[tuple[int, int]] = []
        self.added: list[bytes] = []
        self.notes: dict[tuple[int, int], tuple[int, int]] = {}
        for m in _SHAPE.finditer(xml):
            body = m.group(0)
            if b'ObjectType="Note"' not in body:
                continue
            r, c = _ROW.search(body), _COL.search(body)
            if r and c:
                self.notes[(int(r.group(1)) + 1, int(c.group(1)) + 1)] = (m.start(), m.end())

    def has_note_shape(self, cell: tuple[int, int]) -> bool:
        return cell in self.notes

    def remove_note(self, cell: tuple[int, int]) -> None:
        span = self.notes.pop(cell, None)
        if span is not None:
            self.removed.append(span)

    def add_note(self, cell: tuple[int, int], text: str) -> None:
        self.added.append(_note_shape(cell, text))

    def render(self) -> bytes:
        if not self.removed and not self.added:
            return self.xml
        xml = self.xml
        if self.removed:   # one join: slicing per removed shape was quadratic (16k notes: 20 s -> 0.01 s)
            parts, pos = [], 0
            for start, end in sorted(self.removed):
                parts.append(xml[pos:start])
                pos = end
            parts.append(xml[pos:])
            xml = b"".join(parts)
        if self.added:
            ids = [int(x) for x in _SHAPE_ID.findall(b"".join(_SHAPE.findall(xml)))]
            maps = vml_idmaps(xml) or [1]
            next_id = max(ids) + 1 if ids else maps[0] * 1024 + 1
            if b'id="_x0000_t202"' not in xml:
                xml = _insert_before_end(xml, SHAPETYPE)
            shapes = []
            for k, shape in enumerate(self.added):
                shapes.append(shape.replace(b"@ID@", b"%d" % (next_id + k)))
            xml = _insert_before_end(xml, b"".join(shapes))
        return xml


def _insert_before_end(xml: bytes, piece: bytes) -> bytes:
    idx = xml.rfind(b"</xml>")
    if idx < 0:
        raise ValueError("malformed VML drawing")
    return xml[:idx] + piece + xml[idx:]


def _note_shape(cell: tuple[int, int], text: str) -> bytes:
    r, c = cell
    lines = max(2, min(12, len(text) // 14 + text.count("\n") + 2))
    height = 12 * lines + 6
    anchor = f"{c}, 15, {max(r - 2, 0)}, 10, {c + 2}, 31, {max(r - 2, 0) + lines // 1 + 1}, 4"
    return (b'<v:shape id="_x0000_s@ID@" type="#_x0000_t202" style="position:absolute;margin-left:80pt;'
            b'margin-top:2pt;width:160pt;height:' + str(height).encode() + b'pt;z-index:1;visibility:hidden"'
            b' fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            b'<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            b'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            b'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>'
            + anchor.encode() + b"</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>" + str(r - 1).encode()
            + b"</x:Row><x:Column>" + str(c - 1).encode() + b"</x:Column></x:ClientData></v:shape>")
