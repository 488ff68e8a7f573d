"""The embedded label font: Noto Sans SC, instanced glyph by glyph from the variable font, cached.

Labels and table documents embed Noto Sans SC (OFL) from the `justmytype-intl-cjk` wheel: one
*variable* TrueType font (wght 100-900, default Thin, 31,036 glyphs, 17 MB). A PDF needs static
outlines, so each weight we draw (regular 400, bold 700) has to be instanced. Measured on the 2-core
development machine, shared with other work (load ~8), fontTools 4.68:

- the whole font per weight with `varLib.instancer` (what this module did first): 20 s wall (17 s
  CPU) for regular at nice -5, about 68 s for both weights on a busy machine — the README's first
  command sat silent for over a minute;
- subsetting to the run's characters first, then instancing the subset: 0.7 s + 1.2 s per weight for
  the demo's 509 characters, paid again for every new set of characters;
- shipping prepared static fonts in the package: no wait, but 2 x 10.6 MB of generated binaries in
  the repository and every wheel, duplicating a dependency's data and going stale when it updates;
- **this module**: only the glyphs a file actually draws are instanced, one by one, through fontTools'
  variable glyph set (`TTFont.getGlyphSet(location=...)`, ~0.5 ms a glyph), and kept in a per-weight
  glyph cache on disk, so a run pays only for characters no earlier run drew. The demo's first run
  instances ~600 glyphs (~0.3 s); a later run, none. Metrics (cmap and every glyph's advance at the
  weight, hmtx plus the HVAR delta) are read once per weight (~0.2 s) and cached as a small pickle.

The outlines equal the instancer's point for point (checked on 3,000 random glyphs per weight: one
glyph differs by a redundant closing point), and glyph ids are the variable font's, so content
streams written first — in worker processes — use the ids of the subset embedded afterwards
(`font_subset`).

Preparation that runs longer than `NOTICE_AFTER` reports itself once through the callback given to
`preparation_notices` (the pipeline's progress callable, stage `"prepare_font"`): library code never
prints.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pddbatch.errors import ConfigError

WEIGHTS = {"regular": 400, "bold": 700}
_FONT_REL = ("fonts", "ofl", "notosanssc", "NotoSansSC[wght].ttf")
_CACHE_FORMAT = 2          # bump when what the cache files hold changes
OVERLAP_SIMPLE = 0x40      # glyf flag on a glyph's first point

PREPARE_STAGE = "prepare_font"
NOTICE_AFTER = 1.0         # seconds of one-time preparation before it is announced

Notice = Callable[[str, int, int], None]   # (stage, done, total): the pipeline's progress shape


# ---- the one-line notice for slow one-time preparation --------------------------------------------

class _Notifier:
    def __init__(self, callback: Notice) -> None:
        self.callback = callback
        self.sent = False
        self.spent = 0.0       # seconds of preparation so far in this block, over all its pieces


_notifier: ContextVar[_Notifier | None] = ContextVar("pddbatch_font_notifier", default=None)


@contextmanager
def preparation_notices(callback: Notice | None) -> Iterator[None]:
    """While inside, font preparation taking over `NOTICE_AFTER` s calls `callback("prepare_font", done, total)`.

    At most once per `with` block, however many files and weights get prepared inside it.
    """
    token = _notifier.set(_Notifier(callback) if callback is not None else None)
    try:
        yield
    finally:
        _notifier.reset(token)


class _Preparing:
    """Times one piece of preparation and announces it once the block's preparation has run longer than
    NOTICE_AFTER: the pieces (metrics per weight, glyphs per file and weight) add up, so a first run whose
    pieces each stay under a second but together take several still says what it is doing."""

    def __init__(self, total: int) -> None:
        self.last = time.perf_counter()
        self.total = total
        self.notifier = _notifier.get()

    def tick(self, done: int) -> None:
        n = self.notifier
        if n is None:
            return
        now = time.perf_counter()
        n.spent += now - self.last
        self.last = now
        if not n.sent and n.spent > NOTICE_AFTER:
            n.sent = True
            n.callback(PREPARE_STAGE, done, self.total)


# ---- where the font and the cache live ------------------------------------------------------------

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


def _cache_file(weight: str, kind: str) -> Path:
    src = variable_font_path()
    return cache_dir() / "fonts" / f"NotoSansSC-{weight}-{_font_hash(src)}-v{_CACHE_FORMAT}.{kind}.pickle"


def _load_pickle(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except Exception:  # noqa: BLE001 - a missing or bad cache file is rebuilt
        return None


def _save_pickle(path: Path, value: object) -> None:
    """Atomically; a cache that can't be written only costs the next run the same work again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass


@cache
def _variable_font() -> Any:
    from fontTools.ttLib import TTFont

    return TTFont(str(variable_font_path()), lazy=True)


@cache
def _glyph_set(weight: str) -> Any:
    return _variable_font().getGlyphSet(location={"wght": WEIGHTS[weight]})


# ---- metrics ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FontMetrics:
    """What layout needs from one weight: unicode -> glyph id, advances, vertical metrics."""

    name: str
    weight: str
    cmap: dict[int, int]
    advances: tuple[int, ...]      # per glyph id, in font units, at this weight
    units_per_em: int
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]


def _advances(weight: str, order: list[str]) -> tuple[int, ...]:
    """Every glyph's advance at the weight: hmtx plus its HVAR delta — what the glyph set's `.width`
    gives, without loading the outlines and variations of 31,036 glyphs (0.12 s against 0.8 s to make
    the glyph set and 0.46 s to walk it, per weight; the same advances for every glyph of both weights).
    """
    f = _variable_font()
    if "HVAR" not in f:       # (not this font; kept for a font without an HVAR table)
        gs = _glyph_set(weight)
        return tuple(round(gs[g].width) for g in order)
    from fontTools.varLib.varStore import VarStoreInstancer

    hvar = f["HVAR"].table
    deltas = VarStoreInstancer(hvar.VarStore, f["fvar"].axes, f.normalizeLocation({"wght": WEIGHTS[weight]}))
    hmtx = f["hmtx"].metrics
    if hvar.AdvWidthMap is not None:
        mapping = hvar.AdvWidthMap.mapping
        return tuple(round(hmtx[g][0] + deltas[mapping[g]]) for g in order)
    # an implicit mapping: the glyph id is the (outer 0) variation index
    return tuple(round(hmtx[g][0] + (deltas[i] if i <= 0xFFFF else 0)) for i, g in enumerate(order))


def _read_metrics(weight: str) -> FontMetrics:
    prep = _Preparing(2)
    f = _variable_font()
    order = f.getGlyphOrder()
    gid = {g: i for i, g in enumerate(order)}
    cmap = {cp: gid[g] for cp, g in f.getBestCmap().items()}
    prep.tick(0)
    advances = _advances(weight, order)
    prep.tick(1)
    head, os2 = f["head"], f["OS/2"]
    return FontMetrics(
        name=f"NotoSansSC-{weight.capitalize()}", weight=weight, cmap=cmap, advances=advances,
        units_per_em=head.unitsPerEm, ascent=os2.sTypoAscender, descent=os2.sTypoDescender,
        cap_height=getattr(os2, "sCapHeight", 700), bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
    )


@cache
def font_metrics(weight: str) -> FontMetrics:
    """Metrics of `weight` ("regular" | "bold"), cached on disk."""
    path = _cache_file(weight, "metrics")
    m = _load_pickle(path)
    if isinstance(m, FontMetrics) and m.weight == weight:
        return m
    m = _read_metrics(weight)
    _save_pickle(path, m)
    return m


class GlyphHex(dict[int, str]):
    """`str.translate` table of one `FontUse`: code point -> its glyph id as 4 hex digits. A char's
    entry is made the first time a text holding it is translated (`translate` asks `__missing__`),
    which is also where the char is recorded as drawn — so `FontUse.hex` is one `translate` call with
    no test of its own (a subset test per text cost as much as the translation: ~2 us for an address)."""

    def __init__(self, cmap: dict[int, int] | None = None, used: set[str] | None = None,
                 no_glyph: set[str] | None = None) -> None:
        super().__init__()
        self.cmap = cmap if cmap is not None else {}
        self.used = used if used is not None else set()
        self.no_glyph = no_glyph if no_glyph is not None else set()

    def __missing__(self, code: int) -> str:
        gid = self.cmap.get(code, 0)
        ch = chr(code)
        if gid == 0 and ch not in "\n\r\t":
            self.no_glyph.add(ch)
        self.used.add(ch)
        got = self[code] = f"{gid:04X}"
        return got


@dataclass
class FontUse:
    """A font as used by one document: text -> hex glyph ids, widths, and the set of chars drawn."""

    metrics: FontMetrics
    used: set[str] = field(default_factory=set)
    no_glyph: set[str] = field(default_factory=set)   # chars drawn as .notdef (reported as a warning)
    _w: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cmap, self._adv = self.metrics.cmap, self.metrics.advances
        self._scale = 1000 / self.metrics.units_per_em
        self._hex = GlyphHex(self._cmap, self.used, self.no_glyph)

    def _add(self, ch: str) -> None:
        gid = self._cmap.get(ord(ch), 0)
        if gid == 0 and ch not in "\n\r\t":
            self.no_glyph.add(ch)
        self._w[ch] = round(self._adv[gid] * self._scale)

    def widths(self, text: str) -> list[int]:
        """Advance of each char in 1/1000 em (one C-level lookup per char once every char is known)."""
        w = self._w
        try:
            return list(map(w.__getitem__, text))
        except KeyError:
            for ch in text:
                if ch not in w:
                    self._add(ch)
            return list(map(w.__getitem__, text))

    def width(self, text: str) -> int:
        return sum(self.widths(text))

    def hex(self, text: str) -> str:
        """The text as a PDF hex string body of 2-byte glyph ids (Identity-H); records the chars drawn
        (see GlyphHex). Labels call this ~11 times a page."""
        return text.translate(self._hex)


# ---- static glyphs, instanced on demand -------------------------------------------------------------

# gid -> (glyf bytes, xMin, yMin, xMax, yMax, points, contours); empty glyphs are (b"", 0, 0, 0, 0, 0, 0)
Glyph = tuple[bytes, int, int, int, int, int, int]


class _GlyphCache:
    """The static glyphs of one weight instanced so far, kept on disk across runs."""

    def __init__(self, weight: str) -> None:
        self.weight = weight
        self.path = _cache_file(weight, "glyphs")
        got = _load_pickle(self.path)
        self.glyphs: dict[int, Glyph] = got if isinstance(got, dict) else {}

    def get(self, gids: Iterable[int]) -> dict[int, Glyph]:
        """The glyphs `gids`, instancing (and caching) the ones no run has drawn before."""
        missing = sorted(g for g in set(gids) if g not in self.glyphs)
        if missing:
            self.glyphs.update(_instance(self.weight, missing))
            on_disk = _load_pickle(self.path)   # another run may have added glyphs meanwhile
            if isinstance(on_disk, dict):
                on_disk.update(self.glyphs)
                self.glyphs = on_disk
            _save_pickle(self.path, self.glyphs)
        return {g: self.glyphs[g] for g in gids}


@cache
def glyph_cache(weight: str) -> _GlyphCache:
    """The static glyphs of `weight`, instanced on demand (what `font_subset` embeds)."""
    return _GlyphCache(weight)


def _instance(weight: str, gids: list[int]) -> dict[int, Glyph]:
    """Static outlines of `gids` at the weight (gvar deltas applied by fontTools' glyph set)."""
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    font = _variable_font()
    order, glyf, gs = font.getGlyphOrder(), font["glyf"], _glyph_set(weight)
    prep = _Preparing(len(gids))
    out: dict[int, Glyph] = {}
    for k, gid in enumerate(gids):
        name = order[gid]
        pen = TTGlyphPen(None)
        if glyf[name].isComposite():   # none in today's font; decomposed so components need no ids
            rec = DecomposingRecordingPen(gs)
            gs[name].draw(rec)
            rec.replay(pen)
        else:
            gs[name].draw(pen)
        g = pen.glyph()
        if g.numberOfContours > 0:
            g.recalcBounds(glyf)
            # contours of a variable font overlap: flag it as varLib.instancer does, so rasterisers
            # use their overlap-safe path (without it poppler renders edges a little differently)
            g.flags[0] |= OVERLAP_SIMPLE
            out[gid] = (g.compile(glyf), g.xMin, g.yMin, g.xMax, g.yMax, len(g.coordinates), g.numberOfContours)
        else:
            out[gid] = (b"", 0, 0, 0, 0, 0, 0)
        if k % 64 == 63:
            prep.tick(k + 1)
    prep.tick(len(gids))
    return out
