"""Read the three reconciliation inputs into typed, frozen records that remember where they came from.

Unreadable cells (an amount that is not a number, an order number Excel turned into a float, a blank
key) become `RowIssue`s; the row is still kept when it can be, so nothing disappears silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pddbatch.errors import InputError
from pddbatch.model import CellValue, RowIssue
from pddbatch.money import parse_money
from pddbatch.workbook.headers import AliasTable, ColumnMap, alias_table, key_header, map_headers, norm_header
from pddbatch.workbook.read import Table, read_table

ORDERS_TABLE = "columns.json"
AFTERSALES_TABLE = "aftersales_columns.json"
RETURNS_TABLE = "returns_columns.json"

_SPACE = re.compile(r"\s+")
_SCI = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)


FileIssue = tuple[str, RowIssue]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from: file name, sheet and 1-based sheet row."""

    file: str
    sheet: str
    row: int

    def label(self, lang: str = "zh") -> str:
        name = Path(self.file).name
        return f"{name} / {self.sheet} / 第{self.row}行" if lang != "en" else f"{name} / {self.sheet} / row {self.row}"


@dataclass(frozen=True, slots=True)
class OrderRec:
    source: Source
    order_sn: str                 # as typed (stripped)
    key: str                      # normalised for matching
    product: str
    sku: str
    order_status: str
    after_sale_status: str
    buyer_paid: Decimal | None
    merchant_received: Decimal | None
    tracking_no: str
    carrier: str
    shipped_at: datetime | None


@dataclass(frozen=True, slots=True)
class AfterSaleRec:
    source: Source
    aftersale_sn: str
    order_sn: str
    order_key: str
    type: str                     # as written (仅退款 …)
    type_class: str               # refund_only | return_refund | intercept | exchange | resend | other
    status: str
    status_class: str             # refunded | closed | open
    apply_amount: Decimal | None
    refund_amount: Decimal | None
    applied_at: datetime | None
    refunded_at: datetime | None
    return_carrier: str
    return_tracking_no: str
    tracking_key: str
    reason: str
    product: str
    spec: str
    sku: str

    @property
    def refunded(self) -> Decimal:
        """Money that went back to the buyer: the refund amount of a refunded after-sale, else 0."""
        if self.status_class != "refunded":
            return Decimal("0.00")
        amount = self.refund_amount if self.refund_amount is not None else self.apply_amount
        return amount if amount is not None else Decimal("0.00")

    @property
    def month(self) -> str:
        when = self.refunded_at or self.applied_at
        return f"{when:%Y-%m}" if when else ""

    @property
    def goods_key(self) -> str:
        return norm_key(self.sku) or norm_key(self.product + "|" + self.spec)


@dataclass(frozen=True, slots=True)
class ReturnRec:
    source: Source
    tracking_no: str
    tracking_key: str
    received_at: datetime | None
    order_sn: str
    order_key: str
    quantity: int | None
    condition: str
    good: bool | None             # None when 状况 is blank


@dataclass
class Inputs:
    orders: list[OrderRec]
    aftersales: list[AfterSaleRec]
    returns: list[ReturnRec]
    issues: list[FileIssue]           # (file, issue): several inputs may share a sheet name
    order_count: int = 0              # distinct order numbers in the exports (typed or not)


def norm_key(value: str) -> str:
    """Matching key for what humans type: NFKC, no whitespace, no leading apostrophe, upper case."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", value)).lstrip("'").upper()


def read_inputs(orders: Sequence[Path], aftersales: Sequence[Path], returns: Sequence[Path],
                basis: str, lang: str = "zh", *, all_orders: bool = False,
                also_orders: Iterable[str] = ()) -> Inputs:
    """Read every file; raise InputError (naming the columns) when a required column is missing.

    Only the orders an after-sale or a logged parcel refers to (by order number or waybill) are
    typed, so a 100,000-row export costs little; `all_orders=True` types every row, `also_orders`
    (normalised keys) adds more (orders whose parcel the ledger's tracking shows returned).
    """
    issues: list[FileIssue] = []
    order_issues: list[FileIssue] = []      # listed first, in the order the files were given
    recs_a: list[AfterSaleRec] = []
    for p in aftersales:
        recs_a.extend(_read(p, AFTERSALES_TABLE, None, "售后", lang, issues, _aftersale))
    recs_r: list[ReturnRec] = []
    for p in returns:
        recs_r.extend(_read(p, RETURNS_TABLE, None, "退货登记", lang, issues, _return))
    wanted = {a.order_key for a in recs_a} | {r.order_key for r in recs_r} | set(also_orders)
    tracks = {r.tracking_key for r in recs_r if r.tracking_key}
    seen: set[str] = set()

    def keep(cells: Sequence[CellValue], cmap: ColumnMap) -> bool:
        col = cmap.col("order_sn")
        raw = cells[col - 1] if col and col <= len(cells) else None
        key = norm_key(_cell_text(cells, col))
        seen.add(key)
        # a number Excel mangled is typed anyway, so its issue reaches 问题清单
        return all_orders or isinstance(raw, float) or key in wanted or (
            bool(tracks) and norm_key(_cell_text(cells, cmap.col("tracking_no"))) in tracks)

    recs_o: list[OrderRec] = []
    for p in orders:
        recs_o.extend(_read(p, ORDERS_TABLE, ("order_sn", basis), "订单", lang, order_issues, _order, keep))
    seen.discard("")
    return Inputs(recs_o, recs_a, recs_r, order_issues + issues, len(seen))


def _cell_text(cells: Sequence[CellValue], col: int | None) -> str:
    if col is None or col > len(cells) or cells[col - 1] is None:
        return ""
    v = cells[col - 1]
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


class _Row:
    """One data row with typed getters that record an issue for each unreadable cell."""

    def __init__(self, table: Table, cmap: ColumnMap, idx: int, lang: str, issues: list[FileIssue]) -> None:
        self.table, self.cmap, self.lang, self.issues = table, cmap, lang, issues
        self.cells = table.rows[idx]
        self.row = table.sheet_row(idx)
        self.source = Source(table.path, table.sheet, self.row)

    def raw(self, fname: str) -> CellValue:
        col = self.cmap.col(fname)
        if col is None or col > len(self.cells):
            return None
        return self.cells[col - 1]

    def text(self, fname: str) -> str:
        v = self.raw(fname)
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, datetime):
            return f"{v:%Y-%m-%d %H:%M:%S}"
        return str(v).strip()

    def key_text(self, fname: str) -> str:
        """An id cell (订单号, 单号) stored as a number: intact up to 15 digits (Excel's precision), else
        mangled. Report, never "fix"."""
        v = self.raw(fname)
        text = self.text(fname)
        if isinstance(v, float) and v.is_integer() and 0 < abs(v) < 1e15 and fname != "order_sn":
            # a waybill number like 73100000000001 survives as a number: every digit is still there
            self.issue(fname, "id-as-number",
                       f"“{text}”存成了数字；数字完整，按 {text} 使用。建议把该列设为文本",
                       f"'{text}' is stored as a number; the digits are intact and used as {text}. "
                       f"Format the column as text", severity="warning")
        elif isinstance(v, float) or _SCI.match(text):
            self.issue(fname, "id-not-text",
                       f"“{text}”被 Excel 当成了数字，可能已丢失位数：请把该列设为文本后重新导出",
                       f"'{text}' was turned into a number by Excel and may have lost digits: "
                       f"format the column as text and export again")
        return text

    def money(self, fname: str) -> Decimal | None:
        v = self.raw(fname)
        try:
            return parse_money(v)
        except ValueError:
            self.issue(fname, "bad-amount", f"金额“{v}”无法识别（应为如 12.50 的数字）",
                       f"Amount '{v}' is not a number like 12.50")
            return None

    def when(self, fname: str) -> datetime | None:
        v = self.raw(fname)
        parsed = parse_when(v)
        if parsed is None and v is not None and str(v).strip():
            self.issue(fname, "bad-date", f"日期“{v}”无法识别（应为如 2026-11-03 的日期）",
                       f"Date '{v}' is not a date like 2026-11-03")
        return parsed

    def integer(self, fname: str) -> int | None:
        v = self.raw(fname)
        if v is None or not str(v).strip():
            return None
        try:
            f = float(unicodedata.normalize("NFKC", str(v)).strip())
            if f.is_integer():
                return int(f)
        except ValueError:
            pass
        self.issue(fname, "bad-quantity", f"件数“{v}”不是整数", f"Quantity '{v}' is not a whole number")
        return None

    def issue(self, fname: str, code: str, zh: str, en: str, severity: str = "error") -> None:
        header = self.cmap.headers.get(fname, fname)
        self.issues.append((self.table.path, RowIssue(
            self.table.sheet, self.row, self.cmap.col(fname), fname, header, code,
            en if self.lang == "en" else zh, "warning" if severity == "warning" else "error")))


def parse_when(v: CellValue) -> datetime | None:
    """A date/time cell: datetime, Excel serial number, or text like 2026/11/3 12:00 (else None)."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    if isinstance(v, int | float) and not isinstance(v, bool):
        return _EXCEL_EPOCH + timedelta(days=float(v)) if 1 < v < 2958466 else None
    text = unicodedata.normalize("NFKC", str(v)).strip()
    m = _DATE.match(text)
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    try:
        return datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None


def _read(path: Path, table_name: str, required: Sequence[str] | None, what: str, lang: str,
          issues: list[FileIssue], build: Callable[[_Row, AliasTable], Any],
          keep: Callable[[Sequence[CellValue], ColumnMap], bool] | None = None) -> Iterable[Any]:
    at = alias_table(table_name)
    table = read_table(path, _header_test(at), what=what, expect=key_header(at))
    try:
        cmap = map_headers(table.headers, at, table.sheet, table.header_row, lang, required)
    except InputError as exc:
        raise InputError(f"{Path(path).name}（{what}）：{exc.message}",
                         f"{Path(path).name} ({what}): {exc.message_en}") from exc
    if table_name == AFTERSALES_TABLE and not any(cmap.col(f) for f in at.raw["amount_fields"]):
        names = "、".join(at.display[f] for f in at.raw["amount_fields"])
        raise InputError(f"{Path(path).name}（售后）：缺少金额列：{names}（至少需要一列）",
                         f"{Path(path).name} (after-sales): missing amount column: one of "
                         f"{', '.join(at.display[f] for f in at.raw['amount_fields'])}")
    issues.extend((table.path, i) for i in cmap.issues)
    issues.extend((table.path, i) for i in _missing_needed(path, table, cmap, at, table_name, what, lang))
    out = []
    for idx, cells in enumerate(table.rows):
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if keep is not None and not keep(cells, cmap):
            continue
        rec = build(_Row(table, cmap, idx, lang, issues), at)
        if rec is not None:
            out.append(rec)
    return out


# Optional columns a check depends on: without them the check silently finds nothing, so say so.
# table -> field -> (the check, zh / en)
NEEDED: dict[str, dict[str, tuple[str, str]]] = {
    RETURNS_TABLE: {"condition": ("退货有损仍全额退款", "damaged return, full refund"),
                    "received_at": ("收货日期（按月份核对退货）", "received date (returns by month)")},
    AFTERSALES_TABLE: {"return_tracking_no": ("退货未收到 / 已收货未退款（按退货单号核对）",
                                              "return not received / received, not refunded (by return number)")},
}


def _missing_needed(path: Path, table: Table, cmap: ColumnMap, at: AliasTable, table_name: str, what: str,
                    lang: str) -> list[RowIssue]:
    """A warning per needed column that is not there: its accepted spellings and the columns not recognised."""
    out: list[RowIssue] = []
    unknown = [h.strip() for h in cmap.unknown if h and h.strip()]
    for fname, (check_zh, check_en) in NEEDED.get(table_name, {}).items():
        if cmap.col(fname) is not None:
            continue
        spellings = at.raw["fields"][fname]["headers"]
        name = Path(path).name
        if lang == "en":
            left = f" Columns not recognised: {', '.join(unknown)}." if unknown else ""
            msg = (f"{name} ({what}): no '{at.display[fname]}' column (accepted: {', '.join(spellings)}), so "
                   f"'{check_en}' cannot be checked.{left} Rename the header to one of these and run again.")
        else:
            left = f"表中没认出的列：{'、'.join(unknown)}。" if unknown else ""
            msg = (f"{name}（{what}）：没有找到“{at.display[fname]}”列（可写作：{'、'.join(spellings)}），"
                   f"所以无法检查“{check_zh}”。{left}把表头改成其中一个写法后再运行。")
        out.append(RowIssue(table.sheet, table.header_row, None, fname, at.display[fname], "missing-column", msg,
                            "warning"))
    return out


def _header_test(at: AliasTable) -> Callable[[Sequence[CellValue]], bool]:
    def header_test(cells: Sequence[CellValue]) -> bool:
        # the key column, or three known headers: then a missing key is reported by name
        known = {at.lookup.get(norm_header(str(c))) for c in cells if c} - {None}
        return at.is_header_row(cells) or len(known) >= 3

    return header_test


def read_aftersales_table(path: Path) -> Table:
    """The after-sales table as `read_inputs` found it (for writing results back into it)."""
    at = alias_table(AFTERSALES_TABLE)
    return read_table(path, _header_test(at), what="售后", expect=key_header(at))


def _classify(value: str, classes: dict[str, list[str]], default: str) -> str:
    v = norm_header(value)
    for name, needles in classes.items():
        if any(norm_header(n) in v for n in needles):
            return name
    return default


def _order(r: _Row, at: AliasTable) -> OrderRec | None:
    sn = r.key_text("order_sn")
    if not sn:
        r.issue("order_sn", "missing-order-sn", "订单号为空，该行未参与对账", "订单号 is blank; row skipped")
        return None
    sku = r.text("sku_spec") or r.text("sku_goods")
    return OrderRec(r.source, sn, norm_key(sn), r.text("product"), sku, r.text("order_status"),
                    r.text("after_sale_status"), r.money("buyer_paid"), r.money("merchant_received"),
                    r.text("tracking_no"), r.text("carrier"), r.when("shipped_at"))


def _aftersale(r: _Row, at: AliasTable) -> AfterSaleRec | None:
    asn = r.key_text("aftersale_sn")
    if not asn:
        r.issue("aftersale_sn", "missing-aftersale-sn", "售后编号为空，该行未参与对账",
                "售后编号 is blank; row skipped")
        return None
    order_sn = r.key_text("order_sn")
    type_ = r.text("type")
    status = r.text("status")
    tracking = r.text("return_tracking_no")
    return AfterSaleRec(
        r.source, asn, order_sn, norm_key(order_sn), type_, _classify(type_, at.raw["types"], "other"),
        status, _classify(status, at.raw["statuses"], "open"), r.money("apply_amount"),
        r.money("refund_amount"), r.when("applied_at"), r.when("refunded_at"), r.text("return_carrier"),
        tracking, norm_key(tracking), r.text("reason"), r.text("product"), r.text("spec"), r.text("sku"))


def _return(r: _Row, at: AliasTable) -> ReturnRec | None:
    tracking = r.key_text("return_tracking_no")
    order_sn = r.key_text("order_sn")
    if not tracking and not order_sn:
        r.issue("return_tracking_no", "missing-tracking-no", "退货快递单号为空，该行未参与对账",
                "退货快递单号 is blank; row skipped")
        return None
    cond = r.text("condition")
    good = None
    if cond:
        goods = {norm_key(g) for g in at.raw["good_conditions"]}
        good = norm_key(cond) in goods
    return ReturnRec(r.source, tracking, norm_key(tracking), r.when("received_at"), order_sn,
                     norm_key(order_sn), r.integer("quantity"), cond, good)
