"""The one path every face calls: `validate(...)` and `process(...)` on a workbook.

read -> map headers -> validate -> plan -> allocate (ledger) -> render documents -> write back.
Nothing here prints; progress goes to an optional callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .catalog import Catalog, load_catalog, side_table
from .columns import alias_table
from .config import Config, find_config, load_config
from .messages import pick
from .model import BatchResult, Parcel, RowIssue, RowOutcome, RowStatus
from .parallel import Background
from .plan import Plan, deadline_text, make_plan
from .sheetplan import build_write_plan
from .sheets import Table, read_table
from .stock import StockLevels, load_stock, stock_write_plan
from .stock import summary as stock_summary
from .validate import Validation, validate_table

Progress = Callable[[str, int, int], None]
ReadTable = Callable[[], Table]
ApplyPlan = Callable[..., Any]


@dataclass
class Options:
    """What a face asks for. Unset values come from the config."""

    config: Path | None = None
    sheet: str | None = None
    lang: str | None = None
    dry_run: bool = False
    out_dir: Path | None = None
    label_size: str | None = None
    zpl: bool | None = None
    now: datetime | None = None
    backup: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class _Clock:
    def __init__(self, result: BatchResult) -> None:
        self.result = result

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.result.timings[name] = self.result.timings.get(name, 0.0) + time.perf_counter() - t0


def _noop(stage: str, done: int, total: int) -> None:
    return None


def load_table(path: Path, sheet: str | None = None) -> Table:
    return read_table(path, alias_table().is_header_row, sheet)


def validate(path: Path, options: Options | None = None, progress: Progress | None = None, *,
             read: ReadTable | None = None, apply: ApplyPlan | None = None) -> BatchResult:
    """Check every row and mark problems in the workbook (unless dry run)."""
    opts = options or Options()
    lang = opts.lang or "zh"
    progress = progress or _noop
    result = BatchResult("validate", str(path), dry_run=opts.dry_run)
    clock = _Clock(result)
    lock = _lock(path) if not opts.dry_run and apply is None else nullcontext()
    with lock:
        progress("read", 0, 1)
        with clock.stage("read"):
            table = read() if read else load_table(path, opts.sheet)
        with clock.stage("validate"):
            v = validate_table(table, lang=lang)
        result.sheet = table.sheet
        outcomes = _validation_outcomes(v, lang)
        _fill_counts(result, v, outcomes)
        if not opts.dry_run:
            with clock.stage("write_back"):
                plan = build_write_plan(table, v.columns, v.issues, outcomes, shipping=False, lang=lang)
                _apply(path, plan, result, opts, apply, lang)
    return result


def process(path: Path, options: Options | None = None, progress: Progress | None = None, *,
            read: ReadTable | None = None, apply: ApplyPlan | None = None,
            out_dir: Path | None = None) -> BatchResult:
    """Validate, plan, number, render and write back: the seller's whole morning in one call."""
    from .ledger import Ledger, ParcelRequest

    opts = options or Options()
    progress = progress or _noop
    config = load_config(find_config(path, opts.config))
    lang = opts.lang or config.lang
    now = opts.now or datetime.now()
    result = BatchResult("process", str(path), dry_run=opts.dry_run)
    clock = _Clock(result)
    lock = _lock(path) if not opts.dry_run and apply is None else nullcontext()
    with lock:
        progress("read", 0, 1)
        with clock.stage("read"):
            table = read() if read else load_table(path, opts.sheet)
        result.sheet = table.sheet
        with clock.stage("validate"):
            v = validate_table(table, lang=lang)
        progress("plan", 0, 1)
        with clock.stage("ledger_open"):
            ledger_path = config.ledger_path
            scratch = None
            if opts.dry_run and not ledger_path.exists():   # a dry run creates no ledger file
                import tempfile

                scratch = tempfile.TemporaryDirectory(prefix="pddbatch-dry-")
                ledger_path = Path(scratch.name) / "ledger.sqlite"
            ledger = Ledger.open(ledger_path)
        try:
            with clock.stage("ledger_open"):
                if not opts.dry_run:
                    for pool_file, code in config.pool_imports:
                        ledger.import_pool_file(pool_file, code)
                known = ledger.existing_for_orders([o.order_sn for o in v.orders])
                voided = _voided_numbers(ledger, v.orders, known)
            with clock.stage("plan"):
                catalog, stock = _side_tables(path, table, config, read is not None)
                plan = make_plan(v.orders, config, now=now, lang=lang,
                                 ledger_numbers={sn: p.tracking_no for sn, p in known.items()},
                                 voided_numbers=voided, catalog=catalog, stock=stock)
            progress("allocate", 0, len(plan.parcels))
            with clock.stage("allocate"):
                if opts.dry_run:
                    numbered, new_ids, short = _dry_allocation(plan, known)
                    run_id = None
                else:
                    run_id = ledger.begin_run(str(path.resolve()))
                    requests = [ParcelRequest(p.key, p.carrier.code, p.order_sns) for p in plan.parcels]
                    alloc = ledger.allocate(run_id, requests, workbook=str(path.resolve()))
                    by_order = alloc.by_order()
                    numbered = {sn: (ap.tracking_no, ap.parcel_id, ap.is_new) for sn, ap in by_order.items()}
                    new_ids = {ap.parcel_id for ap in by_order.values() if ap.is_new}
                    short = dict(alloc.short)
            result.run_id = run_id
            outcomes, ready = _process_outcomes(v, plan, numbered, lang)
            _fill_counts(result, v, outcomes)
            result.parcels = len({pid for _t, pid, _n in numbered.values()})
            result.allocated_new = sum(1 for *_x, is_new in numbered.values() if is_new)
            result.allocated_existing = len(numbered) - result.allocated_new
            result.short_by_carrier = short
            result.deadline_warnings = len(plan.deadlines)
            result.urgent = urgent_list(plan, lang)
            if stock is not None:
                result.low_stock = dict(stock_summary(stock, config.low_stock_threshold))
            if short:
                result.notes.extend(_short_notes(short, lang))
            if not opts.dry_run and run_id is not None:
                # new parcels, and earlier ones a crash kept from being rendered
                to_render_ids = set(new_ids) | {r.id for r in known.values() if r.rendered_run_id is None}
                to_render = [p for p in ready if numbered[p.order_sns[0]][1] in to_render_ids]
                wplan = build_write_plan(table, v.columns, v.issues, outcomes, shipping=True, lang=lang)
                # a big write-back runs on the other core while the labels render
                side = _start_write_back(path, wplan, stock, config, opts, apply, lang,
                                         parallel=len(table.rows) >= PARALLEL_ROWS and bool(to_render))
                try:
                    if to_render:
                        progress("render", 0, len(to_render))
                        with clock.stage("render"):
                            target = out_dir or opts.out_dir or _default_out_dir(path, config)
                            files = _render(to_render, target, config, opts, lang, now, result,
                                            catalog.short_names())
                        ledger.mark_rendered(sorted({numbered[p.order_sns[0]][1] for p in to_render}), run_id)
                        result.out_dir = str(target)
                        result.files.extend(str(f) for f in files)
                    elif ready:
                        result.notes.append(pick(lang, "没有新包裹：面单此前已生成；需要补打请用 pddbatch reprint",
                                                 "No new parcels: labels were made before; use pddbatch reprint"))
                finally:   # never leave the workbook half-handled behind a failed render
                    progress("write_back", 0, 1)
                    with clock.stage("write_back"):
                        result.backup = side.join()
                if result.out_dir:
                    _write_summary(Path(result.out_dir), result)
                ledger.finish_run(run_id, "done", _run_summary(result))
        except BaseException:
            if result.run_id is not None:
                # the original error matters more than a bookkeeping failure
                with suppress(Exception):
                    ledger.finish_run(result.run_id, "failed", {"error": "interrupted"})
            raise
        finally:
            ledger.close()
            if scratch is not None:
                scratch.cleanup()
    return result


PARALLEL_ROWS = 5000     # below this, forking costs more than the overlap saves


def _start_write_back(path: Path, wplan: Any, stock: StockLevels | None, config: Config, opts: Options,
                      apply: ApplyPlan | None, lang: str, *, parallel: bool) -> Background[str | None]:
    """The workbook write-back (orders sheet, then the stock sheet), now or beside the rendering."""
    def write() -> str | None:
        if apply is not None:
            apply(wplan)
            return None
        from .writeback import apply_plan

        backup = apply_plan(path, wplan, backup=opts.backup, lang=lang).backup
        if stock is not None and stock.table.path == str(path):
            apply_plan(path, stock_write_plan(stock, config.low_stock_threshold, lang), backup=False, lang=lang)
        return backup

    # the live Excel book (apply is set) can't be shared with a child: inline, when joined
    return Background(write) if parallel and apply is None else Background.deferred(write)


def _voided_numbers(ledger: Any, orders: Sequence[Any], known: dict[str, Any]) -> dict[str, str]:
    """order_sn -> the voided ledger number its row still shows (the order needs a new one)."""
    stale = {o.tracking_no: o.order_sn for o in orders
             if o.tracking_no and (o.order_sn not in known or known[o.order_sn].tracking_no != o.tracking_no)}
    if not stale:
        return {}
    out: dict[str, str] = {}
    for rec in ledger.find_parcels(list(stale), live_only=False):
        sn = stale.get(rec.tracking_no)
        if sn is not None and rec.state == "voided" and sn in rec.order_sns:
            out[sn] = rec.tracking_no
    return out


def _lock(path: Path) -> Any:
    if not path.is_file():      # let the reader say clearly what is wrong with the path
        return nullcontext()
    from .locks import workbook_lock

    return workbook_lock(path)


def _apply(path: Path, plan: Any, result: BatchResult, opts: Options, apply: ApplyPlan | None,
           lang: str) -> None:
    if apply is not None:
        apply(plan)
        return
    from .writeback import apply_plan

    outcome = apply_plan(path, plan, backup=opts.backup, lang=lang)
    result.backup = outcome.backup


def _validation_outcomes(v: Validation, lang: str) -> dict[int, RowOutcome]:
    by_row = v.issues_by_row()
    outcomes: dict[int, RowOutcome] = {}
    for o in v.orders:
        warn = [i.message for i in by_row.get(o.row, [])]
        outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.VALID, "；".join(warn))
    for row in v.rejected_rows:
        outcomes[row] = _rejected(row, by_row.get(row, []), lang)
    return outcomes


def _rejected(row: int, issues: Sequence[RowIssue], lang: str) -> RowOutcome:
    errors = [i for i in issues if i.severity == "error"]
    sep = "；" if lang != "en" else "; "
    text = sep.join(f"{i.cell}：{i.message}" if lang != "en" else f"{i.cell}: {i.message}" for i in errors)
    return RowOutcome(row, "", RowStatus.INVALID, text)


def _fill_counts(result: BatchResult, v: Validation, outcomes: dict[int, RowOutcome]) -> None:
    result.rows = v.checked
    result.rejected = len(v.rejected_rows)
    result.issues = list(v.issues)
    result.outcomes = [outcomes[r] for r in sorted(outcomes)]
    result.intercepted = sum(1 for o in outcomes.values() if o.status is RowStatus.INTERCEPTED)
    result.skipped = sum(1 for o in outcomes.values() if o.status is RowStatus.SKIPPED)
    result.short = sum(1 for o in outcomes.values() if o.status is RowStatus.SHORT)
    result.held = sum(1 for o in outcomes.values() if o.status is RowStatus.HELD)
    result.out_of_stock = sum(1 for o in outcomes.values() if o.status is RowStatus.OUT_OF_STOCK)


Numbered = dict[str, tuple[str, int, bool]]   # order_sn -> (tracking no, parcel id, new in this run)


def _process_outcomes(v: Validation, plan: Plan, numbered: Numbered, lang: str
                      ) -> tuple[dict[int, RowOutcome], list[Parcel]]:
    """Row outcomes for every row, and the numbered parcels (as they will be printed)."""
    from dataclasses import replace

    by_row = v.issues_by_row()
    outcomes: dict[int, RowOutcome] = dict(plan.outcomes)
    for row in v.rejected_rows:
        outcomes[row] = _rejected(row, by_row.get(row, []), lang)
    ready: list[Parcel] = []
    for parcel in plan.parcels:
        # the ledger may split a planned parcel (some orders kept an earlier number): group again
        groups: dict[str, list[Any]] = {}
        for o in parcel.orders:
            hit = numbered.get(o.order_sn)
            groups.setdefault(hit[0] if hit else "", []).append(o)
        for tracking, members in groups.items():
            sns = [o.order_sn for o in members]
            for o in members:
                notes = _row_notes(o, sns, parcel, plan, by_row.get(o.row, []), lang)
                if not tracking:
                    short = pick(lang, f"{parcel.carrier.pdd_name}单号不足，未分配；请补充号段后重新处理",
                                 f"Not enough {parcel.carrier.pdd_name} numbers; add numbers and run again")
                    outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.SHORT, _join([short, *notes], lang))
                    continue
                outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.ALLOCATED, _join(notes, lang),
                                             parcel.carrier.pdd_name, tracking)
            if tracking:
                ready.append(replace(parcel, orders=tuple(members), tracking_no=tracking,
                                     key=parcel.key if len(members) == len(parcel.orders) else
                                     f"{parcel.key}-{tracking}"))
    return outcomes, ready


def _row_notes(o: Any, sns: Sequence[str], parcel: Parcel, plan: Plan, issues: Sequence[RowIssue],
               lang: str) -> list[str]:
    notes: list[str] = []
    others = [s for s in sns if s != o.order_sn]
    if others:
        notes.append(pick(lang, f"与订单 {'、'.join(others)} 合并为一个包裹",
                          f"Merged into one parcel with {', '.join(others)}"))
    if parcel.rule:
        notes.append(pick(lang, f"快递按规则“{parcel.rule}”选择", f"Carrier chosen by rule '{parcel.rule}'"))
    notes.extend(plan.notes.get(o.order_sn, []))
    d = plan.deadlines.get(o.order_sn)
    if d is not None:
        notes.append(deadline_text(d, lang))
    notes.extend(i.message for i in issues if i.severity == "warning")
    return notes


def _join(parts: Sequence[str], lang: str) -> str:
    return ("；" if lang != "en" else "; ").join(p for p in parts if p)


def _dry_allocation(plan: Plan, known: dict[str, Any]) -> tuple[Numbered, set[int], dict[str, int]]:
    """What a real run would keep: orders the ledger numbered before; new ones are counted, not taken."""
    numbered: Numbered = {sn: (rec.tracking_no, rec.id, False) for sn, rec in known.items()}
    return numbered, set(), {}


def _short_notes(short: dict[str, int], lang: str) -> list[str]:
    from .carriers import all_carriers

    cs = all_carriers()
    return [pick(lang, f"{cs[c].pdd_name if c in cs else c}单号不足：还差 {n} 个",
                 f"{c}: {n} more numbers needed") for c, n in short.items()]


def _default_out_dir(path: Path, config: Config) -> Path:
    if config.out_dir:
        base = Path(config.out_dir)
        return base if base.is_absolute() else config.path.parent / base
    return path.with_name(path.stem + ".pddbatch")


def urgent_list(plan: Plan, lang: str) -> list[dict[str, object]]:
    """即将超时: orders past or near their promised ship time, most urgent first."""
    out = []
    for d in sorted(plan.deadlines.values(), key=lambda d: d.hours_left):
        out.append({"order_sn": d.order_sn, "row": d.row, "due": d.due.strftime("%Y-%m-%d %H:%M"),
                    "hours_left": round(d.hours_left, 1), "overdue": d.overdue, "derived": d.derived})
    return out


def _side_tables(path: Path, table: Table, config: Config, live: bool) -> tuple[Catalog, StockLevels | None]:
    """The optional 商品资料 and 库存 tables (sheets of the workbook or files named in the config)."""
    if live:      # the Excel face reads only the orders sheet for now
        return Catalog(), None
    base = config.path.parent
    names = table.sheet_names
    cat = load_catalog(side_table(path, config.sku_table, base, names, "sku_columns.json", "商品资料"))
    stock = load_stock(side_table(path, config.stock, base, names, "stock_columns.json", "库存"))
    return cat, stock


def _render(parcels: Sequence[Parcel], out_dir: Path, config: Config, opts: Options, lang: str,
            now: datetime, result: BatchResult, sku_names: dict[str, str] | None = None) -> list[Path]:
    from .render import write_documents

    settings = render_settings(config, label_size=opts.label_size, zpl=opts.zpl, now=now, lang=lang,
                               sku_names=sku_names)
    if opts.label_size:     # --label-size: every label on that stock, whatever the rules said
        from dataclasses import replace

        parcels = [replace(p, label_size=opts.label_size) for p in parcels]
    _retire_earlier_outputs(out_dir, now)
    docs = write_documents(parcels, out_dir, settings)
    result.notes.extend(docs.warnings)
    return [f.path for f in docs.files]


def _run_summary(result: BatchResult) -> dict[str, object]:
    data = result.to_json()
    data.pop("issues", None)          # personal data stays in the workbook, not in the ledger
    return data


def _write_summary(out_dir: Path, result: BatchResult) -> None:
    import json
    import os

    target = out_dir / "summary.json"
    data = _run_summary(result)
    data["files"] = [*result.files, str(target)]
    data["issue_count"] = len(result.issues)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, target)
    result.files.append(str(target))


def render_settings(config: Config, *, label_size: str | None, zpl: bool | None, now: datetime, lang: str,
                    sku_names: dict[str, str] | None = None) -> Any:
    """The renderer's settings from the config, with the face's overrides."""
    from .render import RenderSettings

    return RenderSettings(
        shop_name=config.shop_name, sender_name=config.sender.name, sender_phone=config.sender.phone,
        sender_address=config.sender.address, label_size=label_size or config.label_size,
        mask_phone=config.mask_phone, sort_by="deadline" if config.label_sort == "deadline" else "sku",
        zpl=config.zpl if zpl is None else zpl, packing_slips=config.packing_slips,
        printed_at=now.replace(microsecond=0), lang=lang, layout_dir=config.layout_dir,
        sku_names=sku_names or {})


def _retire_earlier_outputs(out_dir: Path, now: datetime) -> None:
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


def explain(path: Path, order_sn: str, options: Options | None = None) -> list[str]:
    """Every decision pddbatch makes for one order, as sentences (no ledger change, no file written)."""
    from .errors import InputError
    from .ledger import Ledger

    opts = options or Options()
    config = load_config(find_config(path, opts.config))
    lang = opts.lang or config.lang
    now = opts.now or datetime.now()
    table = load_table(path, opts.sheet)
    v = validate_table(table, lang=lang)
    lines: list[str] = []
    row = next((o.row for o in v.orders if o.order_sn == order_sn), None)
    if row is None:
        sn_col = v.columns.col("order_sn")
        for i, raw in enumerate(table.rows):
            if sn_col and sn_col - 1 < len(raw) and str(raw[sn_col - 1]).strip() == order_sn:
                row = table.sheet_row(i)
                break
    if row is None:
        raise InputError(f"在 {path.name} 中找不到订单 {order_sn}", f"Order {order_sn} is not in {path.name}")
    lines.append(f"订单 {order_sn}：工作表“{table.sheet}”第 {row} 行")
    for issue in v.issues_by_row().get(row, []):
        kind = "错误" if issue.severity == "error" else "提醒"
        lines.append(f"校验{kind}：{issue.cell} {issue.header}：{issue.message}")
    if row in v.rejected_rows:
        lines.append("结论：校验失败，不分配单号")
        return lines
    known: dict[str, Any] = {}
    if config.ledger_path.exists():
        with Ledger.open(config.ledger_path) as ledger:
            known = ledger.existing_for_orders([o.order_sn for o in v.orders])
    catalog, stock = _side_tables(path, table, config, False)
    plan = make_plan(v.orders, config, now=now, lang=lang,
                     ledger_numbers={sn: p.tracking_no for sn, p in known.items()}, catalog=catalog, stock=stock,
                     tracing=True)
    lines.extend(plan.trace.get(order_sn, []))
    d = plan.deadlines.get(order_sn)
    if d is not None:
        lines.append(deadline_text(d, lang))
    rec = known.get(order_sn)
    if rec is not None:
        lines.append(f"台账：已分配 {rec.carrier_code} {rec.tracking_no}（包裹 #{rec.id}，第 {rec.run_id} 次运行）")
    elif row not in plan.outcomes:
        lines.append("台账：尚未分配单号；处理时会分配")
    return lines
