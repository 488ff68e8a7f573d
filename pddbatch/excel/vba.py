"""The add-in's VBA project (MS-OVBA): renamed, module sources replaced, no compiled code left behind.

xlwings' add-in template ships a VBA project named `MyAddin` whose module streams still hold the
compiled code (p-code) of the template's own sources in front of the source text (`MODULEOFFSET`).
Changing a source while that p-code stays is what scanners call *VBA stomping* (the code that would
run is not the code shown), and antivirus software quarantines such files. So every module stream is
rewritten as its source alone (MODULEOFFSET 0) and `_VBA_PROJECT` stays the version-independent
7-byte stream: Excel compiles the sources when it opens the add-in.

The project name changes in the `PROJECT` stream (`Name=`) and in the `dir` stream (PROJECTNAME);
xlwings' own module reads its settings from `<PROJECT_NAME>.conf` (a sheet of the add-in, or
`~/.<name>/<name>.conf`), so its `PROJECT_NAME` constant changes too.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass

from pddbatch.errors import PddBatchError
from pddbatch.excel.cfb import Entry, write_cfb

CHUNK = 4096
CODEPAGE = "cp1252"


# ---- MS-OVBA 2.4.1 compression -----------------------------------------------------------------------

def compress(data: bytes) -> bytes:
    """MS-OVBA compression (CompressedContainer) of `data`."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        out += _chunk(data[start:start + CHUNK])
    return bytes(out)


def _chunk(chunk: bytes) -> bytes:
    body = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos = 0
    while pos < len(chunk):
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if pos >= len(chunk):
                break
            offset, length = _match(chunk, pos, heads)
            step = length if length >= 3 else 1
            for p in range(pos, min(pos + step, len(chunk) - 2)):
                heads.setdefault(chunk[p:p + 3], []).append(p)
            if length >= 3:
                bits = max((pos - 1).bit_length(), 4)
                body += struct.pack("<H", ((offset - 1) << (16 - bits)) | (length - 3))
                flags |= 1 << bit
            else:
                body.append(chunk[pos])
            pos += step
        body[flag_at] = flags
    if len(body) > CHUNK - 2:     # does not shrink: a raw chunk of 4096 bytes (MS-OVBA 2.4.1.3.10)
        return struct.pack("<H", 0x0FFF | (0b011 << 12)) + chunk.ljust(CHUNK, b"\x00")
    return struct.pack("<H", (len(body) + 2 - 3) | (0b011 << 12) | 0x8000) + bytes(body)


def _match(chunk: bytes, pos: int, heads: dict[bytes, list[int]]) -> tuple[int, int]:
    """Longest earlier copy of the bytes at `pos` (hash chains on 3-byte prefixes, newest 64 tried)."""
    if pos == 0 or pos + 3 > len(chunk):
        return 0, 0
    bits = max((pos - 1).bit_length(), 4)
    max_len = (0xFFFF >> bits) + 3
    best_off, best_len = 0, 0
    for cand in reversed(heads.get(chunk[pos:pos + 3], [])[-64:]):
        n = 3
        while n < max_len and pos + n < len(chunk) and chunk[cand + n] == chunk[pos + n]:
            n += 1
        if n > best_len:
            best_off, best_len = pos - cand, n
            if n == max_len:
                break
    return best_off, best_len


def decompress(data: bytes) -> bytes:
    """MS-OVBA decompression (2.4.1.3.1) of a CompressedContainer."""
    if not data or data[0] != 1:
        raise PddBatchError("VBA 数据格式不对", "Not a compressed VBA container")
    out = bytearray()
    pos = 1
    while pos + 2 <= len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:
            out += data[pos:pos + CHUNK]
            pos += CHUNK
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                bits = max((len(out) - start - 1).bit_length(), 4)
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


# ---- the dir stream (MS-OVBA 2.3.4.2) ---------------------------------------------------------------

@dataclass
class Record:
    rec_id: int
    data: bytes
    raw: bytes | None = None       # PROJECTVERSION keeps its fixed layout

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return struct.pack("<HI", self.rec_id, len(self.data)) + self.data


def parse_dir(stream: bytes) -> list[Record]:
    recs: list[Record] = []
    pos = 0
    while pos + 6 <= len(stream):
        rec_id, size = struct.unpack_from("<HI", stream, pos)
        if rec_id == 0x0009:          # PROJECTVERSION: size field reserved, 6 bytes follow
            recs.append(Record(rec_id, b"", stream[pos:pos + 12]))
            pos += 12
            continue
        recs.append(Record(rec_id, stream[pos + 6:pos + 6 + size]))
        pos += 6 + size
    return recs


def module_offsets(recs: list[Record]) -> dict[str, int]:
    """Stream name -> MODULEOFFSET for every module."""
    out: dict[str, int] = {}
    stream = ""
    for r in recs:
        if r.rec_id == 0x001A:        # MODULESTREAMNAME
            stream = r.data.decode(CODEPAGE)
        elif r.rec_id == 0x0031:      # MODULEOFFSET
            out[stream] = int(struct.unpack("<I", r.data)[0])
    return out


# ---- the project --------------------------------------------------------------------------------------

class VbaProject:
    """A vbaProject.bin read with olefile, changed, and written back whole."""

    def __init__(self, data: bytes) -> None:
        import olefile

        try:
            ole = olefile.OleFileIO(io.BytesIO(data))
        except OSError as exc:
            raise PddBatchError("xlwings 模板的 VBA 工程无法读取", f"Unreadable VBA project: {exc}") from exc
        with ole:
            self.root_clsid = bytes.fromhex(ole.root.clsid.replace("-", "")) if ole.root.clsid else b"\x00" * 16
            self.streams: dict[str, bytes] = {}
            self.clsids: dict[str, str] = {}
            for parts in ole.listdir(streams=True, storages=True):
                name = "/".join(parts)
                if ole.get_type(name) == olefile.STGTY_STREAM:
                    self.streams[name] = ole.openstream(name).read()
                self.clsids[name] = ole.getclsid(name)
        if "VBA/dir" not in self.streams or "PROJECT" not in self.streams:
            raise PddBatchError("xlwings 模板的 VBA 工程结构与预期不同", "Unexpected VBA project layout")
        self.records = parse_dir(decompress(self.streams["VBA/dir"]))
        self.sources: dict[str, bytes] = {
            name: decompress(self.streams[f"VBA/{name}"][offset:])
            for name, offset in module_offsets(self.records).items()}

    @property
    def name(self) -> str:
        return next(r.data.decode(CODEPAGE) for r in self.records if r.rec_id == 0x0004)

    def rename(self, new: str) -> None:
        """Set the project's name (PROJECT stream and the dir stream's PROJECTNAME)."""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,127}", new):
            raise PddBatchError(f"VBA 工程名不合法：{new}", f"Invalid VBA project name: {new}")
        for r in self.records:
            if r.rec_id == 0x0004:
                r.data = new.encode(CODEPAGE)
        text = self.streams["PROJECT"].decode(CODEPAGE)
        text = re.sub(r'(?m)^Name="[^"]*"', f'Name="{new}"', text)
        self.streams["PROJECT"] = text.encode(CODEPAGE)

    def source(self, module: str) -> str:
        return self.sources[module].decode(CODEPAGE)

    def set_source(self, module: str, source: str) -> None:
        if module not in self.sources:
            raise PddBatchError(f"VBA 工程中找不到模块 {module}", f"No module {module} in the VBA project")
        text = source.replace("\r\n", "\n").replace("\n", "\r\n")
        self.sources[module] = text.encode(CODEPAGE)

    def to_bytes(self) -> bytes:
        """The whole project: every module as source only (MODULEOFFSET 0), no stale compiled code."""
        for r in self.records:
            if r.rec_id == 0x0031:
                r.data = struct.pack("<I", 0)
        streams = dict(self.streams)
        streams["VBA/dir"] = compress(b"".join(r.encode() for r in self.records))
        for module, src in self.sources.items():
            streams[f"VBA/{module}"] = compress(src)
        return write_cfb(self._tree(streams), self.root_clsid)

    def _tree(self, streams: dict[str, bytes]) -> list[Entry]:
        top: dict[str, Entry] = {}
        for path in sorted(self.clsids):
            parts = path.split("/")
            clsid = bytes.fromhex(self.clsids[path].replace("-", "")) if self.clsids[path] else b"\x00" * 16
            if path in streams:
                entry = Entry(parts[-1], data=streams[path], clsid=clsid)
            else:
                entry = top.get(path) or Entry(parts[-1], is_storage=True, clsid=clsid)
                top[path] = entry
            if len(parts) == 1:
                top.setdefault(path, entry)
            else:
                parent = "/".join(parts[:-1])
                top.setdefault(parent, Entry(parts[-2], is_storage=True))
                top[parent].children.append(entry)
        return [e for p, e in top.items() if "/" not in p]
