"""The terminal face: click commands that translate arguments into library calls and results into text.

Exit codes: 0 all good, 1 some rows rejected / short of numbers / exceptions found, 2 usage or fatal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from pddbatch import __version__
from pddbatch.errors import PddBatchError
from pddbatch.model import BatchResult

LANG = click.Choice(["zh", "en"])
STAGES = {"read": ("读取表格", "Reading"), "plan": ("规划包裹", "Planning"),
          "allocate": ("分配单号", "Allocating numbers"), "render": ("生成面单与单据", "Rendering documents"),
          "write_back": ("写回表格", "Writing back")}
# one-time work the library announces once it takes over a second: one line each, not a bar step
NOTICES = {"prepare_font": ("首次使用：正在准备面单中文字体（只需一次）…",
                            "First use: preparing the Chinese label font (one time only)…")}


def _notice(stage: str, lang: str, newline: bool = False) -> bool:
    if stage not in NOTICES:
        return False
    zh, en = NOTICES[stage]
    click.echo(("\n" if newline else "") + (en if lang == "en" else zh), err=True)
    return True


def _lang(lang: str | None) -> str:
    return lang or os.environ.get("PDDBATCH_LANG", "zh")


def fail(exc: PddBatchError, lang: str) -> NoReturn:
    prefix = "Error: " if lang == "en" else "错误："
    click.echo(prefix + exc.text(lang), err=True)
    sys.exit(2)


class _StageBar:
    """A progress bar over the run's stages, on stderr, only when a person is watching."""

    ORDER = ("read", "plan", "allocate", "render", "write_back")

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if _notice(stage, self.lang, newline=self.bar is not None) or stage not in STAGES:
            return
        zh, en = STAGES[stage]
        label = (en if self.lang == "en" else zh) + (f" ({total})" if total > 1 else "")
        if self.bar is None:
            self.bar = click.progressbar(length=len(self.ORDER), label=label, file=sys.stderr, width=24)
            self.bar.__enter__()
        step = self.ORDER.index(stage) + 1 if stage in self.ORDER else self.done
        self.bar.label = label
        self.bar.update(max(step - self.done, 0))
        self.done = max(step, self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(len(self.ORDER) - self.done)
            self.bar.__exit__(None, None, None)


def _run_with_bar(fn: Callable[[Callable[[str, int, int], None]], BatchResult], lang: str,
                  quiet: bool) -> BatchResult:
    """Run a pipeline call with a stage bar on stderr when a person is watching."""
    if quiet or not sys.stderr.isatty():
        def notices_only(stage: str, done: int, total: int) -> None:
            if not quiet:
                _notice(stage, lang)
        return _run(lambda: fn(notices_only), lang)
    bar = _StageBar(lang)
    try:
        return _run(lambda: fn(bar), lang)
    finally:
        bar.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pddbatch")
def main() -> None:
    """拼多多批量发货：校验订单、分配单号、打印面单、写回表格、对账。

    pddbatch turns a Pinduoduo order export into labelled, handed-over, shipped parcels.
    """


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON summary.")(f)
    f = click.option("--lang", type=LANG, default=None, help="Message language (default zh).")(f)
    f = click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")(f)
    f = click.option("--sheet", default=None, help="Sheet holding the orders (default: found by header).")(f)
    return f


@main.command("validate")
@click.argument("workbook", type=click.Path(path_type=Path))
@_common
def validate_cmd(workbook: Path, sheet: str | None, dry_run: bool, lang: str | None, as_json: bool) -> None:
    """校验订单表，把问题标在表格里（红色单元格、批注、问题清单） / check and mark the export."""
    from pddbatch.pipeline.batch import Options, validate

    lg = _lang(lang)
    opts = Options(sheet=sheet, lang=lg, dry_run=dry_run)
    _report(_run_with_bar(lambda bar: validate(workbook, opts, bar), lg, as_json), lg, as_json)


@main.command("process")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.option("--config", type=click.Path(path_type=Path), default=None, help="pddbatch.toml to use.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for labels and documents (default: <workbook>.pddbatch beside it).")
@click.option("--label-size", type=click.Choice(["76x130", "100x180"]), default=None)
@click.option("--zpl/--no-zpl", default=None, help="Also write ZPL labels for thermal printers.")
@click.option("--now", type=click.DateTime(["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]), default=None,
              hidden=True, help="Pretend it is this time (deadline checks; tests).")
@_common
def process_cmd(workbook: Path, config: Path | None, out_dir: Path | None, label_size: str | None,
                zpl: bool | None, now: datetime | None, sheet: str | None, dry_run: bool, lang: str | None,
                as_json: bool) -> None:
    """处理发货：校验、合包、分配单号、生成面单和单据、写回表格 / number, print and write back."""
    from pddbatch.pipeline.batch import Options, process

    lg = _lang(lang)
    opts = Options(config=config, sheet=sheet, lang=lang, dry_run=dry_run, out_dir=out_dir,
                   label_size=label_size, zpl=zpl, now=now)
    _report(_run_with_bar(lambda bar: process(workbook, opts, bar), lg, as_json), lg, as_json)


@main.command("explain")
@click.argument("workbook", type=click.Path(path_type=Path))
@click.argument("order_sn")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="pddbatch.toml to use.")
@click.option("--sheet", default=None)
def explain_cmd(workbook: Path, order_sn: str, config: Path | None, sheet: str | None) -> None:
    """解释一个订单的全部决定（校验、合并、拦截、规则、库存、时限） / explain one order's decisions."""
    from pddbatch.pipeline.batch import Options
    from pddbatch.pipeline.explanation import explain

    lines = _run(lambda: explain(workbook, order_sn.strip(), Options(config=config, sheet=sheet)), "zh")
    for line in lines:
        click.echo(line)


@main.command("reprint")
@click.argument("keys", nargs=-1)
@click.option("--run", "run_id", type=int, default=None, help="Reprint every live parcel of this run.")
@click.option("--workbook", type=click.Path(path_type=Path), default=None,
              help="Where the workbook is now (if it moved since the run).")
@click.option("--config", type=click.Path(path_type=Path), default=None)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None)
@click.option("--label-size", type=click.Choice(["76x130", "100x180"]), default=None)
@click.option("--zpl/--no-zpl", default=None)
@click.option("--lang", type=LANG, default=None)
def reprint_cmd(keys: tuple[str, ...], run_id: int | None, workbook: Path | None, config: Path | None,
                out_dir: Path | None, label_size: str | None, zpl: bool | None, lang: str | None) -> None:
    """补打面单：按订单号/快递单号或 --run 用台账里的单号重印，不分配新号 / reprint labels."""
    from pddbatch.pipeline.reprints import reprint

    lg = _lang(lang)
    if not keys and run_id is None:
        click.echo("错误：请给出订单号/快递单号，或 --run 运行编号" if lg != "en" else
                   "Error: give order numbers / tracking numbers, or --run RUN_ID", err=True)
        sys.exit(2)
    res = _run(lambda: reprint(list(keys), run_id=run_id, config_path=config, workbook=workbook, out_dir=out_dir,
                               label_size=label_size, zpl=zpl, lang=lg), lg)
    click.echo(f"已补打 {res.parcels} 张面单：" if lg != "en" else f"Reprinted {res.parcels} labels:")
    for f in res.files:
        click.echo(f"  {f}")
    for k in res.missing:
        click.echo(f"  台账中没有：{k}" if lg != "en" else f"  Not in the ledger: {k}")
    sys.exit(1 if res.missing else 0)


@main.command("init")
@click.argument("workbook", type=click.Path(path_type=Path), required=False)
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where to write pddbatch.toml (default: beside WORKBOOK, else the current folder).")
@click.option("--sender-name", prompt="寄件人/店名 (sender name)")
@click.option("--sender-phone", prompt="寄件电话 (sender phone)")
@click.option("--sender-address", prompt="寄件地址 (sender address)")
@click.option("--carrier", default="ZTO", show_default=True, help="Default carrier code or PDD name.")
@click.option("--shop", default="", help="Shop name.")
@click.option("--force", is_flag=True, help="Overwrite an existing pddbatch.toml.")
def init_cmd(workbook: Path | None, folder: Path | None, sender_name: str, sender_phone: str, sender_address: str,
             carrier: str, shop: str, force: bool) -> None:
    """写一个带注释的 pddbatch.toml（放在订单表格旁边） / write a commented config beside the workbook."""
    folder = folder or (workbook.parent if workbook is not None else Path("."))
    from pddbatch.carriers import carrier as find_carrier
    from pddbatch.config import CONFIG_NAME, init_text, load_config

    target = folder / CONFIG_NAME
    if target.exists() and not force:
        click.echo(f"错误：{target} 已存在；要覆盖请加 --force", err=True)
        sys.exit(2)
    try:
        code = find_carrier(carrier).code
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(init_text(sender_name, sender_phone, sender_address, code, shop), encoding="utf-8")
        load_config(target)
    except PddBatchError as exc:
        fail(exc, "zh")
    click.echo(f"已写入 {target}")


T = TypeVar("T")


def _run(fn: Callable[[], T], lang: str) -> T:
    try:
        return fn()
    except PddBatchError as exc:
        fail(exc, lang)
    except KeyboardInterrupt:
        click.echo("已中断：台账中不会留下半分配的单号，重新运行即可继续。" if lang != "en" else
                   "Interrupted: the ledger holds no half-allocated number; run again to continue.", err=True)
        sys.exit(2)


def _report(result: BatchResult, lang: str, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(summary_line(result, lang))
        for note in result.notes:
            click.echo(f"  {note}")
        if result.urgent:
            click.echo("  即将超时（最紧急在前）：" if lang != "en" else "  Due soon (most urgent first):")
            for u in result.urgent[:20]:
                state = ("已超时" if lang != "en" else "overdue") if u["overdue"] else \
                    (f"剩 {u['hours_left']} 小时" if lang != "en" else f"{u['hours_left']} h left")
                click.echo(f"    {u['order_sn']}  第 {u['row']} 行  截止 {u['due']}  {state}" if lang != "en" else
                           f"    {u['order_sn']}  row {u['row']}  due {u['due']}  {state}")
            if len(result.urgent) > 20:
                click.echo(f"    …… 另有 {len(result.urgent) - 20} 单" if lang != "en" else
                           f"    … and {len(result.urgent) - 20} more")
        for sku, left in result.low_stock.items():
            click.echo(f"  库存提醒：{sku} 剩余 {left}" if lang != "en" else f"  Low stock: {sku} {left} left")
        if result.out_dir:
            click.echo(("  输出文件夹：" if lang != "en" else "  Output folder: ") + result.out_dir)
        if result.backup:
            click.echo(("  原文件备份：" if lang != "en" else "  Backup of the original: ") + result.backup)
    sys.exit(result.exit_code)


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
                f"short of numbers {r.short}, held {r.held}, out of stock {r.out_of_stock}, deadline warnings {r.deadline_warnings}{dry}")
    return (f"共 {r.rows} 行：已分配 {r.allocated}（新分配 {r.allocated_new}，包裹 {r.parcels} 个），"
            f"已拦截 {r.intercepted}，已跳过 {r.skipped}，校验失败 {r.rejected}，单号不足 {r.short}，"
            f"暂缓 {r.held}，缺货 {r.out_of_stock}，临近/超过发货时限 {r.deadline_warnings}{dry}")


def _register() -> None:
    """Commands owned by other face modules (ledger, reconcile, excel add-in)."""
    from pddbatch.cli.addin import addin
    from pddbatch.cli.ledger import doctor, pool, void
    from pddbatch.cli.reconcile import reconcile

    for command in (pool, void, doctor, reconcile, addin):
        main.add_command(command)


_register()


def run() -> None:
    """Entry point that never shows a traceback to a seller (PDDBATCH_DEBUG=1 shows it)."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # last line of defence: a plain sentence, exit 2
        if os.environ.get("PDDBATCH_DEBUG"):
            raise
        click.echo(f"错误：内部错误（{type(exc).__name__}: {str(exc)[:200]}）。请把这条信息发给开发者；"
                   f"设置 PDDBATCH_DEBUG=1 可看到详细信息。", err=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
