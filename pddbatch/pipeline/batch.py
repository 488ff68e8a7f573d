"""The seller's two everyday runs on a workbook: `validate(...)` (校验) and `process(...)` (处理发货).

read -> validate -> ledger lookup -> plan (`prepare`) -> allocate (`pddbatch.allocate`) -> outcomes ->
documents -> write back through the workbook's `SheetBackend`. Nothing here prints; progress goes to
an optional callback.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack, nullcontext, suppress
from dataclasses import replace
from pathlib import Path

from pddbatch.allocate import Numbering, allocate, dry_allocation
from pddbatch.config import Config
from pddbatch.documents import default_out_dir, ledger_summary, render_documents, write_summary
from pddbatch.errors import PddBatchError
from pddbatch.ledger import Ledger, ledger_exists
from pddbatch.messages import pick
from pddbatch.model import BatchResult, WritePlan
from pddbatch.outcomes import (
    fill_counts,
    note_live_numbers,
    numbered_parcels,
    process_outcomes,
    short_notes,
    urgent_list,
    validation_outcomes,
)
from pddbatch.parallel import Background, Handoff, can_fork
from pddbatch.pipeline.guards import (
    Interruptible,
    check_ledger_identity,
    interrupted_error,
    is_interrupt,
    precheck,
    record_ledger_identity,
    start_structure_check,
)
from pddbatch.pipeline.options import Clock, Options, Progress, checkpoint, no_cycle_collector, no_progress
from pddbatch.pipeline.prepare import Prepared, as_backend, config_for, load_table, prepare
from pddbatch.plan.stock import stock_write_plan
from pddbatch.plan.stock import summary as stock_summary
from pddbatch.validate import Validation
from pddbatch.workbook.backend import FileSheet, SheetBackend, WorkbookChangedError
from pddbatch.workbook.writeplan import build_write_plan, owned_columns

BookPlans = tuple[WritePlan, WritePlan | None]     # the orders sheet's plan, the stock sheet's

__all__ = ["PARALLEL_ROWS", "Options", "load_table", "process", "validate"]

PARALLEL_ROWS = 5000     # below this, forking costs more than the overlap saves
WRITE_BACK_NICE = 0


def validate(workbook: Path | SheetBackend, options: Options | None = None,
             progress: Progress | None = None) -> BatchResult:
    """Check every row and mark problems in the workbook (unless dry run)."""
    opts = options or Options()
    lang = opts.lang or "zh"
    backend = as_backend(workbook, lang)
    result = BatchResult("validate", str(backend.path), dry_run=opts.dry_run)
    clock = Clock(result)
    with backend.locked() if not opts.dry_run else nullcontext(), no_cycle_collector():
        prep = prepare(backend, opts, lang, clock, progress or no_progress, planning=False)
        v = prep.validation
        outcomes = validation_outcomes(v, lang)
        fill_counts(result, v, outcomes, lang)
        if not opts.dry_run:
            with clock.stage("write_back"):
                plan = build_write_plan(prep.table, v.columns, v.issues, outcomes, shipping=False, lang=lang)
                result.backup = backend.apply(plan, backup=opts.backup).backup
        if opts.keep is not None:
            opts.keep.append(prep)
    return result


def process(workbook: Path | SheetBackend, options: Options | None = None, progress: Progress | None = None, *,
            out_dir: Path | None = None) -> BatchResult:
    """Validate, plan, number, render and write back: the seller's whole morning in one call.

    Ctrl-C / SIGTERM raise `RunInterrupted` (已中断) after the run is recorded and everything let go.
    """
    opts = options or Options()
    progress = progress or no_progress
    path = Path(workbook) if isinstance(workbook, Path | str) else workbook.path
    config = config_for(path, opts)
    lang = opts.lang or config.lang
    backend = as_backend(workbook, lang)
    result = BatchResult("process", str(backend.path), dry_run=opts.dry_run)
    clock = Clock(result)
    target = out_dir or opts.out_dir or default_out_dir(backend.path, config)
    run = _Run(backend, opts, config, lang, result, clock, progress, target)
    with Interruptible() as signals:
        try:
            with backend.locked() if not opts.dry_run else nullcontext(), no_cycle_collector(), \
                    ExitStack() as stack:
                prep = prepare(backend, opts, lang, clock, progress, config=config, stack=stack,
                               open_ledger=run.open_ledger)
                run.go(prep, signals)
                if opts.keep is not None:
                    opts.keep.append((prep, run))
        except BaseException as exc:
            if is_interrupt(exc):
                raise interrupted_error(run.stage, run.allocated) from None
            raise
    return result


class _Run:
    """One `process` run's state between its stages (so an interruption can say where it stopped)."""

    def __init__(self, backend: SheetBackend, opts: Options, config: Config, lang: str, result: BatchResult,
                 clock: Clock[BatchResult], progress: Progress, target: Path) -> None:
        self.backend, self.opts, self.config, self.lang = backend, opts, config, lang
        self.result, self.clock, self.progress, self.target = result, clock, progress, target
        self.stage = "read"
        self.allocated = False
        self.labels_written = False
        self.rendering = False        # files in the output folder are this run's (earlier ones moved aside)
        self.new_numbers = 0
        self.written = False
        self.structure: Background[None] | None = None     # the workbook's structure check, under way
        self.book: Handoff[BookPlans] = Handoff()          # the write-back's plans, given once the labels are drawing
        self.write_back: Background[str | None] | None = None

    def open_ledger(self, stack: ExitStack, v: Validation) -> Ledger:
        self.stage = "ledger"
        where: str | Path = self.config.ledger      # an SQLite file or a PostgreSQL URL
        if self.opts.dry_run and not ledger_exists(where):     # a dry run creates no ledger file
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="pddbatch-dry-"))
            where = Path(scratch) / "ledger.sqlite"
        if not self.opts.dry_run:        # checked beside the planning, told by precheck
            parallel = len(v.table.rows) >= PARALLEL_ROWS
            self.structure = start_structure_check(self.backend, v.table, parallel=parallel)
            if self.structure is not None:
                stack.callback(self.structure.cancel)
            self.write_back = self._start_write_back(v, parallel=parallel)
            stack.callback(self.write_back.cancel)     # (a run that stops before handing it its plans)
        ledger = Ledger.open(where)
        stack.callback(ledger.close)
        if not self.opts.dry_run:
            check_ledger_identity(ledger, self.backend.path, v.table, self.target)
            for pool_file, code in self.config.pool_imports:
                ledger.import_pool_file(pool_file, code)
        return ledger

    def go(self, prep: Prepared, signals: Interruptible) -> None:
        """Allocate, render and write back (or, for a dry run, count)."""
        result, clock, opts, plan, ledger = self.result, self.clock, self.opts, prep.plan, prep.ledger
        assert ledger is not None
        checkpoint("plan")
        if not opts.dry_run:
            self.stage = "check"
            precheck(self.backend, prep.table, self.target, backup=opts.backup, structure=self.structure)
        self.stage = "allocate"
        self.progress("allocate", 0, len(plan.parcels))
        run_id: int | None = None
        try:
            with clock.stage("allocate"):
                if opts.dry_run:
                    numbering = dry_allocation(prep.known)
                else:
                    with signals.held():     # a stop here would leave the run's row 'running' with no id to fail it
                        run_id = ledger.begin_run(str(self.backend.path.resolve()))
                    numbering = allocate(ledger, run_id, plan, prep.known, str(self.backend.path.resolve()))
                    self.allocated = True
                    self.new_numbers = len(numbering.new_ids)
            checkpoint("allocate")
            result.run_id = run_id
            if run_id is None:
                self._outcomes(prep, numbering)
            else:
                self._deliver(prep, numbering, run_id)
                self.stage = "finish"
                with clock.stage("finish"):
                    signals.calm()          # the run is complete: record it, whatever signal comes now
                    ledger.finish_run(run_id, "done", ledger_summary(result))
        except BaseException as exc:
            if run_id is not None:
                signals.calm()
                # the original error matters more than a bookkeeping failure
                try:
                    summary = failure_summary(result, exc, self.stage)
                except Exception:  # noqa: BLE001 - a summary that can't be built must not leave the run 'running'
                    summary = {"stage": self.stage, "interrupted": is_interrupt(exc), "error": type(exc).__name__}
                with suppress(Exception):
                    ledger.finish_run(run_id, "failed", summary)
            if isinstance(exc, PddBatchError) and self.allocated and not isinstance(exc, WorkbookChangedError):
                raise self.late_failure(exc) from exc
            raise

    def late_failure(self, exc: PddBatchError) -> PddBatchError:
        """The same error, saying what the run produced before it and what a rerun does."""
        if self.labels_written:
            labels_zh, labels_en = f"面单和单据已写入 {self.target}", f"labels and documents are in {self.target}"
        else:
            made = sorted(p.name for p in self.target.glob("*") if p.is_file()) if self.rendering else []
            labels_zh = f"面单和单据只生成了 {'、'.join(made)}" if made else "面单和单据没有生成"
            labels_en = f"only {', '.join(made)} of the labels and documents were written" if made else \
                "no labels or documents were written"
        book_zh = "工作簿已写回" if self.written else "工作簿没有写回（保持原样）"
        book_en = "the workbook was written back" if self.written else "the workbook was not written back (unchanged)"
        zh = (f"{exc.message}。已完成的部分：台账中已分配单号（本次新分配 {self.new_numbers} 个），{labels_zh}，{book_zh}。"
              "重新运行会给每个订单同样的单号，并补齐没完成的面单和写回")
        en = (f"{exc.message_en}. Done so far: numbers are allocated in the ledger ({self.new_numbers} new this run), "
              f"{labels_en}, {book_en}. Running again gives every order the same number and finishes the rest")
        return type(exc)(zh, en)

    def _outcomes(self, prep: Prepared, numbering: Numbering) -> None:
        result, lang, plan = self.result, self.lang, prep.plan
        with self.clock.stage("outcomes"):
            outcomes, _ = process_outcomes(prep.validation, plan, numbering.numbered, lang, parcels=False)
            if prep.ledger is not None:
                note_live_numbers(outcomes, prep.validation, prep.ledger, lang)
        fill_counts(result, prep.validation, outcomes, lang)
        self.outcomes = outcomes
        numbered = numbering.numbered
        result.parcels = len({pid for _t, pid, _n in numbered.values()})
        result.allocated_new = sum(1 for *_x, is_new in numbered.values() if is_new)
        result.allocated_existing = len(numbered) - result.allocated_new
        result.short_by_carrier = numbering.short
        result.deadline_warnings = len(plan.deadlines)
        result.urgent = urgent_list(plan, lang)
        if prep.stock is not None:
            result.low_stock = dict(stock_summary(prep.stock, self.config.low_stock_threshold))
        if numbering.short:
            result.notes.extend(short_notes(numbering.short, lang))

    def _deliver(self, prep: Prepared, numbering: Numbering, run_id: int) -> None:
        """Labels and documents for the new parcels, beside the workbook write-back.

        The rows' outcomes (the write-back's plan, the run's counts) are worked out once the render
        workers are drawing (`hand_over`, which gives the plan to the write-back child forked before
        them): on a 2-core PC that ~1 s of one core no longer keeps the other idle before the labels.
        """
        result, clock, lang, ledger = self.result, self.clock, self.lang, prep.ledger
        assert ledger is not None
        numbered = numbering.numbered
        ready = numbered_parcels(prep.plan, numbered)
        # new parcels, and earlier ones a crash kept from being rendered
        to_render_ids = numbering.new_ids | {r.id for r in prep.known.values() if r.rendered_run_id is None}
        to_render = [p for p in ready if numbered[p.order_sns[0]][1] in to_render_ids]
        book = self.book
        stock, threshold = prep.stock, self.config.low_stock_threshold

        def hand_over() -> None:
            if book.given:
                return
            self._outcomes(prep, numbering)
            with clock.stage("outcomes"):
                v = prep.validation
                plan = with_ledger_id(build_write_plan(prep.table, v.columns, v.issues, self.outcomes, shipping=True,
                                                       lang=lang), ledger.ledger_id)
                book.give((plan, stock_write_plan(stock, threshold, lang)
                           if stock is not None and prep.stock_in_book else None))

        # a big write-back runs on the other core while the labels render (forked while the orders were
        # planned: it has worked out the sheet's rows meanwhile)
        self.stage = "render"
        side = self.write_back or self._start_write_back(prep.validation, parallel=False)
        try:
            if to_render:
                self.rendering = True
                self.progress("render", 0, len(to_render))
                with clock.stage("render"):
                    files = render_documents(to_render, self.target, self.config, lang, prep.now, result,
                                             prep.catalog.short_names(), label_size=self.opts.label_size,
                                             zpl=self.opts.zpl, after_labels=hand_over,
                                             progress=self.progress)
                    record_ledger_identity(self.target, ledger.ledger_id)
                self.labels_written = True
                with clock.stage("finish"):
                    ledger.mark_rendered(sorted({numbered[p.order_sns[0]][1] for p in to_render}), run_id)
                result.out_dir = str(self.target)
                result.files.extend(str(f) for f in files)
            elif ready:
                result.notes.append(pick(lang, "没有新包裹：面单此前已生成；需要补打请用 pddbatch reprint",
                                         "No new parcels: labels were made before; use pddbatch reprint"))
        except BaseException as exc:
            if is_interrupt(exc):
                side.cancel()       # the workbook stays as it was; the rerun writes it
                raise
            self.stage = "write_back"
            self.progress("write_back", 0, 1)     # never leave the workbook half-handled behind a failed render
            try:
                hand_over()
            except BaseException:
                side.cancel()
                raise exc from None
            with clock.stage("write_back"):
                result.backup = side.join()
            raise
        hand_over()
        checkpoint("render")
        self.stage = "write_back"
        self.progress("write_back", 0, 1)
        with clock.stage("write_back"):
            result.backup = side.join()
        self.written = True
        checkpoint("written")
        if result.out_dir:
            with clock.stage("finish"):
                write_summary(Path(result.out_dir), result)

    def _start_write_back(self, v: Validation, *, parallel: bool) -> Background[str | None]:
        """The workbook write-back (orders sheet, then the stock sheet) of the plans it is handed.

        Forked (a big table) as soon as the rows are validated: while this process plans and numbers
        the orders the child works out where each row's owned cells are (`FileSheet.scan_rows`), so the
        rewrite beside the labels only splices. Otherwise it runs here when joined."""
        backend, opts, book = self.backend, self.opts, self.book
        owned: tuple[int, ...] = ()

        def write() -> str | None:
            if owned:
                assert isinstance(backend, FileSheet)
                backend.scan_rows(v.table.sheet, owned)
            plan, stock_plan = book.take()
            checkpoint("write_back")
            backup = backend.apply(plan, backup=opts.backup).backup
            if stock_plan is not None:
                backend.apply(stock_plan, backup=False)
            return backup

        # a child from now on, at the same priority as the render pool's workers: with one pool sharing
        # out all the documents the cores are never idle, and a lower priority only starved the
        # write-back until the rendering ended, then left it running alone (benchmark, usual mix,
        # 50,000 / 100,000 orders: 16.0 / 31.6 s at equal priority against 16.8 / 34.8 s at nice 10).
        # The live Excel book can't go to a child.
        if parallel and isinstance(backend, FileSheet) and can_fork():
            owned = tuple(sorted(c.col for c in owned_columns(v.table, v.columns, shipping=True).values()))
            book.across_fork()
            return Background(write, nice=WRITE_BACK_NICE)
        return Background.deferred(write)


def with_ledger_id(plan: WritePlan, ledger_id: str) -> WritePlan:
    """The write plan with the ledger's id for the workbook's mark record (both backends keep it)."""
    return replace(plan, record_meta={**plan.record_meta, "ledger_id": ledger_id})


def failure_summary(result: BatchResult, exc: BaseException, stage: str) -> dict[str, object]:
    """What the ledger keeps about a run that did not finish (bounded, no personal data)."""
    data = ledger_summary(result)
    data["stage"] = stage
    if is_interrupt(exc):
        data["interrupted"] = True
        data["error"] = "interrupted"
    else:
        data["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    return data
