"""The font embedded in one PDF: a static TrueType subset of Noto Sans SC that keeps glyph ids.

Pages are written first (in worker processes) with the variable font's glyph ids; once a file's
pages are done, `subset_font` builds the font it embeds from the chars those pages drew. Every glyph
id stays, only the drawn glyphs (and .notdef) have outlines — the static glyphs `fonts` instanced
and cached — and the small tables come from the variable font, patched for the weight.
"""

from __future__ import annotations

import struct
from functools import cache

from pddbatch.render.fonts import WEIGHTS, FontMetrics, font_metrics, glyph_cache, variable_font_path


@cache
def _source_tables() -> dict[bytes, bytes]:
    """The variable font's small tables (head, hhea, maxp, OS/2, post, hinting programs)."""
    keep = (b"head", b"hhea", b"maxp", b"OS/2", b"post", b"cvt ", b"fpgm", b"prep")
    with variable_font_path().open("rb") as fh:
        head = fh.read(12)
        num = struct.unpack_from(">H", head, 4)[0]
        directory = fh.read(16 * num)
        out = {}
        for i in range(num):
            tag, _cs, off, ln = struct.unpack_from(">4sIII", directory, 16 * i)
            if tag in keep:
                fh.seek(off)
                out[tag] = fh.read(ln)
    return out


@cache
def _plain_hmtx(weight: str) -> bytes:
    """hmtx with every advance at the weight and left side bearings 0 (patched per subset)."""
    adv = font_metrics(weight).advances
    out = [0] * (2 * len(adv))
    out[::2] = adv
    return struct.pack(f">{len(out)}H", *out)


def _checksum(b: bytes) -> int:
    b = b + b"\0" * (-len(b) % 4)
    total: int = sum(struct.unpack(f">{len(b) // 4}I", b))
    return total & 0xFFFFFFFF


def subset_font(metrics: FontMetrics, chars: set[str]) -> tuple[bytes, dict[int, str]]:
    """A static TrueType font keeping glyph ids where only the glyphs of `chars` (and .notdef) have outlines.

    Returns the font bytes and gid -> unicode text for the ToUnicode map.
    """
    to_uni: dict[int, str] = {}
    want = {0}
    for ch in sorted(chars):
        gid = metrics.cmap.get(ord(ch), 0)
        if gid:
            want.add(gid)
            to_uni.setdefault(gid, ch)
    glyphs = glyph_cache(metrics.weight).get(want)
    src = _source_tables()
    n = len(metrics.advances)
    parts: list[bytes] = []
    offsets = [0] * (n + 1)
    size = 0
    hmtx = bytearray(_plain_hmtx(metrics.weight))
    box = list(metrics.bbox)
    points = contours = 0
    for gid in range(n):
        offsets[gid] = size
        g = glyphs.get(gid)
        if g is not None and g[0]:
            data, x0, y0, x1, y1, pts, cts = g
            data += b"\0" * (-len(data) % 4)
            parts.append(data)
            size += len(data)
            struct.pack_into(">h", hmtx, 4 * gid + 2, x0)
            box = [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
            points, contours = max(points, pts), max(contours, cts)
    offsets[n] = size
    head = bytearray(src[b"head"])
    struct.pack_into(">I", head, 8, 0)                      # checkSumAdjustment, set below
    struct.pack_into(">hhhh", head, 36, *box)
    struct.pack_into(">h", head, 50, 1)                     # long loca
    hhea = bytearray(src[b"hhea"])
    struct.pack_into(">H", hhea, 10, max(metrics.advances))
    struct.pack_into(">H", hhea, 34, n)                     # numberOfHMetrics: one per glyph
    maxp = bytearray(src[b"maxp"])
    if len(maxp) >= 10:                                     # version 1.0: maxPoints, maxContours
        old_pts, old_cts = struct.unpack_from(">HH", maxp, 6)
        struct.pack_into(">HH", maxp, 6, max(old_pts, points), max(old_cts, contours))
    os2 = bytearray(src[b"OS/2"])
    struct.pack_into(">H", os2, 4, WEIGHTS[metrics.weight])   # usWeightClass (the source says Thin)
    post = bytearray(src[b"post"][:32])
    struct.pack_into(">I", post, 0, 0x00030000)             # format 3: no glyph names
    new = {
        b"head": bytes(head), b"hhea": bytes(hhea), b"maxp": bytes(maxp), b"hmtx": bytes(hmtx),
        b"loca": struct.pack(f">{n + 1}I", *offsets), b"glyf": b"".join(parts),
        b"OS/2": bytes(os2), b"post": bytes(post),
    }
    for tag in (b"cvt ", b"fpgm", b"prep"):
        if tag in src:
            new[tag] = src[tag]
    return _assemble(new), to_uni


def _assemble(tables: dict[bytes, bytes]) -> bytes:
    tags = sorted(tables)
    num = len(tags)
    es = num.bit_length() - 1
    sr = (1 << es) * 16
    header = struct.pack(">IHHHH", 0x00010000, num, sr, es, num * 16 - sr)
    off = 12 + 16 * num
    dir_parts, body = [], []
    for tag in tags:
        data = tables[tag]
        dir_parts.append(struct.pack(">4sIII", tag, _checksum(data), off, len(data)))
        padded = data + b"\0" * (-len(data) % 4)
        body.append(padded)
        off += len(padded)
    font = bytearray(header + b"".join(dir_parts) + b"".join(body))
    # head.checkSumAdjustment
    head_off = struct.unpack_from(">I", font, 12 + 16 * tags.index(b"head") + 8)[0]
    struct.pack_into(">I", font, head_off + 8, (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF)
    return bytes(font)
