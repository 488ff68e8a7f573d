"""Waybill labels as PDF: one page per parcel, fixed parts in one Form XObject, pages in parallel.

Object numbers are fixed in advance (page i is objects FIRST_PAGE + 2i and + 2i + 1; one form per
carrier follows the pages), so worker
processes serialise whole page objects and the parent only concatenates blobs and writes the fonts
(one subset per file), the form and the xref.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from pddbatch.model import Carrier, Parcel
from pddbatch.parallel import can_fork
from pddbatch.render.atomic import atomic_path
from pddbatch.render.fonts import FontUse, font_metrics
from pddbatch.render.labelpage import ASCENT, LabelEngine, Op, static_context
from pddbatch.render.layout import Layout, load_layout
from pddbatch.render.pdf import FONT_OBJECTS, MM, PdfFile, num, pdf_text_string, stream_obj, write_font
from pddbatch.render.settings import RenderSettings

CATALOG, PAGES, RESOURCES = 1, 2, 3
FONT_REGULAR = 4
FONT_BOLD = FONT_REGULAR + FONT_OBJECTS
FIRST_PAGE = FONT_BOLD + FONT_OBJECTS
PARALLEL_MIN = 3000     # below this, one process is faster than starting workers
CHUNK = 2500


def fonts() -> list[FontUse]:
    return [FontUse(font_metrics("regular")), FontUse(font_metrics("bold"))]


@cache
def _layout(label_size: str, layout_dir: Path | None) -> Layout:
    return load_layout(label_size, layout_dir)


def content(ops: Sequence[Op], height: float, hexes: Sequence[Callable[[str], str]]) -> bytes:
    """The content stream for ops (see labelpage); y is flipped to PDF's bottom-up space.

    `hexes[i](text)` gives font i's glyph ids as hex (FontUse.hex, or the table writer's cached form).
    Formatted coordinates are remembered within a stream: table columns and rows repeat them.
    """
    out: list[str] = []
    bt = False
    cur: tuple[int, float] | None = None
    xs: dict[float, str] = {}
    ys: dict[tuple[float, float], str] = {}
    for op in ops:
        kind = op[0]
        if kind == "T":
            _, x, y, size, fi, s = op
            if not bt:
                out.append("BT\n")
                bt = True
            if cur != (fi, size):
                out.append(f"/F{fi} {num(size)} Tf\n")
                cur = (fi, size)
            fx = xs.get(x)
            if fx is None:
                fx = xs[x] = f"1 0 0 1 {x:.2f} "
            fy = ys.get((y, size))
            if fy is None:
                fy = ys[(y, size)] = f"{height - y - ASCENT * size:.2f} Tm <"
            out.append(f"{fx}{fy}{hexes[fi](s)}> Tj\n")
            continue
        if bt:
            out.append("ET\n")
            bt, cur = False, None
        if kind == "B":
            _, x, y, m, h, bars, _data = op
            yb = f" {height - y - h:.2f} "
            hs = f" {h:.2f} re\n"
            out.append("".join([f"{x + a * m:.3f}{yb}{w * m:.3f}{hs}" for a, w in bars]))
            out.append("f\n")
        elif kind == "L":
            _, x1, y1, x2, y2, w, dash = op
            out.append(f"{'[3 2] 0 d ' if dash else ''}{w:.2f} w {x1:.2f} {height - y1:.2f} m "
                       f"{x2:.2f} {height - y2:.2f} l S{' [] 0 d' if dash else ''}\n")
    if bt:
        out.append("ET\n")
    return "".join(out).encode("latin-1")


# Worker state: set in the parent before forking, so parcels are not pickled on fork platforms.
_JOB: tuple[Sequence[Parcel], RenderSettings] | None = None


def _render_chunk(args: tuple[int, int, int]) -> tuple[Any, ...]:
    lo, hi, total = args
    assert _JOB is not None, "workers are forked after _JOB is set"
    return _render_pages(_JOB[0][lo:hi], lo, total, _JOB[1])


Chunk = tuple[bytes, list[tuple[int, int]], list[set[str]], list[str]]


def _render_pages(parcels: Sequence[Parcel], lo: int, total: int, settings: RenderSettings) -> Chunk:
    """Page objects for parcels[lo:...] as one blob: (blob, [(obj, offset)], chars used per font, warnings)."""
    layout = _layout(settings.label_size, settings.layout_dir)
    fs = fonts()
    engine = LabelEngine(layout, settings, fs)
    hexes = [f.hex for f in fs]
    bases: dict[str, tuple[bytes, dict[str, Any]]] = {}
    w, h = layout.width_mm * MM, layout.height_mm * MM
    head = f"/Type /Page /Parent {PAGES} 0 R /MediaBox [0 0 {w:.4f} {h:.4f}] /Resources {RESOURCES} 0 R"
    parts: list[bytes] = []
    rel: list[tuple[int, int]] = []
    pos = 0
    level = settings.compress
    for i, p in enumerate(parcels):
        code = p.carrier.code
        if code not in bases:
            bases[code] = (b"/Fx%s Do\n" % code.encode(), static_context(p.carrier, settings))
        form, base = bases[code]
        n = FIRST_PAGE + 2 * (lo + i)
        page = b"%d 0 obj\n<< %s /Contents %d 0 R >>\nendobj\n" % (n, head.encode(), n + 1)
        stream = stream_obj(n + 1, form + content(engine.page_ops(p, base, lo + i + 1, total), h, hexes),
                            level=level)
        rel.append((n, pos))
        rel.append((n + 1, pos + len(page)))
        pos += len(page) + len(stream)
        parts += (page, stream)
    return (b"".join(parts), rel, [f.used for f in fs],
            engine.warnings + engine.route_warnings() + _glyph_warnings(fs))


def _glyph_warnings(fs: Sequence[FontUse]) -> list[str]:
    missing = "".join(sorted(set().union(*(f.no_glyph for f in fs))))
    return [f"字体中没有这些字，面单上会显示为方框：{missing} / no glyph for: {missing}"] if missing else []


def _workers(settings: RenderSettings) -> int:
    return settings.workers if settings.workers > 0 else (os.cpu_count() or 1)


def render_labels(parcels: Sequence[Parcel], path: Path, settings: RenderSettings) -> tuple[int, list[str]]:
    """Write one PDF page per parcel, in order, to `path` atomically; (pages, warnings).

    Carriers may be mixed (reprints); each carrier's fixed parts are one Form XObject.
    """
    global _JOB
    if not parcels:
        raise ValueError("render_labels needs at least one parcel")
    carriers = {p.carrier.code: p.carrier for p in parcels}
    if any(not re.fullmatch(r"[A-Za-z0-9_]+", c) for c in carriers):
        raise ValueError("carrier codes must be alphanumeric")
    layout = _layout(settings.label_size, settings.layout_dir)
    fs = fonts()
    total = len(parcels)
    n_workers = min(_workers(settings), max(1, total // CHUNK))
    with ExitStack() as stack:
        results: Iterable[tuple[Any, ...]]
        if total < PARALLEL_MIN or n_workers < 2 or not can_fork():
            # Spawn platforms (Windows, macOS) render in-process: a spawned worker would re-import the
            # host program (e.g. Excel's embedded Python) and pickle every parcel.
            results = [_render_pages(parcels, 0, total, settings)]
        else:
            bounds = [(lo, min(lo + CHUNK, total)) for lo in range(0, total, CHUNK)]
            _JOB = (parcels, settings)
            stack.callback(_clear_job)
            gc.freeze()   # keep the parent's objects out of the workers' GC scans (and copy-on-write)
            stack.callback(gc.unfreeze)
            ex = stack.enter_context(ProcessPoolExecutor(n_workers, mp_context=get_context("fork")))
            results = ex.map(_render_chunk, [(lo, hi, total) for lo, hi in bounds])
        # Chunks are written as they arrive, while the workers render the next ones.
        return _assemble(path, results, carriers, layout, settings, fs, total)


def _clear_job() -> None:
    global _JOB
    _JOB = None


def _assemble(path: Path, results: Iterable[tuple[Any, ...]], carriers: dict[str, Carrier], layout: Layout,
              settings: RenderSettings, fs: list[FontUse], total: int) -> tuple[int, list[str]]:
    engine = LabelEngine(layout, settings, fs)
    w, h = layout.width_mm * MM, layout.height_mm * MM
    forms = {code: content(engine.static_ops(c), h, [f.hex for f in fs]) for code, c in carriers.items()}
    form_obj = {code: FIRST_PAGE + 2 * total + k for k, code in enumerate(carriers)}
    info = FIRST_PAGE + 2 * total + len(carriers)
    names = "、".join(c.pdd_name for c in carriers.values())
    warnings = list(engine.warnings)
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        pdf = PdfFile(fh)
        for blob, rel, used, warn in results:
            pdf.blob(blob, rel)
            for f, u in zip(fs, used, strict=True):
                f.used |= u
            warnings += warn
        kids = " ".join(f"{FIRST_PAGE + 2 * i} 0 R" for i in range(total))
        pdf.obj(PAGES, f"<< /Type /Pages /Count {total} /Kids [{kids}] >>")
        xobjects = " ".join(f"/Fx{code} {n} 0 R" for code, n in form_obj.items())
        pdf.obj(RESOURCES, f"<< /Font << /F0 {FONT_REGULAR} 0 R /F1 {FONT_BOLD} 0 R >> "
                           f"/XObject << {xobjects} >> /ProcSet [/PDF /Text] >>")
        for code, n in form_obj.items():
            pdf.stream(n, forms[code], f" /Type /XObject /Subtype /Form /BBox [0 0 {w:.4f} {h:.4f}] "
                                       f"/Resources << /Font << /F0 {FONT_REGULAR} 0 R /F1 {FONT_BOLD} 0 R >> >>")
        write_font(pdf, FONT_REGULAR, fs[0])
        write_font(pdf, FONT_BOLD, fs[1])
        pdf.obj(info, f"<< /Title {pdf_text_string(names + ' 面单')} /Producer (pddbatch) >>")
        pdf.obj(CATALOG, f"<< /Type /Catalog /Pages {PAGES} 0 R >>")
        pdf.finish(CATALOG, f" /Info {info} 0 R")
    return total, list(dict.fromkeys(warnings))


