"""Print and hand over: labels (PDF, ZPL), pick list, packing slips, manifest, PDD bulk-ship upload.

`write_documents(parcels, out_dir, settings)` is what the pipeline calls; `render_labels` alone
serves `pddbatch reprint`. Every file is written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pddbatch.errors import PddBatchError
from pddbatch.model import Parcel
from pddbatch.render.fonts import Notice, preparation_notices
from pddbatch.render.labels import LabelJob, draw_runs, pooled, render_label_files, workers, write_label_file
from pddbatch.render.pool import RenderPool, spool_folder, taken
from pddbatch.render.settings import CountMismatchError, DocumentSet, OutputFile, RenderError, RenderSettings
from pddbatch.render.tables import manifest_rows, pick_list, text
from pddbatch.render.tables_pdf import Column, Section, write_tables_pdf
from pddbatch.render.workbooks import write_bulk_ship_xlsx, write_manifest_xlsx

__all__ = ["CountMismatchError", "DocumentSet", "OutputFile", "RenderError", "RenderSettings",
           "check_counts", "render_labels", "sort_parcels", "write_documents"]


def sort_parcels(parcels: Sequence[Parcel], sort_by: str) -> list[Parcel]:
    """The packer's order: by first SKU code (then key), or by ship-by deadline (none last)."""
    if sort_by == "deadline":
        far = datetime.max
        return sorted(parcels, key=lambda p: (p.promised_ship_at or far, p.key))
    return sorted(parcels, key=_sku_key)


def _sku_key(p: Parcel) -> tuple[str, str]:
    orders = p.orders
    if len(orders) == 1:        # most parcels: no generator (100,000 one-order parcels: 0.31 -> 0.12 s)
        return orders[0].sku, p.key
    return min((o.sku for o in orders), default=""), p.key


def _check_waybills(parcels: Sequence[Parcel]) -> None:
    missing = [p.key for p in parcels if not p.tracking_no.strip()]
    if missing:
        raise RenderError(f"{len(missing)} 个包裹没有快递单号，不能打印面单（如 {missing[0]}）",
                          f"{len(missing)} parcels have no tracking number, can't print labels (e.g. {missing[0]})")


def render_labels(parcels: Sequence[Parcel], path: Path, settings: RenderSettings) -> tuple[int, list[str]]:
    """Labels for `parcels` in the given order to `path` (.zpl -> ZPL, else PDF); (labels, warnings)."""
    _check_waybills(parcels)
    if not parcels:
        raise RenderError("没有要打印的面单", "No labels to print")
    if path.suffix.lower() == ".zpl":
        return render_label_files(parcels, settings, zpl=path)
    return render_label_files(parcels, settings, pdf=path)


def check_counts(labels: dict[str, int], manifest: dict[str, int]) -> None:
    """The manifest must list exactly the parcels that got labels, per carrier; else fatal."""
    if labels != manifest:
        raise CountMismatchError(f"交接清单与面单数量不一致：面单 {labels}，清单 {manifest}",
                                 f"Manifest and labels disagree: labels {labels}, manifest {manifest}")


def write_documents(parcels: Sequence[Parcel], out_dir: Path, settings: RenderSettings, *,
                    after_labels: Callable[[], None] | None = None,
                    progress: Notice | None = None) -> DocumentSet:
    """Write labels per carrier, pick list, optional packing slips, manifest and bulk-ship files.

    `after_labels` is called once the workers have every document and label run to draw (or, drawn
    here, once the label files are written): the pipeline works out the rows' outcomes there and
    hands them to its workbook write-back, a child forked before the workers.
    `progress(stage, done, total)` hears of one-time preparation over a second (stage "prepare_font":
    the label font's glyphs on a first run), at most once.
    """
    with preparation_notices(progress):
        return _write_documents(parcels, out_dir, settings, after_labels)


def _write_documents(parcels: Sequence[Parcel], out_dir: Path, settings: RenderSettings,
                     after_labels: Callable[[], None] | None) -> DocumentSet:
    """Every document of the run. A big run shares the work out to one pool of forked workers
    (render.pool): the A4 table documents (packing slips, manifest PDFs, pick list) and the two
    workbooks first — the longest single pieces — then every label file in runs; this process
    writes the label files from their runs in order. A small run, or a platform without fork, draws
    everything here. The workbook write-back (the pipeline's own child, given its plan by
    `after_labels`) shares the cores with the pool. A job's ZPL file is
    drawn with its PDF (one layout per label). Files are listed in the same order either way.
    """
    _check_waybills(parcels)
    if not parcels:
        raise RenderError("没有已分配单号的包裹，不生成单据", "No allocated parcels: no documents written")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PddBatchError(f"无法创建输出目录 {out_dir}：{exc}", f"Can't create {out_dir}: {exc}") from exc
    ordered = sort_parcels(parcels, settings.sort_by)
    by_carrier: dict[str, list[Parcel]] = {}
    for p in ordered:
        by_carrier.setdefault(p.carrier.code, []).append(p)
    # a carrier rule may ask for another stock (100x180 二联单): one file per size, the settings'
    # size keeps the plain name so a printer loaded with it takes labels-<CODE>.pdf
    jobs: list[tuple[str, str, list[Parcel]]] = []
    for code, group in by_carrier.items():
        sizes: dict[str, list[Parcel]] = {}
        for p in group:
            sizes.setdefault(p.label_size or settings.label_size, []).append(p)
        jobs += [(code, size, members) for size, members in sizes.items()]
    jobs.sort(key=lambda job: -len(job[2]))       # big files first
    label_jobs = [LabelJob(members, _stem(code, size, settings)[1], True, settings.zpl)
                  for code, size, members in jobs]
    paths = [_label_paths(out_dir, code, size, settings) for code, size, _ in jobs]
    stamp = settings.printed_at.strftime("%Y-%m-%d %H:%M")
    tasks: list[Callable[[], Any]] = [
        lambda: _table_documents(ordered, by_carrier, out_dir, settings),
        lambda: write_manifest_xlsx(out_dir / "manifest.xlsx", by_carrier, pick_list(ordered), settings.lang, stamp,
                                    settings.printed_at),
        lambda: write_bulk_ship_xlsx(out_dir / "pdd-bulk-ship.xlsx", ordered, settings.printed_at),
    ]
    drawn: list[tuple[int, list[str]]] = []
    if pooled(len(ordered), settings):
        with RenderPool(workers(settings), label_jobs, tasks, spool_dir=spool_folder()) as pool:
            documents = [pool.task(k) for k in range(len(tasks))]
            runs = [pool.label_runs(j) for j in range(len(label_jobs))]
            if after_labels is not None:      # the workers are drawing
                after_labels()
            for job, pending, (pdf, zpl) in zip(label_jobs, runs, paths, strict=True):
                drawn.append(write_label_file(job, taken(pending), pdf=pdf, zpl=zpl))
            table_files, manifest, _ = (d.result() for d in documents)
    else:
        for job, (pdf, zpl) in zip(label_jobs, paths, strict=True):
            drawn.append(write_label_file(job, draw_runs(job), pdf=pdf, zpl=zpl))
        if after_labels is not None:
            after_labels()
        table_files, manifest, _ = (task() for task in tasks)
    labels: dict[str, int] = dict.fromkeys(by_carrier, 0)
    warnings: list[str] = []
    files: list[OutputFile] = []
    for (code, _size, _), (count, warn), (pdf, zpl) in zip(jobs, drawn, paths, strict=True):
        labels[code] += count
        warnings.extend(warn)
        files.append(OutputFile("labels-pdf", pdf, code))
        if zpl is not None:
            files.append(OutputFile("labels-zpl", zpl, code))
    files.append(OutputFile("manifest-xlsx", out_dir / "manifest.xlsx"))
    files += table_files
    files.append(OutputFile("bulk-ship", out_dir / "pdd-bulk-ship.xlsx"))
    check_counts(labels, dict(manifest))
    return DocumentSet(tuple(files), labels, dict(manifest), tuple(warnings))


def _label_paths(out_dir: Path, code: str, size: str, settings: RenderSettings) -> tuple[Path, Path | None]:
    stem, _ = _stem(code, size, settings)
    return out_dir / f"{stem}.pdf", (out_dir / f"{stem}.zpl" if settings.zpl else None)


def _stem(code: str, size: str, settings: RenderSettings) -> tuple[str, RenderSettings]:
    if size == settings.label_size:
        return f"labels-{code}", settings
    return f"labels-{code}-{size}", replace(settings, label_size=size)


def _table_documents(ordered: Sequence[Parcel], by_carrier: dict[str, list[Parcel]], out_dir: Path,
                     settings: RenderSettings) -> list[OutputFile]:
    """The A4 documents: a manifest PDF per carrier, the pick list, the packing slips if asked for."""
    files: list[OutputFile] = []
    t: dict[str, Any] = text(settings.lang)
    stamp = settings.printed_at.strftime("%Y-%m-%d %H:%M")
    for code, group in by_carrier.items():
        path = out_dir / f"manifest-{code}.pdf"
        _manifest_pdf(path, group, settings, t, stamp)
        files.append(OutputFile("manifest-pdf", path, code))
    picks = pick_list(ordered)
    pick_cols = (Column(t["pick_cols"][0], 12, "right"), Column(t["pick_cols"][1], 36),
                 Column(t["pick_cols"][2], 64), Column(t["pick_cols"][3], 40),
                 Column(t["pick_cols"][4], 17, "right"), Column(t["pick_cols"][5], 17, "right"))
    rows = [(str(i), p.sku, p.product, p.spec, str(p.quantity), str(p.orders)) for i, p in enumerate(picks, 1)]
    rows.append(("", t["total"], "", "", str(sum(p.quantity for p in picks)), str(sum(p.orders for p in picks))))
    path = out_dir / "picklist.pdf"
    write_tables_pdf(path, [Section(f"{t['picklist']}  {settings.shop_name}", pick_cols, rows,
                                    info=(stamp,), bold_last_row=True)], str(t["picklist"]), settings.lang)
    files.append(OutputFile("picklist", path))
    if settings.packing_slips:
        path = out_dir / "packing-slips.pdf"
        _packing_slips(path, ordered, settings, t)
        files.append(OutputFile("packing-slips", path))
    return files


def _manifest_pdf(path: Path, group: Sequence[Parcel], s: RenderSettings, t: dict[str, Any], stamp: str) -> None:
    c = t["man_cols"]
    cols = (Column(c[0], 12, "right"), Column(c[1], 38), Column(c[2], 70), Column(c[3], 26),
            Column(c[4], 16, "right"), Column(c[5], 24, "right"))
    rows = manifest_rows(group)
    table = [(str(r.seq), r.tracking_no, r.order_sns, r.city, str(r.pieces),
              "" if r.weight_g is None else str(r.weight_g)) for r in rows]
    weights = [r.weight_g for r in rows if r.weight_g is not None]
    table.append(("", t["total"], f"{len(rows)} {t['parcels']}", "", str(sum(r.pieces for r in rows)),
                  str(sum(weights)) if weights else ""))
    name = group[0].carrier.pdd_name
    footer = tuple(f"{h}：____________________" for h in t["handover"])
    write_tables_pdf(path, [Section(f"{name} {t['manifest']}", cols, table,
                                    info=(f"{s.shop_name}  {s.sender_name}  {stamp}",), footer=footer,
                                    bold_last_row=True)], f"{name} {t['manifest']}", s.lang)


def _packing_slips(path: Path, parcels: Sequence[Parcel], s: RenderSettings, t: dict[str, Any]) -> None:
    c = t["slip_cols"]
    cols = (Column(c[0], 50), Column(c[1], 62), Column(c[2], 34), Column(c[3], 24), Column(c[4], 16, "right"))
    title = f"{t['slip']}  {s.shop_name}"

    def sections() -> Iterator[Section]:   # one at a time: a big day has tens of thousands
        for p in parcels:
            r = p.receiver
            rows = [(o.order_sn, o.product, o.spec, o.sku, str(o.quantity)) for o in p.orders]
            info = (f"{p.carrier.pdd_name} {p.tracking_no}", f"{r.name}  {r.full_address}",
                    *(f"备注：{o.merchant_remark}" for o in p.orders if o.merchant_remark))
            yield Section(title, cols, rows, info=info)

    write_tables_pdf(path, sections(), str(t["slip"]), s.lang)
