"""Replace one module's VBA source inside a source-only vbaProject.bin (MS-OVBA), keeping its size.

xlwings' add-in template ships a VBA project without a performance cache (`_VBA_PROJECT` version
0xFFFF, 7 bytes), so Excel compiles the modules from their source text. A module stream holds
`MODULEOFFSET` bytes Excel ignores, then the compressed source. `olefile` can only rewrite a stream
in place at the same size, so the new source is compressed (MS-OVBA 2.4.1) and padded with a VBA
comment until the compressed bytes are exactly as long as the old ones; the `dir` stream (module
names, offsets) stays untouched.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from pddbatch.errors import PddBatchError

CHUNK = 4096


def compress(data: bytes) -> bytes:
    """MS-OVBA compression (CompressedContainer) of `data`."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        out += _chunk(data[start:start + CHUNK])
    return bytes(out)


def _chunk(chunk: bytes) -> bytes:
    body = bytearray()
    pos = 0
    while pos < len(chunk):
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if pos >= len(chunk):
                break
            offset, length = _match(chunk, pos)
            if length >= 3:
                bits = max((pos - 1).bit_length(), 4)
                token = ((offset - 1) << (16 - bits)) | (length - 3)
                body += struct.pack("<H", token)
                flags |= 1 << bit
                pos += length
            else:
                body.append(chunk[pos])
                pos += 1
        body[flag_at] = flags
    if len(body) > CHUNK - 2:     # does not shrink: a raw chunk of 4096 bytes (MS-OVBA 2.4.1.3.10)
        return struct.pack("<H", 0x0FFF | (0b011 << 12)) + chunk.ljust(CHUNK, b"\x00")
    header = (len(body) + 2 - 3) | (0b011 << 12) | 0x8000
    return struct.pack("<H", header) + bytes(body)


def _match(chunk: bytes, pos: int) -> tuple[int, int]:
    if pos == 0:
        return 0, 0
    bits = max((pos - 1).bit_length(), 4)
    max_len = (0xFFFF >> bits) + 3
    best_off, best_len = 0, 0
    for cand in range(pos - 1, -1, -1):
        n = 0
        while n < max_len and pos + n < len(chunk) and chunk[cand + n] == chunk[pos + n]:
            n += 1
        if n > best_len:
            best_off, best_len = pos - cand, n
    return best_off, best_len


def decompress(data: bytes) -> bytes:
    from oletools.olevba import decompress_stream  # the reference reader (test dependency)

    return bytes(decompress_stream(bytearray(data)))


def replace_module_source(vba_bin: Path, module: str, source: str, out: Path) -> None:
    """Copy `vba_bin` to `out` with `module`'s source replaced (same compressed size, padded)."""
    import olefile

    shutil.copyfile(vba_bin, out)
    with olefile.OleFileIO(str(out), write_mode=True) as ole:
        if ole.openstream("VBA/_VBA_PROJECT").read()[2:4] != b"\xff\xff":
            raise PddBatchError("xlwings 模板的 VBA 工程带有编译缓存，无法安全替换源码",
                                "The template's VBA project carries a performance cache; not patched")
        offset = _module_offset(decompress(ole.openstream("VBA/dir").read()), module)
        stream = ole.openstream(f"VBA/{module}").read()
        target = len(stream) - offset
        packed = _fit(source, target)
        ole.write_stream(f"VBA/{module}", stream[:offset] + packed)


def _fit(source: str, size: int) -> bytes:
    """Compressed `source` padded with a trailing comment to exactly `size` bytes."""
    text = source.replace("\r\n", "\n").replace("\n", "\r\n")
    base = compress(text.encode("cp1252"))
    if len(base) > size:
        raise PddBatchError(f"新的 VBA 源码压缩后 {len(base)} 字节，超过模板模块的 {size} 字节",
                            f"New VBA source compresses to {len(base)} bytes, more than the template's {size}")
    if len(base) == size:
        return base
    for n in range(1, size):
        for seed in range(7):
            pad = "' pddbatch " + "".join(chr(48 + (i * (seed + 3) + seed) % 75) for i in range(n)) + "\r\n"
            packed = compress((text + pad).encode("cp1252"))
            if len(packed) == size:
                return packed
        if len(compress((text + "'" + "x" * n).encode("cp1252"))) > size + 8:
            break
    raise PddBatchError("无法把 VBA 源码调整到模板模块的大小", "Could not fit the VBA source to the template module")


def _module_offset(dir_stream: bytes, module: str) -> int:
    """MODULEOFFSET of `module` in the decompressed `dir` stream (MS-OVBA 2.3.4.2.3)."""
    name = module.encode("cp1252")
    pos = 0
    current = b""
    while pos + 6 <= len(dir_stream):
        rec_id, size = struct.unpack_from("<HI", dir_stream, pos)
        if rec_id == 0x0009:          # PROJECTVERSION: its size field is fixed, 6 bytes follow
            pos += 12
            continue
        data = dir_stream[pos + 6:pos + 6 + size]
        if rec_id == 0x0019:          # MODULENAME
            current = data
        elif rec_id == 0x0031 and current == name:
            return int(struct.unpack("<I", data)[0])
        pos += 6 + size
    raise PddBatchError(f"VBA 工程中找不到模块 {module}", f"No module {module} in the VBA project")
