"""Reprint labels from the ledger: the numbers come from the ledger, nothing is allocated.

The ledger keeps no copy of buyers' addresses; the label text is read again from the workbook each
parcel was numbered from (its path is in the ledger), or from `workbook` when it moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from pddbatch.carriers import all_carriers
from pddbatch.clock import china_now
from pddbatch.config import find_config, load_config
from pddbatch.documents import default_out_dir, render_settings
from pddbatch.errors import InputError, LedgerError
from pddbatch.ledger import Ledger, ParcelRecord, ledger_exists
from pddbatch.ledger import masked as shown_location
from pddbatch.messages import masked_reprint_text
from pddbatch.model import BatchResult, Order, Parcel
from pddbatch.pipeline.options import Clock, Options, no_progress
from pddbatch.pipeline.prepare import prepare
from pddbatch.plan.parcels import parcel_key
from pddbatch.workbook.backend import FileSheet


@dataclass
class ReprintResult:
    parcels: int = 0
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)   # keys the ledger doesn't know


def reprint(keys: Sequence[str], *, run_id: int | None = None, config_path: Path | None = None,
            workbook: Path | None = None, out_dir: Path | None = None, label_size: str | None = None,
            zpl: bool | None = None, now: datetime | None = None, lang: str = "zh") -> ReprintResult:
    """Render labels again for parcels found by order number / tracking number, or by run id.

    The labels go to `--out`, else `reprint-<time>/` inside the run's output folder (the config's
    [output] folder, else `<workbook>.pddbatch/`).
    """
    config = load_config(find_config(workbook, config_path)) if (config_path or workbook) else \
        load_config(find_config(None, None))
    if not ledger_exists(config.ledger):
        raise LedgerError(f"台账不存在：{shown_location(config.ledger)}", f"No ledger at {shown_location(config.ledger)}")
    result = ReprintResult()
    with Ledger.open(config.ledger) as ledger:
        records = ledger.parcels_for_run(run_id) if run_id is not None else ledger.find_parcels(keys)
        records = list({r.id: r for r in records if r.state == "live"}.values())
        if run_id is None:
            found = {r.tracking_no for r in records} | {sn for r in records for sn in r.order_sns}
            result.missing = [k for k in keys if k.strip() not in found and k.strip().upper() not in found]
        if not records:
            if run_id is None and not ledger.find_parcels(keys, live_only=False):
                shown = "、".join(k.strip() for k in keys)
                raise InputError(f"{shown} 从未分配过单号（台账中没有），没有可补打的面单；请先用 pddbatch process 处理",
                                 f"{', '.join(k.strip() for k in keys)} never got a number (not in the ledger): "
                                 f"nothing to reprint; run pddbatch process first")
            raise InputError("台账中没有找到要补打的包裹（已作废的包裹不能补打）",
                             "No live parcel found in the ledger for that (voided parcels can't be reprinted)")
        by_book: dict[str, list[ParcelRecord]] = {}
        for r in records:
            by_book.setdefault(str(workbook) if workbook else r.workbook, []).append(r)
        parcels: list[Parcel] = []
        carriers = all_carriers()
        for book, recs in by_book.items():
            path = Path(book)
            if not path.is_file():
                raise InputError(f"包裹所在的工作簿已不在原处：{book}；请用 --workbook 指定它现在的位置",
                                 f"The workbook these parcels came from is gone: {book}; pass --workbook")
            prep = prepare(FileSheet(path, lang), Options(lang=lang), lang, Clock(BatchResult("reprint", book)),
                           no_progress, planning=False)
            orders: dict[str, Order] = {o.order_sn: o for o in prep.validation.orders}
            for rec in recs:
                members = tuple(orders[sn] for sn in rec.order_sns if sn in orders)
                if not members:
                    raise InputError(f"工作簿 {path.name} 中找不到包裹 {rec.tracking_no} 的订单",
                                     f"{path.name} no longer holds the orders of parcel {rec.tracking_no}")
                if members[0].receiver.masked:     # never print a masked value as if it were deliverable
                    masked = members[0].receiver.masked
                    raise InputError(masked_reprint_text(masked, rec.tracking_no, "zh"),
                                     masked_reprint_text(masked, rec.tracking_no, "en"))
                parcels.append(Parcel(key=parcel_key(o.order_sn for o in members), orders=members,
                                      carrier=carriers[rec.carrier_code], receiver=members[0].receiver,
                                      tracking_no=rec.tracking_no, label_size=label_size or config.label_size))
        stamp = (now or china_now()).strftime("%Y%m%d-%H%M%S")
        first_book = Path(next(iter(by_book)))
        target = out_dir or default_out_dir(first_book, config) / f"reprint-{stamp}"
        target.mkdir(parents=True, exist_ok=True)
        settings = render_settings(config, label_size=label_size, zpl=zpl, now=now or china_now(), lang=lang)
        from pddbatch.render import render_labels  # drawing is needed here only (and not in xlwings Lite)

        by_carrier: dict[str, list[Parcel]] = {}
        for p in parcels:
            by_carrier.setdefault(p.carrier.code, []).append(replace(p, label_size=settings.label_size))
        for code, group in by_carrier.items():
            path = target / f"labels-{code}.pdf"
            render_labels(group, path, settings)
            result.files.append(str(path))
            if settings.zpl:
                zpath = target / f"labels-{code}.zpl"
                render_labels(group, zpath, settings)
                result.files.append(str(zpath))
        ledger.record_reprint([r.id for r in records], run_id)
        result.parcels = len(parcels)
    return result
