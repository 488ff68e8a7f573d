"""What a run deflates (PDF streams, zip members) reads back with the standard library's zlib and zipfile,
and goes through ISA-L where it is installed (it is a declared dependency)."""

from __future__ import annotations

import io
import os
import zipfile
import zlib

import pytest

from pddbatch import deflate

SAMPLES = [b"", b"x", os.urandom(70_000), ("收件人 浙江省杭州市 73100000000001 " * 3000).encode(),
           b"BT /F0 9 Tf 1 0 0 1 34.02 771.87 Tm <4E2D901A> Tj ET\n" * 500]


def test_isal_is_what_deflates_levels_one_to_three() -> None:
    pytest.importorskip("isal")
    assert [deflate.engine(level) for level in range(10)] == ["zlib"] + ["isal"] * 3 + ["zlib"] * 6


@pytest.mark.parametrize("level", [0, 1, 2, 3, 6, 9])
@pytest.mark.parametrize("data", SAMPLES, ids=lambda d: str(len(d)))
def test_streams_inflate_with_zlib(level: int, data: bytes) -> None:
    packed = deflate.compress(data, level)
    assert zlib.decompress(packed) == data
    raw = deflate.raw_compressor(level)
    assert zlib.decompress(raw.compress(data) + raw.flush(), -zlib.MAX_WBITS) == data


def test_text_streams_come_out_smaller_than_zlibs_own_level_one() -> None:
    pytest.importorskip("isal")
    text = SAMPLES[3] + SAMPLES[4]
    assert len(deflate.compress(text, 1)) < len(zlib.compress(text, 1))


def test_a_fast_zip_member_reads_back_with_zipfile_and_holds_isals_bytes() -> None:
    isal_zlib = pytest.importorskip("isal.isal_zlib")
    data = SAMPLES[3] * 4
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with deflate.fast_member(zf.open("xl/worksheets/sheet1.xml", "w"), 1) as out:
            for k in range(0, len(data), 65536):
                out.write(data[k:k + 65536])
        zf.writestr("small.xml", b"<a/>")
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        assert zf.testzip() is None                       # CRCs and sizes as zipfile computed them
        assert zf.read("xl/worksheets/sheet1.xml") == data
        info = zf.getinfo("xl/worksheets/sheet1.xml")
        raw = buf.getvalue()[info.header_offset:]
        start = 30 + int.from_bytes(raw[26:28], "little") + int.from_bytes(raw[28:30], "little")
        stored = raw[start:start + info.compress_size]
    one = isal_zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunks = [one.compress(data[k:k + 65536]) for k in range(0, len(data), 65536)]
    assert stored == b"".join(chunks) + one.flush()       # ISA-L's deflate, not zlib's
    z = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert stored != z.compress(data) + z.flush()


def test_a_member_already_written_to_or_stored_is_left_alone() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf, deflate.fast_member(zf.open("a.txt", "w"), 1) as out:
        out.write(b"plain")
    with zipfile.ZipFile(buf) as zf:
        assert zf.getinfo("a.txt").compress_type == zipfile.ZIP_STORED and zf.read("a.txt") == b"plain"
    with zipfile.ZipFile(io.BytesIO(), "w", zipfile.ZIP_DEFLATED) as zf:
        out = zf.open("b.txt", "w")
        out.write(b"first")
        before = out._compressor  # type: ignore[attr-defined]
        assert deflate.fast_member(out, 1)._compressor is before  # type: ignore[attr-defined]
        out.write(b" second")
        out.close()
        assert zf.read("b.txt") == b"first second"


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method, compresslevel=6 if method == zipfile.ZIP_DEFLATED else None) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_a_member_read_through_isal_gives_zipfiles_own_bytes() -> None:
    pytest.importorskip("isal")
    data = SAMPLES[3] * 20 + SAMPLES[4] * 20           # ~2 MB: many 1 MB reads and small ones
    packed = _zip({"xl/worksheets/sheet1.xml": data, "empty.xml": b""})
    with zipfile.ZipFile(io.BytesIO(packed)) as zf:
        with deflate.fast_reader(zf.open("xl/worksheets/sheet1.xml")) as fh:
            assert type(fh._decompressor).__module__.startswith("isal")  # type: ignore[attr-defined]
            got = fh.read(7) + fh.read(1 << 20) + fh.read()
        assert got == data
        with deflate.fast_reader(zf.open("empty.xml")) as fh:
            assert fh.read() == b""


def test_read_member_matches_zipfile_and_leaves_stored_members_to_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = SAMPLES[3] * 10
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        path = tmp_path / f"m{method}.zip"
        path.write_bytes(_zip({"a.xml": b"<a/>", "xl/worksheets/sheet1.xml": data}, method))
        with zipfile.ZipFile(path) as zf:
            assert deflate.read_member(zf, "xl/worksheets/sheet1.xml") == data
            assert deflate.read_member(zf, "a.xml") == b"<a/>"


def test_a_damaged_stream_is_an_inflate_error_by_either_library(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(200_000).hex().encode()
    packed = bytearray(_zip({"xl/worksheets/sheet1.xml": data}))
    packed[20_000:20_400] = b"\xff" * 400                 # inside the member's deflate stream
    path = tmp_path / "damaged.zip"
    path.write_bytes(bytes(packed))
    with zipfile.ZipFile(path) as zf:
        with pytest.raises((*deflate.INFLATE_ERRORS, zipfile.BadZipFile)), deflate.fast_reader(
                zf.open("xl/worksheets/sheet1.xml")) as fh:
            while fh.read(1 << 16):
                pass
        with pytest.raises((*deflate.INFLATE_ERRORS, zipfile.BadZipFile)):
            deflate.read_member(zf, "xl/worksheets/sheet1.xml")
