"""The one path every face calls: `validate(...)` and `process(...)` on a workbook.

read -> map headers -> validate -> plan -> allocate (ledger) -> render documents -> write back.
Nothing here prints; progress goes to an optional callback.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pddbatch.config import Config, find_config, load_config
from pddbatch.documents import default_out_dir, render_documents, run_summary, write_summary
from pddbatch.messages import pick
from pddbatch.model import BatchResult
from pddbatch.outcomes import (
    Numbered,
    fill_counts,
    process_outcomes,
    short_notes,
    urgent_list,
    validation_outcomes,
)
from pddbatch.parallel import Background
from pddbatch.plan.catalog import FILE_SUFFIXES, Catalog, load_catalog, side_table
from pddbatch.plan.parcels import Plan, make_plan
from pddbatch.plan.stock import StockLevels, load_stock, stock_write_plan
from pddbatch.plan.stock import summary as stock_summary
from pddbatch.validate import Validation, validate_table
from pddbatch.workbook.headers import alias_table, key_header
from pddbatch.workbook.read import Table, read_table
from pddbatch.workbook.writeplan import build_write_plan

Progress = Callable[[str, int, int], None]


ReadTable = Callable[[], Table]


ApplyPlan = Callable[..., Any]
ReadSheet = Callable[[str, Any, str, str], "Table | None"]   # (sheet name, header test, what, key header)


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


@contextmanager
def _no_cycle_collector() -> Iterator[None]:
    """Pause Python's cycle collector for the run.

    A run builds a few million small objects and makes almost no reference cycles; the collector's
    full passes over that heap cost ~15% of a 100,000-order run (measured), and in forked label
    workers they also defeat copy-on-write. Reference counting still frees everything.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _noop(stage: str, done: int, total: int) -> None:
    return None


def load_table(path: Path, sheet: str | None = None) -> Table:
    return read_table(path, alias_table().is_header_row, sheet)


def _read_and_validate(path: Path, opts: Options, read: ReadTable | None, clock: _Clock, progress: Progress,
                       lang: str) -> tuple[Table, Validation]:
    progress("read", 0, 1)
    with clock.stage("read"):
        table = read() if read else load_table(path, opts.sheet)
    clock.result.sheet = table.sheet
    with clock.stage("validate"):
        v = validate_table(table, lang=lang)
    return table, v


def validate(path: Path, options: Options | None = None, progress: Progress | None = None, *,
             read: ReadTable | None = None, apply: ApplyPlan | None = None) -> BatchResult:
    """Check every row and mark problems in the workbook (unless dry run)."""
    opts = options or Options()
    lang = opts.lang or "zh"
    progress = progress or _noop
    result = BatchResult("validate", str(path), dry_run=opts.dry_run)
    clock = _Clock(result)
    lock = _lock(path) if not opts.dry_run and apply is None else nullcontext()
    with lock, _no_cycle_collector():
        table, v = _read_and_validate(path, opts, read, clock, progress, lang)
        outcomes = validation_outcomes(v, lang)
        fill_counts(result, v, outcomes)
        if not opts.dry_run:
            with clock.stage("write_back"):
                plan = build_write_plan(table, v.columns, v.issues, outcomes, shipping=False, lang=lang)
                _apply(path, plan, result, opts, apply, lang)
    return result


def process(path: Path, options: Options | None = None, progress: Progress | None = None, *,
            read: ReadTable | None = None, apply: ApplyPlan | None = None,
            read_sheet: ReadSheet | None = None, out_dir: Path | None = None) -> BatchResult:
    """Validate, plan, number, render and write back: the seller's whole morning in one call."""
    from pddbatch.ledger import Ledger, ParcelRequest

    opts = options or Options()
    progress = progress or _noop
    config = load_config(find_config(path, opts.config))
    lang = opts.lang or config.lang
    now = opts.now or datetime.now()
    result = BatchResult("process", str(path), dry_run=opts.dry_run)
    clock = _Clock(result)
    lock = _lock(path) if not opts.dry_run and apply is None else nullcontext()
    with lock, _no_cycle_collector():
        table, v = _read_and_validate(path, opts, read, clock, progress, lang)
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
                catalog, stock = side_tables(path, table, config, read_sheet if read is not None else None)
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
            with clock.stage("outcomes"):
                outcomes, ready = process_outcomes(v, plan, numbered, lang)
            fill_counts(result, v, outcomes)
            result.parcels = len({pid for _t, pid, _n in numbered.values()})
            result.allocated_new = sum(1 for *_x, is_new in numbered.values() if is_new)
            result.allocated_existing = len(numbered) - result.allocated_new
            result.short_by_carrier = short
            result.deadline_warnings = len(plan.deadlines)
            result.urgent = urgent_list(plan, lang)
            if stock is not None:
                result.low_stock = dict(stock_summary(stock, config.low_stock_threshold))
            if short:
                result.notes.extend(short_notes(short, lang))
            if not opts.dry_run and run_id is not None:
                # new parcels, and earlier ones a crash kept from being rendered
                to_render_ids = set(new_ids) | {r.id for r in known.values() if r.rendered_run_id is None}
                to_render = [p for p in ready if numbered[p.order_sns[0]][1] in to_render_ids]
                with clock.stage("outcomes"):
                    wplan = build_write_plan(table, v.columns, v.issues, outcomes, shipping=True, lang=lang)
                # a big write-back runs on the other core while the labels render
                side = _start_write_back(path, wplan, stock, config, opts, apply, lang,
                                         parallel=len(table.rows) >= PARALLEL_ROWS and bool(to_render))
                try:
                    if to_render:
                        progress("render", 0, len(to_render))
                        with clock.stage("render"):
                            target = out_dir or opts.out_dir or default_out_dir(path, config)
                            files = render_documents(to_render, target, config, opts, lang, now, result,
                                                     catalog.short_names(), after_labels=side.start,
                                                     progress=progress)
                        with clock.stage("finish"):
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
                    with clock.stage("finish"):
                        write_summary(Path(result.out_dir), result)
                with clock.stage("finish"):
                    ledger.finish_run(run_id, "done", run_summary(result))
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
WRITE_BACK_NICE = 10


def _start_write_back(path: Path, wplan: Any, stock: StockLevels | None, config: Config, opts: Options,
                      apply: ApplyPlan | None, lang: str, *, parallel: bool) -> Background[str | None]:
    """The workbook write-back (orders sheet, then the stock sheet), now or beside the rendering."""
    def write() -> str | None:
        if apply is not None:
            apply(wplan)
            if stock is not None and stock.table.kind == "excel":
                apply(stock_write_plan(stock, config.low_stock_threshold, lang))
            return None
        from pddbatch.workbook.save import apply_plan

        backup = apply_plan(path, wplan, backup=opts.backup, lang=lang).backup
        if stock is not None and stock.table.path == str(path):
            apply_plan(path, stock_write_plan(stock, config.low_stock_threshold, lang), backup=False, lang=lang)
        return backup

    # a child from now on at a lower priority: the label workers keep their cores, the write-back takes
    # what they leave and the second core once they finish (benchmark, 100k orders: 17.9–18.0 s against
    # 19.2 s at equal priority). The live Excel book (apply) can't go to a child.
    return Background(write, nice=WRITE_BACK_NICE) if parallel and apply is None else Background.deferred(write)


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
    from pddbatch.workbook.locks import workbook_lock

    return workbook_lock(path)


def _apply(path: Path, plan: Any, result: BatchResult, opts: Options, apply: ApplyPlan | None,
           lang: str) -> None:
    if apply is not None:
        apply(plan)
        return
    from pddbatch.workbook.save import apply_plan

    outcome = apply_plan(path, plan, backup=opts.backup, lang=lang)
    result.backup = outcome.backup


def _dry_allocation(plan: Plan, known: dict[str, Any]) -> tuple[Numbered, set[int], dict[str, int]]:
    """What a real run would keep: orders the ledger numbered before; new ones are counted, not taken."""
    numbered: Numbered = {sn: (rec.tracking_no, rec.id, False) for sn, rec in known.items()}
    return numbered, set(), {}


def side_tables(path: Path, table: Table, config: Config, read_sheet: ReadSheet | None = None
                ) -> tuple[Catalog, StockLevels | None]:
    """The optional 商品资料 and 库存 tables: sheets of the workbook (or of the live book) or files."""
    base = config.path.parent
    names = table.sheet_names
    if read_sheet is None:
        cat = load_catalog(side_table(path, config.sku_table, base, names, "sku_columns.json", "商品资料"))
        stock = load_stock(side_table(path, config.stock, base, names, "stock_columns.json", "库存"))
        return cat, stock

    def live(spec: str, columns: str, what: str) -> Table | None:
        if spec.lower().endswith(FILE_SUFFIXES):      # a file named in the config, read from disk
            return side_table(path, spec, base, names, columns, what)
        if spec not in names:
            return None
        aliases = alias_table(columns)
        return read_sheet(spec, aliases.is_header_row, what, key_header(aliases))

    return (load_catalog(live(config.sku_table, "sku_columns.json", "商品资料")),
            load_stock(live(config.stock, "stock_columns.json", "库存")))
