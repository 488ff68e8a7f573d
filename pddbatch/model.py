"""The nouns of a seller's day, as frozen dataclasses. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pddbatch.address import MASKABLE, full_address, is_masked, masked_parts


class DateOnly(datetime):
    """A cell that holds a date without a time (an Excel date cell formatted as a date): midnight for
    every reader, except where a date means a deadline, which runs to the end of that day."""


CellValue = str | int | float | Decimal | datetime | None
Severity = Literal["error", "warning"]


def col_letter(col: int) -> str:
    """1-based column index -> Excel letters (1 -> A, 27 -> AA)."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_number(letters: str) -> int:
    """Excel letters -> 1-based column index (A -> 1, AA -> 27); the inverse of `col_letter`."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def a1(row: int, col: int) -> str:
    return f"{col_letter(col)}{row}"


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem with one row (and usually one cell) of an input sheet.

    `row` and `col` are 1-based sheet coordinates; `col` is None for row-level problems.
    `code` is a stable kebab-case identifier (`bad-phone`, `duplicate-order-sn`, ...).
    """

    sheet: str
    row: int
    col: int | None
    field: str
    header: str
    code: str
    message: str
    severity: Severity = "error"

    @property
    def cell(self) -> str:
        return a1(self.row, self.col) if self.col else f"{self.row}"


class RowStatus(StrEnum):
    """What pddbatch did with a row; the value is the canonical key, text comes from `messages`."""

    INVALID = "invalid"          # 校验失败
    VALID = "valid"              # 校验通过
    ALLOCATED = "allocated"      # 已分配
    INTERCEPTED = "intercepted"  # 已拦截
    SKIPPED = "skipped"          # 已跳过
    SHORT = "short"              # 单号不足
    HELD = "held"                # 暂缓 (rule hold)
    OUT_OF_STOCK = "out-of-stock"  # 缺货
    INCOMPLETE = "incomplete"    # 待补全: a receiver value is masked with * (not printable)
    STORE_PICKUP = "store-pickup"  # 门店自提: the buyer collects in a store, no courier
    UNDER_REVIEW = "under-review"  # 审核中: PDD is still reviewing the order


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    address: str

    @property
    def full_address(self) -> str:
        """The one composed address (see `pddbatch.address.full_address`)."""
        return full_address(self.province, self.city, self.district, self.street, self.address)

    @property
    def masked(self) -> list[str]:
        """What PDD masked with `*`, as the seller calls it: 收货人, 手机, 收货地址 (each once)."""
        if not is_masked(self.name + self.phone + self.street + self.address):
            return []       # the common case, on every order of a run: one scan, no list building
        return list(dict.fromkeys(MASKABLE[k] for k in masked_parts(
            (("name", self.name), ("phone", self.phone), ("street", self.street), ("address", self.address)))))


@dataclass(frozen=True, slots=True)
class Order:
    """One row of the export, typed. Text fields are stripped; missing values are ''/None."""

    row: int
    order_sn: str
    order_status: str
    after_sale_status: str
    product: str
    spec: str
    sku: str                      # 商家编码-规格维度, else 商家编码-商品维度
    quantity: int
    receiver: Receiver
    merchant_remark: str = ""
    buyer_message: str = ""
    paid_at: datetime | None = None
    promised_ship_at: datetime | None = None
    buyer_paid: Decimal | None = None       # 用户实付金额(元)
    merchant_received: Decimal | None = None  # 商家实收金额(元)
    tracking_no: str = ""         # 快递单号 already in the sheet
    carrier_name: str = ""        # 快递公司 already in the sheet
    goods_id: str = ""
    sort_code: str = ""           # 三段码 / 大头笔 from the export, when it has such a column
    pack_hub: str = ""            # 集包地 from the export
    store_pickup: bool = False    # 是否门店自提 = 是
    under_review: bool = False    # 是否审核中 = 是


@dataclass(frozen=True, slots=True)
class Carrier:
    """A carrier as PDD knows it (see schemas/carriers.json)."""

    code: str          # ZTO
    pdd_name: str      # 中通快递
    pdd_id: int        # 115
    pattern: str = ""  # advisory regex for tracking numbers


@dataclass(frozen=True, slots=True)
class Parcel:
    """One box: one or more orders to the same receiver, one carrier, one waybill number."""

    key: str                      # stable id derived from its orders (see plan.parcel_key)
    orders: tuple[Order, ...]
    carrier: Carrier
    receiver: Receiver
    tracking_no: str = ""
    weight_g: int | None = None
    label_size: str = "76x130"
    priority: int = 0
    rule: str = ""                # which carrier rule chose the carrier
    promised_ship_at: datetime | None = None  # earliest deadline of its orders

    @property
    def order_sns(self) -> tuple[str, ...]:
        orders = self.orders
        if len(orders) == 1:          # most parcels (asked for many times a run: no generator for them)
            return (orders[0].order_sn,)
        return tuple(o.order_sn for o in orders)

    def numbered(self, orders: tuple[Order, ...], tracking_no: str, key: str) -> Parcel:
        """This parcel as printed: its orders that got `tracking_no`, under `key` (what
        `dataclasses.replace` gives, at half its cost: one per parcel of a run)."""
        return Parcel(key, orders, self.carrier, self.receiver, tracking_no, self.weight_g, self.label_size,
                      self.priority, self.rule, self.promised_ship_at)

    @property
    def item_count(self) -> int:
        orders = self.orders
        return orders[0].quantity if len(orders) == 1 else sum(o.quantity for o in orders)


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """The result for one input row, as written back into the seller's workbook."""

    row: int
    order_sn: str
    status: RowStatus
    message: str = ""
    carrier_name: str = ""
    tracking_no: str = ""
    warnings: tuple[str, ...] = ()


# ---- the write-back seam -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OwnedColumn:
    """A column pddbatch writes. `col` is 1-based; `is_new` when it must be appended."""

    header: str
    col: int
    is_new: bool


@dataclass(frozen=True, slots=True)
class IssuesSheet:
    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[CellValue, ...], ...]


@dataclass(frozen=True)
class WritePlan:
    """Everything pddbatch changes in one sheet of the seller's workbook, as plain data.

    Backends (file patcher, openpyxl, live xlwings book) apply it. Rules every backend keeps:
    - only `columns` cells, `marks` fills/notes, and the issues sheet change;
    - marks pddbatch made on an earlier run are removed first, restoring the cell as it was;
    - strings are written as text, never as formulas.
    `values` maps (row, col) -> value; `marks` maps (row, col) -> note text for a red-filled cell.
    `record_meta` is stored with pddbatch's mark record in the workbook (`workbook.marks`).
    """

    sheet: str
    header_row: int
    columns: tuple[OwnedColumn, ...]
    values: Mapping[tuple[int, int], CellValue]
    marks: Mapping[tuple[int, int], str] = field(default_factory=dict)
    issues_sheet: IssuesSheet | None = None
    last_row: int = 0             # last data row of the table (rows after it are untouched)
    record_meta: dict[str, str] = field(default_factory=dict)   # kept in the mark record (e.g. ledger_id)


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    path: str
    backup: str | None
    cells_written: int
    marks_written: int
    marks_cleared: int
    sidecars: tuple[str, ...] = ()   # extra files written beside the input (CSV: the issues list)


# ---- what a run reports -------------------------------------------------------------------------

@dataclass
class BatchResult:
    """The outcome of `validate` or `process` on one workbook; faces turn it into text or JSON."""

    command: str
    path: str
    sheet: str = ""
    rows: int = 0                  # data rows read (blank rows excluded)
    rejected: int = 0
    allocated_new: int = 0
    allocated_existing: int = 0
    parcels: int = 0
    intercepted: int = 0
    skipped: int = 0
    short: int = 0
    held: int = 0
    out_of_stock: int = 0
    incomplete: int = 0            # 待补全 (masked receiver values)
    store_pickup: int = 0          # 门店自提
    under_review: int = 0          # 审核中
    deadline_warnings: int = 0
    short_by_carrier: dict[str, int] = field(default_factory=dict)
    issues: list[RowIssue] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    out_dir: str | None = None
    backup: str | None = None
    run_id: int | None = None
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)   # run-level remarks for the seller
    urgent: list[dict[str, object]] = field(default_factory=list)  # 即将超时: most urgent first
    low_stock: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def allocated(self) -> int:
        return self.allocated_new + self.allocated_existing

    @property
    def exit_code(self) -> int:
        return 1 if (self.rejected or self.short) else 0

    def to_json(self) -> dict[str, object]:
        return {
            "command": self.command, "path": self.path, "sheet": self.sheet, "rows": self.rows,
            "rejected": self.rejected, "allocated": self.allocated, "allocated_new": self.allocated_new,
            "allocated_existing": self.allocated_existing, "parcels": self.parcels,
            "intercepted": self.intercepted, "skipped": self.skipped, "short": self.short,
            "held": self.held, "out_of_stock": self.out_of_stock,
            "incomplete": self.incomplete, "store_pickup": self.store_pickup, "under_review": self.under_review,
            "deadline_warnings": self.deadline_warnings,
            "short_by_carrier": self.short_by_carrier, "urgent": self.urgent, "low_stock": self.low_stock,
            "files": self.files, "out_dir": self.out_dir,
            "backup": self.backup, "run_id": self.run_id, "dry_run": self.dry_run, "notes": self.notes,
            "exit_code": self.exit_code,
            "issues": [{"sheet": i.sheet, "cell": i.cell, "row": i.row, "field": i.field, "code": i.code,
                        "severity": i.severity, "message": i.message} for i in self.issues],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }
