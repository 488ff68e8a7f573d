"""Waybill label files: each parcel's label is laid out once and emitted as PDF, ZPL or both.

The layout (`labelpage.LabelEngine.page_ops`) is most of a label's cost, so a run that prints both a
PDF and a ZPL file draws every label once. Big files are drawn in runs of CHUNK labels by forked
worker processes (parcels are not pickled: they are inherited); the parent appends the runs to the
open files in order as they arrive, so memory stays one run per worker. Small files, and platforms
without fork (a spawned worker would re-import the host program — Excel's embedded Python, say),
draw in this process.
"""

from __future__ import annotations

import gc
import itertools
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from pddbatch.model import Parcel
from pddbatch.parallel import can_fork
from pddbatch.render.atomic import atomic_path
from pddbatch.render.labelpage import LabelEngine, RouteFindings, static_context
from pddbatch.render.labels_pdf import PdfLabelWriter, PdfPages, fonts
from pddbatch.render.labels_zpl import ZplChunk, ZplGlyphs, ZplLabelWriter, ZplPages
from pddbatch.render.layout import Layout, load_layout
from pddbatch.render.settings import RenderSettings

PARALLEL_MIN = 3000     # below this, one process is faster than starting workers
CHUNK = 2500



@dataclass
class Run:
    """One run of labels, drawn: its PDF page objects and ZPL labels, and what it noticed. What it
    noticed is merged over the file's runs and told once (counts are the whole file's)."""

    pdf: tuple[bytes, list[tuple[int, int]]] | None
    zpl: ZplChunk | None
    used: list[set[str]]              # chars drawn, per font (the PDF's font subsets)
    no_glyph: set[str]                # chars the font lacks
    warnings: list[str]
    routes: RouteFindings


@cache
def layout_for(label_size: str, layout_dir: Path | None) -> Layout:
    return load_layout(label_size, layout_dir)


def render_label_files(parcels: Sequence[Parcel], settings: RenderSettings, *, pdf: Path | None = None,
                       zpl: Path | None = None) -> tuple[int, list[str]]:
    """One label per parcel, in order, to the PDF and/or ZPL path (each written atomically).

    Returns (labels, warnings). Carriers may be mixed (reprints); each carrier's fixed parts are drawn
    once per file (a PDF form; the head of every ZPL label).
    """
    global _JOB
    if not parcels:
        raise ValueError("render_label_files needs at least one parcel")
    if pdf is None and zpl is None:
        raise ValueError("render_label_files needs a PDF or a ZPL path")
    carriers = {p.carrier.code: p.carrier for p in parcels}
    if any(not re.fullmatch(r"[A-Za-z0-9_]+", c) for c in carriers):
        raise ValueError("carrier codes must be alphanumeric")
    layout = layout_for(settings.label_size, settings.layout_dir)
    fs = fonts()
    total = len(parcels)
    n_workers = min(_workers(settings), max(1, total // CHUNK))
    want = (pdf is not None, zpl is not None)
    with ExitStack() as stack:
        results: Iterable[Run]
        bounds = [(lo, min(lo + CHUNK, total)) for lo in range(0, total, CHUNK)]
        if total < PARALLEL_MIN or n_workers < 2 or not can_fork():
            # in runs too, one after the other: a run's labels are written before the next is drawn
            glyphs = ZplGlyphs(fs) if zpl else None
            results = (_render_pages(parcels[lo:hi], lo, total, settings, want, glyphs) for lo, hi in bounds)
        else:
            _JOB = (parcels, settings, want, next(_JOB_IDS))
            stack.callback(_clear_job)
            gc.freeze()   # keep the parent's objects out of the workers' GC scans (and copy-on-write)
            stack.callback(gc.unfreeze)
            ex = stack.enter_context(ProcessPoolExecutor(n_workers, mp_context=get_context("fork")))
            results = ex.map(_render_chunk, bounds)
        pdf_out = zpl_out = None
        if pdf is not None:
            tmp = stack.enter_context(atomic_path(pdf))
            pdf_out = PdfLabelWriter(stack.enter_context(tmp.open("wb")), layout, settings, fs, total)
        if zpl is not None:
            ztmp = stack.enter_context(atomic_path(zpl))
            zpl_out = ZplLabelWriter(stack.enter_context(ztmp.open("w", encoding="ascii", newline="\n")))
        warnings: list[str] = []
        routes, no_glyph = RouteFindings(), set()
        # runs are written as they arrive, while the workers draw the next ones
        for run in results:
            if pdf_out is not None and run.pdf is not None:
                pdf_out.add(*run.pdf)
                for f, u in zip(fs, run.used, strict=True):
                    f.used |= u
            if zpl_out is not None and run.zpl is not None:
                zpl_out.add(run.zpl)
            warnings += run.warnings
            routes.merge(run.routes)
            no_glyph |= run.no_glyph
        if pdf_out is not None:
            warnings = pdf_out.finish(carriers) + warnings      # (the fixed parts: drawn with `fs` here)
        no_glyph |= set().union(*(f.no_glyph for f in fs))
        warnings += routes.warnings() + _glyph_warnings(no_glyph)
    return total, list(dict.fromkeys(warnings))


# Worker state: set in the parent before forking, so parcels are not pickled on fork platforms.
_JOB: tuple[Sequence[Parcel], RenderSettings, tuple[bool, bool], int] | None = None
_JOB_IDS = itertools.count(1)
_WORKER_GLYPHS: dict[int, ZplGlyphs] = {}     # in a worker: its glyphs for the file being drawn


def _render_chunk(bounds: tuple[int, int]) -> Run:
    lo, hi = bounds
    assert _JOB is not None, "workers are forked after _JOB is set"
    parcels, settings, want, job = _JOB
    glyphs = None
    if want[1]:
        glyphs = _WORKER_GLYPHS.get(job)
        if glyphs is None:
            _WORKER_GLYPHS.clear()
            glyphs = _WORKER_GLYPHS[job] = ZplGlyphs(fonts())
    return _render_pages(parcels[lo:hi], lo, len(parcels), settings, want, glyphs)


def _clear_job() -> None:
    global _JOB
    _JOB = None


def _render_pages(parcels: Sequence[Parcel], lo: int, total: int, settings: RenderSettings,
                  want: tuple[bool, bool], glyphs: ZplGlyphs | None) -> Run:
    """Labels lo+1.. of the file, drawn as one run."""
    layout = layout_for(settings.label_size, settings.layout_dir)
    fs = fonts()
    engine = LabelEngine(layout, settings, fs)
    pages = PdfPages(layout, settings, fs) if want[0] else None
    labels = ZplPages(layout, engine, fs, glyphs) if want[1] and glyphs is not None else None
    bases: dict[str, dict[str, Any]] = {}
    for i, p in enumerate(parcels):
        carrier = p.carrier
        base = bases.get(carrier.code)
        if base is None:
            base = bases[carrier.code] = static_context(carrier, settings)
        ops = engine.page_ops(p, base, lo + i + 1, total)
        if pages is not None:
            pages.add(lo + i, carrier.code, ops)
        if labels is not None:
            labels.add(carrier, ops)
    return Run(pages.chunk() if pages else None, labels.chunk() if labels else None, [f.used for f in fs],
               set().union(*(f.no_glyph for f in fs)), engine.warnings, engine.routes)


def _glyph_warnings(no_glyph: set[str]) -> list[str]:
    missing = "".join(sorted(no_glyph))
    return [f"字体中没有这些字，面单上会显示为方框：{missing} / no glyph for: {missing}"] if missing else []


def _workers(settings: RenderSettings) -> int:
    return settings.workers if settings.workers > 0 else (os.cpu_count() or 1)
