"""The seller's order commands: `validate`, `process`, `explain`, `reprint` (thin faces over `pipeline`).

Each builds `pipeline.batch.Options`, calls one pipeline function and prints its result: a summary
line, then the first problems (row, cell, column, message) so the seller need not open the
workbook to learn what is wrong, then run notes, deadlines and files.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click

from pddbatch.cli.app import KEPT, Out, exit_with, face, with_progress
from pddbatch.model import BatchResult, RowIssue

SHOWN_PROBLEMS = 20
LABEL_SIZE = click.Choice(["76x130", "100x180"])
_PATH = click.Path(path_type=Path)


def _config_lang(workbook: Path, config: Path | None, out: Out) -> None:
    """Find the config the way `process` does and let its [output] lang speak, unless chosen already.

    `validate` needs no config; a broken one is still reported (the seller learns it early), and
    an explicit --config that does not exist is an error.
    """
    from pddbatch.config import find_config, load_config
    from pddbatch.errors import ConfigError

    try:
        path = find_config(workbook, config)
    except ConfigError:
        if config is not None:
            raise
        return
    out.adopt(load_config(path).lang)


@click.command("validate")
@click.argument("workbook", type=_PATH)
@click.option("--config", type=_PATH, default=None, help="pddbatch.toml to use (default: beside the workbook).")
@click.option("--sheet", default=None, help="Sheet holding the orders (default: found by header).")
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
@face
def validate_cmd(workbook: Path, config: Path | None, sheet: str | None, dry_run: bool, out: Out) -> None:
    """校验订单表，把问题标在表格里（红色单元格、批注、问题清单） / check and mark the export."""
    from pddbatch.pipeline.batch import Options, validate

    _config_lang(workbook, config, out)
    opts = Options(config=config, sheet=sheet, lang=out.lang, dry_run=dry_run, keep=KEPT)
    report(with_progress(lambda bar: validate(workbook, opts, bar), out), out)


@click.command("process")
@click.argument("workbook", type=_PATH)
@click.option("--config", type=_PATH, default=None, help="pddbatch.toml to use (default: beside the workbook).")
@click.option("--out", "out_dir", type=_PATH, default=None,
              help="Folder for labels and documents (default: <workbook>.pddbatch beside it).")
@click.option("--label-size", type=LABEL_SIZE, default=None)
@click.option("--zpl/--no-zpl", default=None, help="Also write ZPL labels for thermal printers.")
@click.option("--now", type=click.DateTime(["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]), default=None,
              hidden=True, help="Pretend it is this time (deadline checks; tests).")
@click.option("--sheet", default=None, help="Sheet holding the orders (default: found by header).")
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
@face
def process_cmd(workbook: Path, config: Path | None, out_dir: Path | None, label_size: str | None,
                zpl: bool | None, now: datetime | None, sheet: str | None, dry_run: bool, out: Out) -> None:
    """处理发货：校验、合包、分配单号、生成面单和单据、写回表格 / number, print and write back."""
    from pddbatch.pipeline.batch import Options, process

    _config_lang(workbook, config, out)
    opts = Options(config=config, sheet=sheet, lang=out.lang, dry_run=dry_run, out_dir=out_dir,
                   label_size=label_size, zpl=zpl, now=now, keep=KEPT)
    report(with_progress(lambda bar: process(workbook, opts, bar), out), out)


@click.command("explain")
@click.argument("workbook", type=_PATH)
@click.argument("order_sn")
@click.option("--config", type=_PATH, default=None, help="pddbatch.toml to use.")
@click.option("--sheet", default=None)
@face
def explain_cmd(workbook: Path, order_sn: str, config: Path | None, sheet: str | None, out: Out) -> None:
    """解释一个订单的全部决定（校验、合并、拦截、规则、库存、时限） / explain one order's decisions."""
    from pddbatch.pipeline.batch import Options
    from pddbatch.pipeline.explanation import explain

    _config_lang(workbook, config, out)
    lines = explain(workbook, order_sn.strip(), Options(config=config, sheet=sheet, lang=out.lang))
    if out.json:
        out.emit_json({"order_sn": order_sn.strip(), "lines": lines})
        return
    for line in lines:
        click.echo(line)


@click.command("reprint")
@click.argument("keys", nargs=-1)
@click.option("--run", "run_id", type=int, default=None, help="Reprint every live parcel of this run.")
@click.option("--workbook", type=_PATH, default=None, help="Where the workbook is now (if it moved since the run).")
@click.option("--config", type=_PATH, default=None)
@click.option("--out", "out_dir", type=_PATH, default=None)
@click.option("--label-size", type=LABEL_SIZE, default=None)
@click.option("--zpl/--no-zpl", default=None)
@face
def reprint_cmd(keys: tuple[str, ...], run_id: int | None, workbook: Path | None, config: Path | None,
                out_dir: Path | None, label_size: str | None, zpl: bool | None, out: Out) -> None:
    """补打面单：按订单号/快递单号或 --run 用台账里的单号重印，不分配新号 / reprint labels."""
    from pddbatch.pipeline.reprints import reprint

    if not keys and run_id is None:
        out.fail("请给出订单号/快递单号，或 --run 运行编号", "give order numbers / tracking numbers, or --run RUN_ID")
    res = reprint(list(keys), run_id=run_id, config_path=config, workbook=workbook, out_dir=out_dir,
                  label_size=label_size, zpl=zpl, lang=out.lang)
    if out.json:
        out.emit_json({"parcels": res.parcels, "files": [str(f) for f in res.files], "missing": list(res.missing),
                       "exit_code": 1 if res.missing else 0})
    else:
        out.echo(f"已补打 {res.parcels} 张面单：", f"Reprinted {res.parcels} labels:")
        for f in res.files:
            click.echo(f"  {f}")
        for k in res.missing:
            out.echo(f"  台账中没有：{k}", f"  Not in the ledger: {k}")
    exit_with(1 if res.missing else 0)


def report(result: BatchResult, out: Out) -> None:
    """Print a validate/process result (or its JSON) and exit with its code."""
    KEPT.append(result)
    if out.json:
        out.emit_json(result.to_json())
        exit_with(result.exit_code)
    lang = out.lang
    click.echo(summary_line(result, lang))
    for line in problem_lines(result.issues, lang, dry_run=result.dry_run, csv=result.path.lower().endswith(
            (".csv", ".txt"))):
        click.echo(line)
    for note in result.notes:
        click.echo(f"  {note}")
    if result.urgent:
        out.echo("  即将超时（最紧急在前）：", "  Due soon (most urgent first):")
        for u in result.urgent[:SHOWN_PROBLEMS]:
            state = out.pick("已超时", "overdue") if u["overdue"] else \
                out.pick(f"剩 {u['hours_left']} 小时", f"{u['hours_left']} h left")
            out.echo(f"    {u['order_sn']}  第 {u['row']} 行  截止 {u['due']}  {state}",
                     f"    {u['order_sn']}  row {u['row']}  due {u['due']}  {state}")
        if len(result.urgent) > SHOWN_PROBLEMS:
            more = len(result.urgent) - SHOWN_PROBLEMS
            out.echo(f"    …… 另有 {more} 单", f"    … and {more} more")
    for sku, left in result.low_stock.items():
        out.echo(f"  库存提醒：{sku} 剩余 {left}", f"  Low stock: {sku} {left} left")
    if result.out_dir:
        click.echo(out.pick("  输出文件夹：", "  Output folder: ") + result.out_dir)
    if result.backup:
        click.echo(out.pick("  原文件备份：", "  Backup of the original: ") + result.backup)
    exit_with(result.exit_code)


def problem_lines(issues: Sequence[RowIssue], lang: str, *, dry_run: bool = False, csv: bool = False,
                  limit: int = SHOWN_PROBLEMS) -> list[str]:
    """The first `limit` problems, one line each (row, cell, column, message), then how many more and where."""
    if not issues:
        return []
    en = lang == "en"
    lines = ["  Problems:" if en else "  问题："]
    for i in issues[:limit]:
        column = i.header or i.field
        if en:
            kind = "warning, " if i.severity != "error" else ""
            lines.append(f"    row {i.row}, {kind}{i.cell} {column}: {i.message}")
        else:
            kind = "提醒 " if i.severity != "error" else ""
            lines.append(f"    第 {i.row} 行 {kind}{i.cell} {column}：{i.message}")
    more = len(issues) - limit
    if more > 0:
        if dry_run:
            where = ("use --json to see them all" if en else "用 --json 可看全部")
        elif csv:
            where = ("see the 问题清单.csv file beside the workbook" if en else "见表格旁的问题清单文件（.问题清单.csv）")
        else:
            where = "see the workbook's 问题清单 sheet" if en else "见工作簿的问题清单"
        lines.append(f"    … and {more} more, {where}" if en else f"    …另有 {more} 个，{where}")
    return lines


def summary_line(r: BatchResult, lang: str) -> str:
    dry = ("（试运行，未写入）" if lang != "en" else " (dry run, nothing written)") if r.dry_run else ""
    if r.command == "validate":
        if lang == "en":
            return f"{r.rows} rows checked: {r.rows - r.rejected} valid, {r.rejected} rejected, " \
                   f"{len(r.issues)} issues{dry}"
        return f"共检查 {r.rows} 行：通过 {r.rows - r.rejected} 行，校验失败 {r.rejected} 行，问题 {len(r.issues)} 个{dry}"
    if lang == "en":
        return (f"{r.rows} rows: allocated {r.allocated} ({r.allocated_new} new, {r.parcels} parcels), "
                f"intercepted {r.intercepted}, skipped {r.skipped}, rejected {r.rejected}, "
                f"short of numbers {r.short}, held {r.held}, out of stock {r.out_of_stock}, "
                f"deadline warnings {r.deadline_warnings}{dry}")
    return (f"共 {r.rows} 行：已分配 {r.allocated}（新分配 {r.allocated_new}，包裹 {r.parcels} 个），"
            f"已拦截 {r.intercepted}，已跳过 {r.skipped}，校验失败 {r.rejected}，单号不足 {r.short}，"
            f"暂缓 {r.held}，缺货 {r.out_of_stock}，临近/超过发货时限 {r.deadline_warnings}{dry}")
