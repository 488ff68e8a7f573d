"""Deflate for what a run writes at speed: label and table PDF streams, the seller's rewritten sheet,
the manifest and bulk-ship workbooks.

A big day compresses a lot: 100,000 orders are ~190 MB of sheet XML written back and ~150,000 PDF
page streams, about a ninth of the run's CPU with zlib at level 1. Intel's ISA-L (the `isal` wheel,
maintained by the pycompression project that also keeps python-zlib-ng and xopen) deflates the same
data into the same format — plain zlib/raw deflate streams any reader inflates — faster and smaller.
Measured on this project's output, one core of the 2.0 GHz development machine:

    label page streams (4,000)   zlib 1: 41.9 µs, 2.38 MB    ISA-L 1: 16.8 µs, 2.29 MB
    rewritten sheet XML (60 MB)  zlib 1: 143 MB/s, 8.71 MB   ISA-L 1: 636 MB/s, 8.03 MB

Levels 1-3 go to ISA-L (its own levels); level 0 (stored) and 4-9 stay with zlib, as does everything
when `isal` is not installed (a platform without its wheel): slower, never different in meaning.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import IO, Any, Protocol, cast

_isal: Any
try:
    from isal import isal_zlib as _isal
except ImportError:  # pragma: no cover - isal is a declared dependency where it has wheels
    _isal = None


# what inflating a damaged member raises, by either library (ISA-L's IsalError is not a zlib.error)
INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error,) if _isal is None else (zlib.error, _isal.error)


class Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...

    def flush(self, mode: int = ..., /) -> bytes: ...


def _fast(level: int) -> bool:
    return _isal is not None and 1 <= level <= 3


def engine(level: int) -> str:
    """Which library deflates at `level` here: "isal" or "zlib" (for tests and the benchmark's header)."""
    return "isal" if _fast(level) else "zlib"


def compress(data: bytes, level: int) -> bytes:
    """A zlib-wrapped (RFC 1950) stream of `data`: what a PDF's /FlateDecode reads."""
    if _fast(level):
        assert _isal is not None
        return cast(bytes, _isal.compress(data, level))
    return zlib.compress(data, level)


def raw_compressor(level: int) -> Compressor:
    """A raw deflate (RFC 1951) compressor, as a zip member holds its data."""
    if _fast(level):
        assert _isal is not None
        return cast(Compressor, _isal.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS))
    return zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)


def fast_member(member: IO[bytes], level: int) -> IO[bytes]:
    """A deflated zip member just opened for writing (`ZipFile.open(info, "w")`), its compressor
    swapped for `raw_compressor(level)` before the first byte: zipfile keeps computing the CRC and
    sizes itself. Returns the member; anything else is returned untouched."""
    handle: Any = member
    if _fast(level) and getattr(handle, "_compressor", None) is not None and getattr(handle, "_file_size", 1) == 0:
        handle._compressor = raw_compressor(level)
    return member


def fast_reader(member: IO[bytes]) -> IO[bytes]:
    """A deflated zip member just opened for reading (`ZipFile.open(name)`), its decompressor swapped
    for ISA-L's before the first byte (same API: `max_length`, `unconsumed_tail`, `eof`); zipfile
    keeps checking the CRC. A 103 MB sheet streams in 0.09 s of inflating against zlib's 0.27 s.
    Returns the member; anything else is returned untouched."""
    handle: Any = member
    if (_isal is not None and getattr(handle, "_compress_type", None) == zipfile.ZIP_DEFLATED
            and getattr(handle, "_decompressor", None) is not None and getattr(handle, "_compress_left", 0) > 0
            and getattr(handle, "_readbuffer", b"x") == b"" and getattr(handle, "_eof", True) is False):
        handle._decompressor = _isal.decompressobj(-zlib.MAX_WBITS)
    return member


def read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    """A zip member's bytes, as `zf.read(name)` gives them (CRC checked), inflated by ISA-L where it is
    installed (a 103 MB sheet: 0.09 s against zlib's 0.27 s). Anything unusual — stored, encrypted,
    another method, a file object without a path — goes to `zf.read`."""
    info = zf.getinfo(name)
    path = zf.filename
    if (_isal is None or info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1
            or not isinstance(path, str)):
        return zf.read(name)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            return zf.read(name)
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        fh.seek(info.header_offset + 30 + name_len + extra_len)
        packed = fh.read(info.compress_size)
    try:
        data = cast(bytes, _isal.decompress(packed, -zlib.MAX_WBITS, info.file_size or 16384))
    except Exception:  # noqa: BLE001 - a damaged member: zipfile reads it and says what is wrong
        return zf.read(name)
    if len(data) != info.file_size or crc32(data) != info.CRC:
        return zf.read(name)
    return data


def crc32(data: bytes | memoryview, value: int = 0) -> int:
    """`zlib.crc32`, by ISA-L where installed (100 MB: 0.008 s against 0.045 s)."""
    if _isal is not None:
        return cast(int, _isal.crc32(data, value))
    return zlib.crc32(data, value)
