"""The ledger's commands: `pool add|import|status|list|undo|remove`, `void`, `doctor`, `ledger migrate`.

Each command opens the ledger, calls one library method and prints plain Chinese lines (English
with `--lang en`, JSON with `--json`). Library errors become one "错误：…" line and exit code 2
(through `cli.app.face`, like every command).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from pddbatch.carriers import all_carriers
from pddbatch.cli.app import Out, face
from pddbatch.errors import ConfigError, LedgerError, PddBatchError
from pddbatch.ledger import (
    Ledger,
    LedgerDamaged,
    LedgerLocation,
    ParcelRecord,
    PoolAddResult,
    PoolBatch,
    PoolStatus,
    ledger_exists,
)
from pddbatch.ledger.location import env_url, from_setting
from pddbatch.ledger.pools import CONFIRM_COUNT

F = TypeVar("F", bound=Callable[..., Any])
_EXAMPLES = 10


def resolve_ledger_path(config: Path | None, ledger: LedgerLocation | None) -> LedgerLocation:
    """--ledger (a file or a postgresql:// URL) wins; then PDDBATCH_LEDGER_URL; then the config's
    [ledger] url or path (--config, or pddbatch.toml in this folder)."""
    if ledger is not None:
        return from_setting(ledger)
    url = env_url()
    if url and config is None:
        return url
    try:
        from pddbatch.config import find_config, load_config
    except ImportError as exc:   # config support not installed in this build
        raise ConfigError("请用 --ledger 指定台账文件", "Pass --ledger to say which ledger to use") from exc
    return from_setting(load_config(find_config(None, config)).ledger)


def common_options(func: F) -> F:
    """--ledger, --config (then --json, --lang from `face`) on every ledger command."""
    func = click.option("--config", "config", type=click.Path(path_type=Path, dir_okay=False),
                        help="配置文件 pddbatch.toml / config file")(func)
    func = click.option("--ledger", "ledger", type=str, default=None,
                        help="台账文件或 postgresql:// 地址（默认取配置）/ ledger file or PostgreSQL URL")(func)
    return face(func)


@contextmanager
def _open(config: Path | None, ledger: str | None, must_exist: bool = False) -> Iterator[Ledger]:
    path = resolve_ledger_path(config, ledger)
    if must_exist and not ledger_exists(path):
        raise LedgerError(f"找不到台账文件：{path}", f"Ledger file not found: {path}")
    with Ledger.open(path) as led:
        yield led


def _carrier_label(code: str) -> str:
    c = all_carriers().get(code)
    return f"{code}（{c.pdd_name}）" if c else code


def _list(items: Sequence[str], lang: str, total: int | None = None) -> str:
    shown = ("、" if lang == "zh" else ", ").join(items[:_EXAMPLES])
    total = len(items) if total is None else total
    if total > _EXAMPLES:
        shown += f" …（共 {total} 个）" if lang == "zh" else f" … ({total} in all)"
    return shown


# ---- pool -------------------------------------------------------------------------------------

@click.group("pool")
def pool() -> None:
    """单号池：添加号段、导入单号、查看余量 / number pools: add, import, status."""


def _report_added(res: PoolAddResult, out: Out) -> None:
    lang, as_json = out.lang, out.json
    en = lang == "en"
    if as_json:
        out.emit_json({"carrier": res.carrier_code, "source": res.source, "added": res.added, "batch": res.batch_id,
                    "duplicate_count": res.duplicate_count, "duplicates": list(res.duplicates),
                    "other_carrier": list(res.other_carrier),
                    "already_in": [{"carrier": c, "source": src, "count": n} for c, src, n in res.known_sources]})
    else:
        batch = f", batch #{res.batch_id}" if en and res.batch_id else (f"，号段 #{res.batch_id}" if res.batch_id else "")
        click.echo(f"Added {res.added} {res.carrier_code} numbers (source: {res.source}{batch})" if en
                   else f"已加入 {_carrier_label(res.carrier_code)}单号 {res.added} 个（来源：{res.source}{batch}）")
        if res.duplicate_count:
            listed = _list(list(res.duplicates), lang, res.duplicate_count)
            click.echo(f"Refused {res.duplicate_count} duplicates: {listed}" if en
                       else f"重复未加入 {res.duplicate_count} 个：{listed}")
        for code, src, n in res.known_sources:
            if code != res.carrier_code:
                click.echo(f"{n} of them are already in the {code} pool ({src}): another carrier's numbers, "
                           "check the file and the carrier" if en else
                           f"其中 {n} 个已在 {_carrier_label(code)}的单号池中（{src}）：是另一家快递的单号，请核对文件和快递公司")
            elif src != res.source:
                click.echo(f"{n} of them came in before from another pool ({src})" if en
                           else f"其中 {n} 个此前已由另一个号段导入（{src}）")
    if res.other_carrier:
        raise click.exceptions.Exit(1)


def _confirm_big(count: int, yes: bool, out: Out) -> None:
    """An absurd --count (a typo for 5000?) is added only when the seller confirms it."""
    if count <= CONFIRM_COUNT or yes:
        return
    zh = f"要一次加入 {count:,} 个单号吗？通常一个网点号段只有几千个"
    en = f"Add {count:,} numbers at once? An outlet's range usually holds a few thousand"
    if not sys.stdin.isatty():
        out.fail(f"{zh}。确认无误请加 --yes 重新运行", f"{en}. If that is right, run again with --yes")
    if not click.confirm(out.pick(zh, en), default=False):
        out.fail("没有加入任何单号", "Nothing was added")


@pool.command("add")
@click.option("--carrier", "carrier_code", required=True, help="快递公司代码，如 ZTO / carrier code")
@click.option("--start", required=True, help="起始单号 / first number, e.g. 73100000000001")
@click.option("--count", required=True, type=click.IntRange(min=1), help="数量 / how many")
@click.option("--source", default="", help="来源说明 / where the range came from")
@click.option("--yes", is_flag=True, help=f"超过 {CONFIRM_COUNT:,} 个时不再确认 / no confirmation for huge counts")
@common_options
def pool_add(carrier_code: str, start: str, count: int, source: str, yes: bool, ledger: str | None,
             config: Path | None, out: Out) -> None:
    """添加一段连续单号 / add a range of consecutive numbers."""
    _confirm_big(count, yes, out)
    with _open(config, ledger) as led:
        res = led.add_range(carrier_code, start, count, source)
    _report_added(res, out)


@pool.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--carrier", "carrier_code", default=None, help="快递公司代码 / carrier code")
@click.option("--allow-other-ledger", is_flag=True,
              help="文件已导入过另一个台账时仍然导入 / import even if the file went into another ledger")
@common_options
def pool_import(file: Path, carrier_code: str | None, allow_other_ledger: bool, ledger: str | None,
                config: Path | None, out: Out) -> None:
    """导入单号文件（.txt/.csv/.xlsx，含“运单号/快递单号/单号/面单号”列或每行一个）/ import a number file."""
    with _open(config, ledger) as led:
        res = led.import_pool_file(file, carrier_code, allow_other_ledger=allow_other_ledger)
    _report_added(res, out)


@pool.command("status")
@common_options
def pool_status(ledger: str | None, config: Path | None, out: Out) -> None:
    """各快递可用 / 已用 / 作废单号数 / free, used and voided numbers per carrier."""
    lang, as_json = out.lang, out.json
    rows: list[PoolStatus] = []
    path = resolve_ledger_path(config, ledger)
    if ledger_exists(path):     # no ledger yet: nothing to show, and don't create one just to look
        with Ledger.open(path) as led:
            rows = led.pool_status()
    if as_json:
        out.emit_json([{"carrier": s.carrier_code, "free": s.free, "used": s.used, "voided": s.voided}
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
@common_options
def void(key: str, ledger: str | None, config: Path | None, out: Out) -> None:
    """作废订单号或快递单号对应的包裹；单号不再使用，下次处理换新号 / void a parcel."""
    lang, as_json = out.lang, out.json
    with _open(config, ledger, must_exist=True) as led:
        voided = led.void(key)
        already = [] if voided else led.find_parcels([key], live_only=False)
    if as_json:
        out.emit_json({"voided": [_parcel_json(p) for p in voided],
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


def _batch_json(b: PoolBatch) -> dict[str, object]:
    return {"batch": b.id, "carrier": b.carrier_code, "source": b.source, "added_at": b.added_at, "added": b.added,
            "free": b.free, "used": b.used, "voided": b.voided, "removed_at": b.removed_at}


def _batch_line(b: PoolBatch, lang: str) -> str:
    if lang == "en":
        return (f"#{b.id} {b.carrier_code} {b.source} ({b.added_at}): {b.added} added, free {b.free}, "
                f"used {b.used}, voided {b.voided}")
    return (f"#{b.id} {_carrier_label(b.carrier_code)} {b.source}（{b.added_at}）：加入 {b.added}，可用 {b.free}，"
            f"已用 {b.used}，作废 {b.voided}")


@pool.command("list")
@common_options
def pool_list(ledger: str | None, config: Path | None, out: Out) -> None:
    """列出每次加入的号段（撤销时用编号）/ list the pool batches (numbers for pool remove)."""
    lang, as_json = out.lang, out.json
    with _open(config, ledger, must_exist=True) as led:
        batches = led.pool_batches()
    if as_json:
        out.emit_json([_batch_json(b) for b in batches])
        return
    for b in batches:
        click.echo(_batch_line(b, lang))


def _removed(b: PoolBatch, out: Out) -> None:
    lang, as_json = out.lang, out.json
    if as_json:
        out.emit_json(_batch_json(b))
    elif lang == "en":
        click.echo(f"Removed pool batch #{b.id} ({b.carrier_code}, {b.source}): {b.added} numbers taken back")
    else:
        click.echo(f"已撤销号段 #{b.id}（{_carrier_label(b.carrier_code)}，{b.source}）：收回 {b.added} 个单号")


@pool.command("undo")
@common_options
def pool_undo(ledger: str | None, config: Path | None, out: Out) -> None:
    """撤销最近一次加入的号段（须一个号都还没用）/ take back the latest batch while none of it is used."""
    with _open(config, ledger, must_exist=True) as led:
        batch = led.remove_pool(None)
    _removed(batch, out)


@pool.command("remove")
@click.argument("batch_id", type=int)
@common_options
def pool_remove(batch_id: int, ledger: str | None, config: Path | None, out: Out) -> None:
    """撤销指定编号的号段（见 pool list；须一个号都还没用）/ take back a batch none of whose numbers is used."""
    with _open(config, ledger, must_exist=True) as led:
        batch = led.remove_pool(batch_id)
    _removed(batch, out)


@click.command("doctor")
@common_options
def doctor(ledger: str | None, config: Path | None, out: Out) -> None:
    """检查台账：哪个台账、格式版本、单号不重复、包裹与订单一致；有问题时退出码 1 / check the ledger."""
    lang, as_json = out.lang, out.json
    en = lang == "en"
    where = resolve_ledger_path(config, ledger)
    if not ledger_exists(where):
        raise PddBatchError(f"找不到台账文件：{where}", f"Ledger file not found: {where}")
    try:
        with Ledger.open(where) as led:
            rep = led.integrity_report(lang=lang)
            counts = led.counts()
            info = {"ledger": led.shown, "kind": led.kind, "schema_version": led.schema_version,
                    "ledger_id": led.ledger_id}
    except LedgerDamaged as exc:
        # an empty, truncated or foreign ledger is a finding, not a crash: report it as damaged
        from pddbatch.ledger import masked

        if as_json:
            out.emit_json({"ledger": masked(where), "ok": False, "damaged": True, "errors": [exc.text(lang)],
                        "warnings": [], "counts": {}})
        else:
            click.echo(f"Ledger is damaged: {masked(where)}" if en else f"台账已损坏：{masked(where)}")
            click.echo(f"  - {exc.text(lang)}")
        raise click.exceptions.Exit(1) from None
    kind = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[str(info["kind"])]
    if as_json:
        out.emit_json({**info, "ok": rep.ok, "errors": list(rep.errors), "warnings": list(rep.warnings),
                    "counts": counts})
    elif rep.ok:
        click.echo(f"Ledger OK: {info['ledger']} ({counts['numbers']} numbers, {counts['parcels']} parcels, "
                   f"{counts['runs']} runs)" if en else
                   f"台账正常：{info['ledger']}（单号 {counts['numbers']} 个，包裹 {counts['parcels']} 个，"
                   f"运行 {counts['runs']} 次）")
    else:
        click.echo(f"Ledger has {len(rep.errors)} problem(s): {info['ledger']}" if en
                   else f"台账有 {len(rep.errors)} 个问题：{info['ledger']}")
        for e in rep.errors:
            click.echo(f"  - {e}")
    if not as_json:
        click.echo(f"  {kind} ledger, schema version {info['schema_version']}, id {info['ledger_id']}" if en
                   else f"  {kind} 台账，格式版本 {info['schema_version']}，编号 {info['ledger_id']}")
        for w in rep.warnings:
            click.echo(f"  Note: {w}" if en else f"  提醒：{w}")
    if not rep.ok:
        raise click.exceptions.Exit(1)


# ---- ledger migrate ---------------------------------------------------------------------------

@click.group("ledger")
def ledger_group() -> None:
    """台账：迁移到 PostgreSQL 等 / the ledger itself: migrate it to PostgreSQL."""


@ledger_group.command("migrate")
@click.option("--to", "to", required=True, help="目标台账：postgresql:// 地址或文件 / target URL or file")
@common_options
def ledger_migrate(to: str, ledger: str | None, config: Path | None, out: Out) -> None:
    """把当前台账完整复制到另一个（空的）台账并核对 / copy the whole ledger into an empty one, checked."""
    lang, as_json = out.lang, out.json
    from pddbatch.ledger.transfer import copy_ledger

    en = lang == "en"
    where = resolve_ledger_path(config, ledger)
    if not ledger_exists(where):
        raise LedgerError(f"找不到要迁移的台账：{where}", f"No ledger to migrate at {where}")
    with Ledger.open(where) as source, Ledger.open(from_setting(to)) as target:
        report = copy_ledger(source, target, lang)
        shown_from = source.shown
    if as_json:
        out.emit_json({"from": shown_from, "to": report.target, "ledger_id": report.ledger_id, "tables": report.tables,
                    "ok": True})
        return
    click.echo(f"Copied the ledger {shown_from} -> {report.target} and checked it:" if en
               else f"已把台账 {shown_from} 复制到 {report.target} 并核对无误：")
    for table, n in report.tables.items():
        click.echo(f"  {table}: {n}")
    click.echo("Now point every station at the new ledger ([ledger] url in pddbatch.toml or PDDBATCH_LEDGER_URL)."
               if en else "请把各打包台的配置改为新台账（pddbatch.toml 的 [ledger] url 或环境变量 PDDBATCH_LEDGER_URL）。")
