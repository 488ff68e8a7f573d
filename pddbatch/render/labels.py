"""Waybill label files: each parcel's label is laid out once and emitted as PDF, ZPL or both.

The layout (`labelpage.LabelEngine.page_ops`) is most of a label's cost, so a run that prints both a
PDF and a ZPL file draws every label once. A file is drawn in runs of CHUNK labels (`draw_run`) and
written from its runs in order (`write_label_file`), so memory stays a run or two whatever its size.
Big files' runs are drawn by forked workers (`render.pool`; parcels are inherited, not pickled) —
for a whole run of documents, one pool shares out every file's runs and the table documents. Small
files, and platforms without fork (a spawned worker would re-import the host program — Excel's
embedded Python, say), draw in this process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pddbatch.model import Parcel
from pddbatch.parallel import can_fork
from pddbatch.render.atomic import atomic_path
from pddbatch.render.fonts import FontUse
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


@dataclass
class LabelJob:
    """One label file's parcels (in print order) and settings; which of PDF / ZPL it makes."""

    parcels: Sequence[Parcel]
    settings: RenderSettings
    pdf: bool = True
    zpl: bool = False

    def layout(self) -> Layout:
        return layout_for(self.settings.label_size, self.settings.layout_dir)

    def fonts(self) -> list[FontUse]:
        return fonts()

    def prepare(self) -> None:
        """Load the layout and the font metrics now (before workers fork: they inherit them)."""
        self.layout()
        self.fonts()


def run_bounds(total: int) -> list[tuple[int, int]]:
    """The runs a file of `total` labels is drawn in: [lo, hi) of CHUNK labels."""
    return [(lo, min(lo + CHUNK, total)) for lo in range(0, total, CHUNK)]


def pooled(total: int, settings: RenderSettings) -> bool:
    """Whether labels this many are worth forked workers here."""
    return total >= PARALLEL_MIN and workers(settings) >= 2 and can_fork()


def render_label_files(parcels: Sequence[Parcel], settings: RenderSettings, *, pdf: Path | None = None,
                       zpl: Path | None = None) -> tuple[int, list[str]]:
    """One label per parcel, in order, to the PDF and/or ZPL path (each written atomically).

    Returns (labels, warnings). Carriers may be mixed (reprints); each carrier's fixed parts are drawn
    once per file (a PDF form; the head of every ZPL label). A big file is drawn by forked workers
    (render.pool); a run's documents together go through `render.write_documents`' one pool instead.
    """
    if not parcels:
        raise ValueError("render_label_files needs at least one parcel")
    if pdf is None and zpl is None:
        raise ValueError("render_label_files needs a PDF or a ZPL path")
    job = LabelJob(parcels, settings, pdf is not None, zpl is not None)
    n_workers = min(workers(settings), max(1, len(parcels) // CHUNK))
    if not pooled(len(parcels), settings) or n_workers < 2:
        return write_label_file(job, draw_runs(job), pdf=pdf, zpl=zpl)
    from pddbatch.render.pool import RenderPool, spool_folder, taken  # (pool imports this module)

    with RenderPool(n_workers, [job], spool_dir=spool_folder()) as pool:
        return write_label_file(job, taken(pool.label_runs(0)), pdf=pdf, zpl=zpl)


def draw_runs(job: LabelJob) -> Iterator[Run]:
    """A file's runs drawn in this process, one after the other (each written before the next is drawn)."""
    glyphs = ZplGlyphs(job.fonts()) if job.zpl else None
    for lo, hi in run_bounds(len(job.parcels)):
        yield draw_run(job, lo, hi, glyphs)


def write_label_file(job: LabelJob, runs: Iterable[Run], *, pdf: Path | None, zpl: Path | None) -> tuple[int, list[str]]:
    """Write the file(s) of `job` from its runs, taken in order; (labels, warnings told once)."""
    parcels = job.parcels
    carriers = {p.carrier.code: p.carrier for p in parcels}
    if any(not re.fullmatch(r"[A-Za-z0-9_]+", c) for c in carriers):
        raise ValueError("carrier codes must be alphanumeric")
    layout, fs, total = job.layout(), job.fonts(), len(parcels)
    with ExitStack() as stack:
        pdf_out = zpl_out = None
        if pdf is not None:
            tmp = stack.enter_context(atomic_path(pdf))
            pdf_out = PdfLabelWriter(stack.enter_context(tmp.open("wb")), layout, job.settings, fs, total)
        if zpl is not None:
            ztmp = stack.enter_context(atomic_path(zpl))
            zpl_out = ZplLabelWriter(stack.enter_context(ztmp.open("wb")))
        warnings: list[str] = []
        routes, no_glyph = RouteFindings(), set()
        # runs are written as they arrive, while the workers draw the next ones
        for run in runs:
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


def draw_run(job: LabelJob, lo: int, hi: int, glyphs: ZplGlyphs | None, spool: Path | None = None) -> Run:
    """Labels lo+1..hi of the file, drawn as one run (`glyphs`: this process's, kept between runs;
    `spool`: a part file for the run's ZPL labels, written here rather than sent back)."""
    parcels, settings, total = job.parcels[lo:hi], job.settings, len(job.parcels)
    layout, fs = job.layout(), job.fonts()
    engine = LabelEngine(layout, settings, fs)
    pages = PdfPages(layout, settings, fs) if job.pdf else None
    labels = ZplPages(layout, engine, fs, glyphs) if job.zpl and glyphs is not None else None
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
    return Run(pages.chunk() if pages else None, labels.chunk(spool) if labels else None, [f.used for f in fs],
               set().union(*(f.no_glyph for f in fs)), engine.warnings, engine.routes)


def _glyph_warnings(no_glyph: set[str]) -> list[str]:
    missing = "".join(sorted(no_glyph))
    return [f"字体中没有这些字，面单上会显示为方框：{missing} / no glyph for: {missing}"] if missing else []


def workers(settings: RenderSettings) -> int:
    return settings.workers if settings.workers > 0 else (os.cpu_count() or 1)
