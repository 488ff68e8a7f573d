"""The first half of every run, written once: read -> validate -> ledger lookup -> plan.

`validate`, `process`, `explain` and `reprint` all call `prepare`; they differ only in what they do
with the result (mark the sheet, number and print, tell the story, reprint), so they can never
tell different stories about the same row.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pddbatch.allocate import Known, keep_live_numbers, voided_numbers
from pddbatch.clock import china_now
from pddbatch.config import Config, find_config, load_config
from pddbatch.ledger import Ledger
from pddbatch.model import BatchResult
from pddbatch.pipeline.options import Clock, Options, Progress, checkpoint
from pddbatch.plan.catalog import FILE_SUFFIXES, Catalog, load_catalog, side_table
from pddbatch.plan.parcels import Plan, make_plan
from pddbatch.plan.stock import StockLevels, load_stock
from pddbatch.validate import Validation, validate_table
from pddbatch.workbook.backend import FileSheet, SheetBackend
from pddbatch.workbook.headers import alias_table
from pddbatch.workbook.read import Table, read_table

OpenLedger = Callable[[ExitStack, Validation], "Ledger | None"]


@dataclass
class Prepared:
    """Everything known about the workbook before a number is taken."""

    config: Config | None             # None for 校验 alone (it needs no config)
    lang: str
    now: datetime
    table: Table
    validation: Validation
    ledger: Ledger | None = None
    known: Known = field(default_factory=dict)
    voided: dict[str, str] = field(default_factory=dict)
    catalog: Catalog = field(default_factory=Catalog)
    stock: StockLevels | None = None
    stock_in_book: bool = False       # the 库存 table is a sheet of this workbook (written back with it)
    plan: Plan = field(default_factory=Plan)


def as_backend(workbook: Path | SheetBackend, lang: str = "zh") -> SheetBackend:
    return FileSheet(workbook, lang) if isinstance(workbook, Path | str) else workbook


def config_for(path: Path, opts: Options) -> Config:
    return load_config(find_config(path, opts.config))


def load_table(path: Path, sheet: str | None = None) -> Table:
    """The orders table of a file (for tools and tests; runs read through a `SheetBackend`)."""
    return read_table(path, alias_table().is_header_row, sheet)


def prepare(backend: SheetBackend, opts: Options, lang: str, clock: Clock[BatchResult], progress: Progress, *,
            config: Config | None = None, stack: ExitStack | None = None, open_ledger: OpenLedger | None = None,
            planning: bool = True, tracing: bool = False) -> Prepared:
    """Read, validate, look the orders up in the ledger and plan them.

    `open_ledger(stack, validation)` opens the ledger (or returns None: no ledger yet) once the rows
    are known good enough to look up; it registers the closing on `stack`. `planning=False` stops
    after validation (the 校验 button, reprint).
    """
    progress("read", 0, 1)
    with clock.stage("read"):
        table = backend.read_table(opts.sheet)
    checkpoint("read")
    clock.result.sheet = table.sheet
    with clock.stage("validate"):
        v = validate_table(table, lang=lang)
    prep = Prepared(config, lang, opts.now or china_now(), table, v)
    if not planning:
        return prep
    if config is None:
        raise ValueError("planning needs the config")
    progress("plan", 0, 1)
    with clock.stage("ledger_open"):
        if open_ledger is not None and stack is not None:
            prep.ledger = open_ledger(stack, v)
        if prep.ledger is not None:
            prep.known = prep.ledger.existing_for_orders([o.order_sn for o in v.orders])
            prep.voided = voided_numbers(prep.ledger, v.orders, prep.known)
    with clock.stage("plan"):
        prep.catalog, prep.stock, prep.stock_in_book = side_tables(backend, table, config)
        prep.plan = make_plan(v.orders, config, now=prep.now, lang=lang,
                              ledger_numbers={sn: p.tracking_no for sn, p in prep.known.items()},
                              voided_numbers=prep.voided, catalog=prep.catalog, stock=prep.stock, tracing=tracing)
        keep_live_numbers(prep.plan, v.orders, prep.known, lang)
    return prep


def side_tables(backend: SheetBackend, table: Table, config: Config) -> tuple[Catalog, StockLevels | None, bool]:
    """The optional 商品资料 and 库存 tables: sheets of the workbook (through the backend) or files.

    The third value says whether the 库存 table is a sheet of the workbook itself.
    """
    base = config.path.parent
    names = table.sheet_names

    def read(spec: str, columns: str, what: str) -> Table | None:
        if spec.lower().endswith(FILE_SUFFIXES):      # a file named in the config, read from disk
            return side_table(backend.path, spec, base, names, columns, what)
        if spec not in names:
            return None
        return backend.read_side_table(spec, columns, what)

    stock_table = read(config.stock, "stock_columns.json", "库存")
    in_book = stock_table is not None and not config.stock.lower().endswith(FILE_SUFFIXES)
    return load_catalog(read(config.sku_table, "sku_columns.json", "商品资料")), load_stock(stock_table), in_book
