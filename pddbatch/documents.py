"""The run's output folder: labels and documents, earlier runs' files kept, summary.json."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pddbatch.config import Config
from pddbatch.jsontext import readable_json
from pddbatch.model import BatchResult, Parcel

if TYPE_CHECKING:
    from pddbatch.render import RenderSettings

LEDGER_SUMMARY_URGENT = 20      # urgent orders a run's ledger summary names (the rest are counted)

def default_out_dir(path: Path, config: Config) -> Path:
    if config.out_dir:
        base = Path(config.out_dir)
        return base if base.is_absolute() else config.path.parent / base
    return path.with_name(path.stem + ".pddbatch")


def render_documents(parcels: Sequence[Parcel], out_dir: Path, config: Config, lang: str, now: datetime,
                     result: BatchResult, sku_names: dict[str, str] | None = None, *, label_size: str | None = None,
                     zpl: bool | None = None, after_labels: Callable[[], None] | None = None,
                     progress: Callable[[str, int, int], None] | None = None) -> list[Path]:
    """Labels, pick list, bulk-ship file… for `parcels` into `out_dir` (earlier files moved to earlier/)."""
    from pddbatch.render import write_documents

    settings = render_settings(config, label_size=label_size, zpl=zpl, now=now, lang=lang, sku_names=sku_names)
    if label_size:     # --label-size: every label on that stock, whatever the rules said
        from dataclasses import replace

        parcels = [replace(p, label_size=label_size) for p in parcels]
    retire_earlier_outputs(out_dir, now)
    docs = write_documents(parcels, out_dir, settings, after_labels=after_labels, progress=progress)
    result.notes.extend(docs.warnings)
    return [f.path for f in docs.files]


def run_summary(result: BatchResult) -> dict[str, object]:
    """The run's figures for summary.json (no per-row issues: personal data stays in the workbook)."""
    data = result.to_json()
    data.pop("issues", None)
    return data


def ledger_summary(result: BatchResult) -> dict[str, object]:
    """What the ledger keeps about a run: bounded whatever the day's size (the urgent list is cut short)."""
    data = run_summary(result)
    urgent = result.urgent
    data["urgent"] = urgent[:LEDGER_SUMMARY_URGENT]
    data["urgent_count"] = len(urgent)
    data["notes"] = result.notes[:LEDGER_SUMMARY_URGENT]
    data["files"] = [Path(f).name for f in result.files[:LEDGER_SUMMARY_URGENT]]
    return data


def write_summary(out_dir: Path, result: BatchResult) -> None:

    target = out_dir / "summary.json"
    data = run_summary(result)
    data["files"] = [*result.files, str(target)]
    data["issue_count"] = len(result.issues)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(readable_json(data), encoding="utf-8")
    os.replace(tmp, target)
    result.files.append(str(target))


def render_settings(config: Config, *, label_size: str | None, zpl: bool | None, now: datetime, lang: str,
                    sku_names: dict[str, str] | None = None) -> RenderSettings:
    """The renderer's settings from the config, with the face's overrides."""
    from pddbatch.render import RenderSettings

    return RenderSettings(
        shop_name=config.shop_name, sender_name=config.sender.name, sender_phone=config.sender.phone,
        sender_address=config.sender.address, label_size=label_size or config.label_size,
        mask_phone=config.mask_phone, sort_by="deadline" if config.label_sort == "deadline" else "sku",
        zpl=config.zpl if zpl is None else zpl, packing_slips=config.packing_slips,
        printed_at=now.replace(microsecond=0), lang=lang, layout_dir=config.layout_dir,
        sku_names=sku_names or {}, routing=config.routing)


def retire_earlier_outputs(out_dir: Path, now: datetime) -> None:
    """Labels of an earlier run may still be unprinted: keep them, out of the way, never overwrite."""
    if not out_dir.is_dir():
        return
    old = [p for p in out_dir.iterdir() if p.is_file()]
    if not old:
        return
    dest = out_dir / "earlier" / now.strftime("%Y%m%d-%H%M%S")
    n = 1
    while dest.exists():
        n += 1
        dest = out_dir / "earlier" / f"{now:%Y%m%d-%H%M%S}-{n}"
    dest.mkdir(parents=True)
    for p in old:
        p.replace(dest / p.name)
