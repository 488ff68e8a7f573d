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

import zlib
from typing import IO, Any, Protocol, cast

_isal: Any
try:
    from isal import isal_zlib as _isal
except ImportError:  # pragma: no cover - isal is a declared dependency where it has wheels
    _isal = None


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
