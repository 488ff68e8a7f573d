"""`pddbatch track`: where is every parcel, which ones need the seller now (exit 1 when any do)."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from pathlib import Path

import click

from pddbatch.cli.app import Out, exit_with, face, with_progress
from pddbatch.errors import PddBatchError
from pddbatch.pipeline.tracking import TrackOptions, TrackResult, track

SHOWN = 20
_PATH = click.Path(path_type=Path)


@click.command("track")
@click.argument("workbook", type=_PATH)
@click.option("--events", "events", multiple=True, type=_PATH,
              help="Tracking export (.xlsx/.csv) or 快递100 JSON; repeat for several files.")
@click.option("--live", is_flag=True, help="Ask 快递100 ([tracking.kuaidi100] in pddbatch.toml); each number "
                                           "at most once per 30 minutes.")
@click.option("--config", type=_PATH, default=None, help="pddbatch.toml to use (default: beside the workbook).")
@click.option("--out", "out_dir", type=_PATH, default=None,
              help="Folder for tracking.xlsx (default: <workbook>.pddbatch beside it).")
@click.option("--now", type=click.DateTime(["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]), default=None,
              hidden=True, help="Pretend it is this time, China time (tests).")
@click.option("--sheet", default=None, help="Sheet holding the orders (default: found by header).")
@click.option("--dry-run", is_flag=True, help="Read and report, store and write nothing.")
@face
def track_cmd(workbook: Path, events: tuple[Path, ...], live: bool, config: Path | None, out_dir: Path | None,
              now: datetime | None, sheet: str | None, dry_run: bool, out: Out) -> None:
    """物流跟踪：导入轨迹或实时查询，标出未揽收/停滞/拒收/退回/疑难 / track parcels, flag the urgent ones."""
    from pddbatch.config import find_config, load_config

    with suppress(PddBatchError):  # the config's [output] lang speaks unless --lang chose; its errors come below
        out.adopt(load_config(find_config(workbook, config)).lang)
    opts = TrackOptions(config=config, sheet=sheet, lang=out.lang, events=events, live=live, now=now,
                        dry_run=dry_run, out_dir=out_dir)
    result = with_progress(lambda bar: track(workbook, opts, bar), out)
    if out.json:
        out.emit_json(result.to_json())
    else:
        _print(result, out)
    exit_with(result.exit_code)


def summary_line(r: TrackResult, lang: str) -> str:
    dry = ("（试运行，未写入）" if lang != "en" else " (dry run, nothing written)") if r.dry_run else ""
    s, a = r.by_status, r.alerts
    moving = s.get("picked-up", 0) + s.get("in-transit", 0) + s.get("delivering", 0)
    if lang == "en":
        return (f"{r.parcels} parcels: awaiting pickup {s.get('pending', 0)}, moving {moving}, delivered "
                f"{s.get('delivered', 0)}, alerts {r.alerted} (not picked up {a.get('unpicked', 0)}, "
                f"stalled {a.get('stalled', 0)}, refused {a.get('refused', 0)}, returned {a.get('returned', 0)}, "
                f"problem {a.get('problem', 0)}, picked up late {a.get('late-pickup', 0)}); events "
                f"{r.events_read} read, {r.events_added} new{dry}")
    return (f"共 {r.parcels} 个包裹：待揽收 {s.get('pending', 0)}，运输中 {moving}，已签收 {s.get('delivered', 0)}，"
            f"异常 {r.alerted}（未揽收 {a.get('unpicked', 0)}，停滞 {a.get('stalled', 0)}，拒收 {a.get('refused', 0)}，"
            f"退回 {a.get('returned', 0)}，疑难 {a.get('problem', 0)}，揽收超时 {a.get('late-pickup', 0)}）；"
            f"轨迹读取 {r.events_read} 条，新增 {r.events_added} 条{dry}")


def _print(r: TrackResult, out: Out) -> None:
    click.echo(summary_line(r, out.lang))
    if r.urgent:
        out.echo("  需要处理（最紧急在前）：", "  Needs you (most urgent first):")
        for u in r.urgent[:SHOWN]:
            hours = f"{u['hours_since_issue']:.0f}h" if u["hours_since_issue"] is not None else ""
            last = u["last_event"] or out.pick("无轨迹", "no scan")
            click.echo(f"    {u['alert_text']}  {u['tracking_no']}  {'、'.join(u['order_sns'])}  {hours}  {last}")
        if len(r.urgent) > SHOWN:
            out.echo(f"    …… 另有 {len(r.urgent) - SHOWN} 个", f"    … and {len(r.urgent) - SHOWN} more")
    for i in r.import_issues[:SHOWN]:
        click.echo(f"  {i['file']} {i['cell']}{out.pick('：', ': ')}{i['message']}")
    for note in r.notes:
        click.echo(f"  {note}")
    if r.live:
        lv = r.live
        out.echo(f"  快递100：查询 {lv['asked']} 个，有结果 {lv['answered']} 个，30 分钟内查过而跳过 {lv['throttled']} 个",
                 f"  快递100: asked {lv['asked']}, answered {lv['answered']}, skipped {lv['throttled']} asked "
                 "within 30 min")
    if r.report:
        click.echo(out.pick("  报告：", "  Report: ") + r.report)
    if r.backup:
        click.echo(out.pick("  原文件备份：", "  Backup of the original: ") + r.backup)
