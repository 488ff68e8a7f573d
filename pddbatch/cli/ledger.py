"""The ledger's commands: `pool add|import|status`, `void`, `doctor`.

Each command opens the ledger, calls one library method and prints plain Chinese lines (English
with `--lang en`, JSON with `--json`). Library errors become one "错误：…" line and exit code 2
(through `cli.app.face`, like every command).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from pddbatch.carriers import all_carriers
from pddbatch.cli.app import Out, face
from pddbatch.errors import LedgerError
from pddbatch.ledger import Ledger, ParcelRecord, PoolAddResult, PoolStatus

F = TypeVar("F", bound=Callable[..., Any])
_EXAMPLES = 10


def resolve_ledger_path(config: Path | None, ledger: Path | None) -> Path:
    """--ledger wins; else the config's ledger path (--config, or pddbatch.toml in this folder)."""
    if ledger is not None:
        return ledger
    from pddbatch.config import find_config, load_config

    return load_config(find_config(None, config)).ledger_path


def ledger_options(func: F) -> F:
    """--ledger, --config (then --json, --lang from `face`) on every ledger command."""
    func = click.option("--config", "config", type=click.Path(path_type=Path, dir_okay=False),
                        help="配置文件 pddbatch.toml / config file")(func)
    func = click.option("--ledger", "ledger", type=click.Path(path_type=Path),
                        help="台账文件（默认取配置中的位置）/ ledger file")(func)
    return face(func)


@contextmanager
def _open(config: Path | None, ledger: Path | None, must_exist: bool = False) -> Iterator[Ledger]:
    path = resolve_ledger_path(config, ledger)
    if must_exist and not path.exists():
        raise LedgerError(f"找不到台账文件：{path}", f"Ledger file not found: {path}")
    with Ledger.open(path) as led:
        yield led


def _emit_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _carrier_label(code: str) -> str:
    c = all_carriers().get(code)
    return f"{code}（{c.pdd_name}）" if c else code


def _list(items: Sequence[str], lang: str) -> str:
    shown = ("、" if lang == "zh" else ", ").join(items[:_EXAMPLES])
    if len(items) > _EXAMPLES:
        shown += f" …（共 {len(items)} 个）" if lang == "zh" else f" … ({len(items)} in all)"
    return shown


# ---- pool -------------------------------------------------------------------------------------

@click.group("pool")
def pool() -> None:
    """单号池：添加号段、导入单号、查看余量 / number pools: add, import, status."""


def _report_added(res: PoolAddResult, out: Out) -> None:
    lang, as_json = out.lang, out.json
    if as_json:
        _emit_json({"carrier": res.carrier_code, "source": res.source, "added": res.added,
                    "duplicates": list(res.duplicates), "pattern_warnings": list(res.pattern_warnings),
                    "rejected": list(res.rejected)})
    elif lang == "en":
        click.echo(f"Added {res.added} {res.carrier_code} numbers (source: {res.source})")
        if res.duplicates:
            click.echo(f"Refused {len(res.duplicates)} duplicates: {_list(res.duplicates, lang)}")
        if res.pattern_warnings:
            click.echo(f"Added but not in the usual {res.carrier_code} format, please check "
                       f"{len(res.pattern_warnings)}: {_list(res.pattern_warnings, lang)}")
        if res.rejected:
            click.echo(f"Refused {len(res.rejected)} invalid: {_list(res.rejected, lang)}")
    else:
        click.echo(f"已加入 {_carrier_label(res.carrier_code)}单号 {res.added} 个（来源：{res.source}）")
        if res.duplicates:
            click.echo(f"重复未加入 {len(res.duplicates)} 个：{_list(res.duplicates, lang)}")
        if res.pattern_warnings:
            click.echo(f"格式与该快递常见单号不符（已加入，请核对）{len(res.pattern_warnings)} 个："
                       f"{_list(res.pattern_warnings, lang)}")
        if res.rejected:
            click.echo(f"无效未加入 {len(res.rejected)} 个：{_list(res.rejected, lang)}")
    if res.rejected:
        raise click.exceptions.Exit(1)


@pool.command("add")
@click.option("--carrier", "carrier_code", required=True, help="快递公司代码，如 ZTO / carrier code")
@click.option("--start", required=True, help="起始单号 / first number, e.g. 73100000000001")
@click.option("--count", required=True, type=click.IntRange(min=1), help="数量 / how many")
@click.option("--source", default="", help="来源说明 / where the range came from")
@ledger_options
def pool_add(carrier_code: str, start: str, count: int, source: str, ledger: Path | None,
             config: Path | None, out: Out) -> None:
    """添加一段连续单号 / add a range of consecutive numbers."""
    with _open(config, ledger) as led:
        res = led.add_range(carrier_code, start, count, source)
    _report_added(res, out)


@pool.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--carrier", "carrier_code", default=None, help="快递公司代码 / carrier code")
@ledger_options
def pool_import(file: Path, carrier_code: str | None, ledger: Path | None, config: Path | None,
                out: Out) -> None:
    """导入单号文件（每行一个，或含“快递单号”列的表格）/ import a number file."""
    with _open(config, ledger) as led:
        res = led.import_pool_file(file, carrier_code)
    _report_added(res, out)


@pool.command("status")
@ledger_options
def pool_status(ledger: Path | None, config: Path | None, out: Out) -> None:
    """各快递可用 / 已用 / 作废单号数 / free, used and voided numbers per carrier."""
    lang, as_json = out.lang, out.json
    rows: list[PoolStatus] = []
    path = resolve_ledger_path(config, ledger)
    if path.exists():     # no ledger yet: nothing to show, and don't create one just to look
        with Ledger.open(path) as led:
            rows = led.pool_status()
    if as_json:
        _emit_json([{"carrier": s.carrier_code, "free": s.free, "used": s.used, "voided": s.voided}
                    for s in rows])
        return
    if not rows:
        click.echo("No number pools yet: add some with `pddbatch pool add` or `pddbatch pool import`"
                   if lang == "en" else "台账中还没有单号池：请用 pddbatch pool add 或 pddbatch pool import 添加")
    for s in rows:
        if lang == "en":
            click.echo(f"{s.carrier_code}: free {s.free}, used {s.used}, voided {s.voided}")
        else:
            click.echo(f"{_carrier_label(s.carrier_code)}：可用 {s.free}，已用 {s.used}，作废 {s.voided}")


# ---- void / doctor ----------------------------------------------------------------------------

def _parcel_json(p: ParcelRecord) -> dict[str, object]:
    return {"parcel_id": p.id, "carrier": p.carrier_code, "tracking_no": p.tracking_no,
            "order_sns": list(p.order_sns), "state": p.state}


@click.command("void")
@click.argument("key")
@ledger_options
def void(key: str, ledger: Path | None, config: Path | None, out: Out) -> None:
    """作废订单号或快递单号对应的包裹；单号不再使用，下次处理换新号 / void a parcel."""
    lang, as_json = out.lang, out.json
    with _open(config, ledger, must_exist=True) as led:
        voided = led.void(key)
        already = [] if voided else led.find_parcels([key], live_only=False)
    if as_json:
        _emit_json({"voided": [_parcel_json(p) for p in voided],
                    "already_voided": [_parcel_json(p) for p in already]})
        if not voided and not already:
            raise click.exceptions.Exit(2)
        return
    if not voided and not already:
        out.fail(f"台账中没有订单号或快递单号为 {key} 的包裹", f"No parcel with order or tracking number {key}")
    for p in already:
        click.echo(f"Parcel #{p.id} {p.carrier_code} {p.tracking_no} is already voided" if lang == "en"
                   else f"包裹 #{p.id} {_carrier_label(p.carrier_code)} {p.tracking_no} 已经作废")
    for p in voided:
        orders = ", ".join(p.order_sns) if lang == "en" else "、".join(p.order_sns)
        if lang == "en":
            click.echo(f"Voided parcel #{p.id} {p.carrier_code} {p.tracking_no} (orders {orders}). "
                       "The number will never be used again; the next run gives these orders a new number.")
        else:
            click.echo(f"已作废包裹 #{p.id} {_carrier_label(p.carrier_code)} {p.tracking_no}（订单 {orders}）。"
                       "该单号不会再使用；下次处理时这些订单会换新单号。")


@click.command("doctor")
@ledger_options
def doctor(ledger: Path | None, config: Path | None, out: Out) -> None:
    """检查台账：单号不重复、包裹与订单一致、无中断的运行；有问题时退出码 1 / check the ledger."""
    lang, as_json = out.lang, out.json
    with _open(config, ledger, must_exist=True) as led:
        rep = led.integrity_report(lang=lang)
        counts = led.counts()
        path = led.path
    if as_json:
        _emit_json({"ledger": str(path), "ok": rep.ok, "errors": list(rep.errors),
                    "warnings": list(rep.warnings), "counts": counts})
    elif rep.ok:
        click.echo(f"Ledger OK: {path} ({counts['numbers']} numbers, {counts['parcels']} parcels, "
                   f"{counts['runs']} runs)" if lang == "en" else
                   f"台账正常：{path}（单号 {counts['numbers']} 个，包裹 {counts['parcels']} 个，"
                   f"运行 {counts['runs']} 次）")
    else:
        click.echo(f"Ledger has {len(rep.errors)} problem(s): {path}" if lang == "en"
                   else f"台账有 {len(rep.errors)} 个问题：{path}")
        for e in rep.errors:
            click.echo(f"  - {e}")
    if not as_json:
        for w in rep.warnings:
            click.echo(f"  Note: {w}" if lang == "en" else f"  提醒：{w}")
    if not rep.ok:
        raise click.exceptions.Exit(1)
