"""`pddbatch track`: where is every parcel, which ones need the seller now (exit 1 when any do)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click

from pddbatch.cli.main import LANG, _lang, _run
from pddbatch.pipeline.tracking import TrackOptions, TrackResult, track

SHOWN = 20


@click.command("track")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--events", "events", multiple=True, type=click.Path(path_type=Path),
              help="Tracking export (.xlsx/.csv) or 快递100 JSON; repeat for several files.")
@click.option("--live", is_flag=True, help="Ask 快递100 ([tracking.kuaidi100] in pddbatch.toml); each number "
                                           "at most once per 30 minutes.")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="pddbatch.toml to use.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for tracking.xlsx (default: <workbook>.pddbatch beside it).")
@click.option("--now", type=click.DateTime(["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]), default=None,
              hidden=True, help="Pretend it is this time, China time (tests).")
@click.option("--sheet", default=None, help="Sheet holding the orders (default: found by header).")
@click.option("--dry-run", is_flag=True, help="Read and report, store and write nothing.")
@click.option("--lang", type=LANG, default=None, help="Message language (default zh).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON summary.")
def track_cmd(workbook: Path, events: tuple[Path, ...], live: bool, config: Path | None, out_dir: Path | None,
              now: datetime | None, sheet: str | None, dry_run: bool, lang: str | None, as_json: bool) -> None:
    """物流跟踪：导入轨迹或实时查询，标出未揽收/停滞/拒收/退回/疑难 / track parcels, flag the urgent ones."""
    lg = _lang(lang)
    opts = TrackOptions(config=config, sheet=sheet, lang=lg, events=events, live=live, now=now,
                        dry_run=dry_run, out_dir=out_dir)
    _report(_run(lambda: track(workbook, opts), lg), lg, as_json)


def summary_line(r: TrackResult, lang: str) -> str:
    dry = ("（试运行，未写入）" if lang != "en" else " (dry run, nothing written)") if r.dry_run else ""
    s = r.by_status
    if lang == "en":
        return (f"{r.parcels} parcels: awaiting pickup {s.get('pending', 0)}, moving "
                f"{s.get('picked-up', 0) + s.get('in-transit', 0) + s.get('delivering', 0)}, delivered "
                f"{s.get('delivered', 0)}, alerts {r.alerted} (not picked up {r.alerts.get('unpicked', 0)}, "
                f"stalled {r.alerts.get('stalled', 0)}, refused {r.alerts.get('refused', 0)}, returned "
                f"{r.alerts.get('returned', 0)}, problem {r.alerts.get('problem', 0)}, picked up late "
                f"{r.alerts.get('late-pickup', 0)}); events {r.events_read} read, {r.events_added} new{dry}")
    return (f"共 {r.parcels} 个包裹：待揽收 {s.get('pending', 0)}，运输中 "
            f"{s.get('picked-up', 0) + s.get('in-transit', 0) + s.get('delivering', 0)}，已签收 {s.get('delivered', 0)}，"
            f"异常 {r.alerted}（未揽收 {r.alerts.get('unpicked', 0)}，停滞 {r.alerts.get('stalled', 0)}，"
            f"拒收 {r.alerts.get('refused', 0)}，退回 {r.alerts.get('returned', 0)}，疑难 {r.alerts.get('problem', 0)}，"
            f"揽收超时 {r.alerts.get('late-pickup', 0)}）；轨迹读取 {r.events_read} 条，新增 {r.events_added} 条{dry}")


def _report(r: TrackResult, lang: str, as_json: bool) -> NoReturn:
    en = lang == "en"
    if as_json:
        click.echo(json.dumps(r.to_json(), ensure_ascii=False, indent=2))
        sys.exit(r.exit_code)
    click.echo(summary_line(r, lang))
    if r.urgent:
        click.echo("  需要处理（最紧急在前）：" if not en else "  Needs you (most urgent first):")
        for u in r.urgent[:SHOWN]:
            hours = f"{u['hours_since_issue']:.0f}h" if u["hours_since_issue"] is not None else ""
            click.echo(f"    {u['alert_text']:<6} {u['tracking_no']}  {'、'.join(u['order_sns'])}  {hours}  "
                       f"{u['last_event'] or ('无轨迹' if not en else 'no scan')}")
        if len(r.urgent) > SHOWN:
            click.echo(f"    …… 另有 {len(r.urgent) - SHOWN} 个" if not en else f"    … and {len(r.urgent) - SHOWN} more")
    for i in r.import_issues[:SHOWN]:
        click.echo(f"  {i['file']} {i['cell']}：{i['message']}" if not en else f"  {i['file']} {i['cell']}: {i['message']}")
    for note in r.notes:
        click.echo(f"  {note}")
    if r.live:
        lv = r.live
        click.echo(f"  快递100：查询 {lv['asked']} 个，有结果 {lv['answered']} 个，30 分钟内查过而跳过 {lv['throttled']} 个"
                   if not en else f"  快递100: asked {lv['asked']}, answered {lv['answered']}, skipped "
                                  f"{lv['throttled']} asked within 30 min")
    if r.report:
        click.echo(("  报告：" if not en else "  Report: ") + r.report)
    if r.backup:
        click.echo(("  原文件备份：" if not en else "  Backup of the original: ") + r.backup)
    sys.exit(r.exit_code)
