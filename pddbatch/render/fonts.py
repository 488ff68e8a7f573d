"""The embedded label font: Noto Sans SC, instanced to static weights, cached, and subset per file.

The variable Noto Sans SC from `justmytype-intl-cjk` is instanced once to a static TrueType font per
weight with fontTools (slow: ~10 s) and cached under the user cache dir, keyed by the variable font's
hash. Metrics (cmap, advances) are cached beside it as a small pickle. Per output file we write our own
glyph-id-preserving subset (only the glyphs used keep outlines), which takes milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import struct
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pddbatch.errors import ConfigError

WEIGHTS = {"regular": 400, "bold": 700}
_FONT_REL = ("fonts", "ofl", "notosanssc", "NotoSansSC[wght].ttf")


def variable_font_path() -> Path:
    """Path of the variable Noto Sans SC shipped by `justmytype-intl-cjk`."""
    try:
        import justmytype_intl_cjk
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise ConfigError("缺少中文字体包 justmytype-intl-cjk", "Package justmytype-intl-cjk is missing") from exc
    path = Path(justmytype_intl_cjk.__file__).parent.joinpath(*_FONT_REL)
    if not path.is_file():  # pragma: no cover
        raise ConfigError(f"找不到中文字体：{path}", f"Chinese font not found: {path}")
    return path


def cache_dir() -> Path:
    """User cache dir for pddbatch (PDDBATCH_CACHE_DIR, else XDG / LOCALAPPDATA / ~/.cache)."""
    env = os.environ.get("PDDBATCH_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "pddbatch"


@cache
def _font_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def static_font_path(weight: str) -> Path:
    """The cached static instance for `weight` ("regular" | "bold"), created on first use."""
    src = variable_font_path()
    out = cache_dir() / "fonts" / f"NotoSansSC-{weight}-{_font_hash(src)}.ttf"
    if out.is_file():
        return out
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    out.parent.mkdir(parents=True, exist_ok=True)
    static = instancer.instantiateVariableFont(TTFont(src), {"wght": WEIGHTS[weight]})
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    static.save(str(tmp))
    os.replace(tmp, out)
    return out


@dataclass(frozen=True)
class FontMetrics:
    """What layout needs from one static font: unicode -> glyph id, advances, vertical metrics."""

    name: str
    path: Path
    cmap: dict[int, int]
    advances: tuple[int, ...]      # per glyph id, in font units
    units_per_em: int
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]


def _read_metrics(path: Path, name: str) -> FontMetrics:
    from fontTools.ttLib import TTFont

    f = TTFont(str(path), lazy=True)
    order = f.getGlyphOrder()
    hmtx = f["hmtx"].metrics
    head, os2 = f["head"], f["OS/2"]
    gid = {g: i for i, g in enumerate(order)}
    return FontMetrics(
        name=name, path=path, cmap={cp: gid[g] for cp, g in f.getBestCmap().items()},
        advances=tuple(hmtx[g][0] for g in order), units_per_em=head.unitsPerEm,
        ascent=os2.sTypoAscender, descent=os2.sTypoDescender, cap_height=getattr(os2, "sCapHeight", 700),
        bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
    )


@cache
def font_metrics(weight: str) -> FontMetrics:
    """Metrics of the static font for `weight`, cached on disk beside the font."""
    path = static_font_path(weight)
    pick = path.with_suffix(".metrics.pickle")
    if pick.is_file():
        try:
            with pick.open("rb") as fh:
                m = pickle.load(fh)
            if isinstance(m, FontMetrics) and m.path == path:
                return m
        except Exception:  # noqa: BLE001 - a bad cache is rebuilt
            pass
    m = _read_metrics(path, f"NotoSansSC-{weight.capitalize()}")
    tmp = pick.with_name(f".{pick.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        pickle.dump(m, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, pick)
    return m


@dataclass
class FontUse:
    """A font as used by one document: text -> hex glyph ids, widths, and the set of chars drawn."""

    metrics: FontMetrics
    used: set[str] = field(default_factory=set)
    no_glyph: set[str] = field(default_factory=set)   # chars drawn as .notdef (reported as a warning)
    _hex: dict[str, str] = field(default_factory=dict)
    _w: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cmap, adv = self.metrics.cmap, self.metrics.advances
        scale = 1000 / self.metrics.units_per_em
        # Precompute per-char lookups lazily: the full cmap has 30k entries.
        self._cmap, self._adv, self._scale = cmap, adv, scale

    def _add(self, ch: str) -> None:
        gid = self._cmap.get(ord(ch), 0)
        if gid == 0 and ch not in "\n\r\t":
            self.no_glyph.add(ch)
        self._hex[ch] = f"{gid:04X}"
        self._w[ch] = round(self._adv[gid] * self._scale)

    def widths(self, text: str) -> list[int]:
        """Advance of each char in 1/1000 em."""
        w = self._w
        for ch in text:
            if ch not in w:
                self._add(ch)
        return [w[ch] for ch in text]

    def width(self, text: str) -> int:
        return sum(self.widths(text))

    def hex(self, text: str) -> str:
        """The text as a PDF hex string body of 2-byte glyph ids (Identity-H); records use."""
        h = self._hex
        for ch in text:
            if ch not in h:
                self._add(ch)
        self.used.update(text)
        return "".join([h[ch] for ch in text])



# ---- subsetting (glyph ids preserved, so content streams can be written before the subset) ------

def _tables(data: bytes) -> dict[bytes, bytes]:
    num = struct.unpack_from(">H", data, 4)[0]
    out = {}
    for i in range(num):
        tag, _cs, off, ln = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        out[tag] = data[off:off + ln]
    return out


def _checksum(b: bytes) -> int:
    b = b + b"\0" * (-len(b) % 4)
    total: int = sum(struct.unpack(f">{len(b) // 4}I", b))
    return total & 0xFFFFFFFF


@cache
def _font_bytes(path: Path) -> bytes:
    return path.read_bytes()


def subset_font(metrics: FontMetrics, chars: set[str]) -> tuple[bytes, dict[int, str]]:
    """A TrueType font keeping glyph ids where only the glyphs of `chars` (and .notdef) have outlines.

    Returns the font bytes and gid -> unicode text for the ToUnicode map.
    """
    t = _tables(_font_bytes(metrics.path))
    head, maxp, loca_b, glyf = t[b"head"], t[b"maxp"], t[b"loca"], t[b"glyf"]
    n = struct.unpack_from(">H", maxp, 4)[0]
    long_loca = struct.unpack_from(">h", head, 50)[0] == 1
    loca = struct.unpack(f">{n + 1}{'I' if long_loca else 'H'}", loca_b[:(n + 1) * (4 if long_loca else 2)])
    if not long_loca:
        loca = tuple(x * 2 for x in loca)
    to_uni: dict[int, str] = {}
    want = {0}
    for ch in sorted(chars):
        gid = metrics.cmap.get(ord(ch), 0)
        if gid:
            want.add(gid)
            to_uni.setdefault(gid, ch)
    todo = list(want)
    while todo:  # composite glyphs pull in their components
        gid = todo.pop()
        g = glyf[loca[gid]:loca[gid + 1]]
        if len(g) < 10 or struct.unpack_from(">h", g, 0)[0] >= 0:
            continue
        pos = 10
        while True:
            flags, comp = struct.unpack_from(">HH", g, pos)
            if comp not in want:
                want.add(comp)
                todo.append(comp)
            pos += 4 + (4 if flags & 1 else 2)
            pos += 8 if flags & 0x80 else 4 if flags & 0x40 else 2 if flags & 0x8 else 0
            if not flags & 0x20:
                break
    parts: list[bytes] = []
    offsets = [0] * (n + 1)
    size = 0
    for gid in range(n):
        offsets[gid] = size
        if gid in want:
            g = glyf[loca[gid]:loca[gid + 1]]
            g += b"\0" * (-len(g) % 4)
            parts.append(g)
            size += len(g)
    offsets[n] = size
    new = {
        b"head": head[:8] + b"\0\0\0\0" + head[12:50] + struct.pack(">h", 1) + head[52:],
        b"hhea": t[b"hhea"], b"maxp": maxp, b"hmtx": t[b"hmtx"],
        b"loca": struct.pack(f">{n + 1}I", *offsets), b"glyf": b"".join(parts),
    }
    for tag in (b"cvt ", b"fpgm", b"prep", b"OS/2", b"post"):
        if tag in t:
            new[tag] = t[tag]
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
