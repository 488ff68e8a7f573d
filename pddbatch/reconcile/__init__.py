"""The accountant's returns/refunds reconciliation: orders + after-sales + returns log -> one workbook.

    result = reconcile([Path("orders.xlsx")], [Path("售后.xlsx")], [Path("退货登记.xlsx")],
                       ledger=None, month="2026-11", out=Path("reconciliation.xlsx"))
    result.exceptions            # {"refund-without-order": 1, ...} (every kind, 0 included)
    result.refunds_total         # Decimal, exact

With `ledger`, the ledger says which orders shipped and, through its tracking events, which outbound
parcels came back to the seller (`tracked.py`): that counts as the goods received, like a returns-log row.

Fatal problems (missing columns, unreadable files) raise `PddBatchError`; unreadable rows are listed
in the 问题清单 sheet and in `result.issues`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pddbatch.errors import InputError, LedgerError
from pddbatch.ledger.events import ReturnRow
from pddbatch.ledger.location import LedgerLocation, masked
from pddbatch.reconcile.exceptions import KINDS, Finding
from pddbatch.reconcile.inputs import FileIssue, norm_key, read_inputs
from pddbatch.reconcile.matching import Matching, match
from pddbatch.reconcile.report import write_report
from pddbatch.reconcile.summary import Summary, summarise
from pddbatch.reconcile.tracked import CAME_BACK, tracked_returns

Basis = Literal["buyer_paid", "merchant_received"]
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

__all__ = ["KINDS", "Finding", "ReconcileResult", "reconcile"]


@dataclass
class ReconcileResult:
    """What a run found; `exceptions` counts every kind (0 included) in report order."""

    orders: int
    aftersales: int                      # in scope (month), deduplicated
    returns: int                         # returns-log rows read
    refunded: int
    refunds_total: Decimal
    matched_total: Decimal
    unmatched_total: Decimal
    exceptions: dict[str, int]
    findings: list[Finding]
    issues: list[FileIssue]
    files_written: list[Path] = field(default_factory=list)
    order_files: frozenset[str] = frozenset()
    summary: Summary | None = None
    matching: Matching | None = None

    @property
    def exception_count(self) -> int:
        return sum(self.exceptions.values())

    @property
    def blocking_issues(self) -> int:
        """Unreadable rows of the after-sales and returns inputs (they can change the totals).

        Problems of the order export alone are listed but don't block: `pddbatch validate` owns them.
        """
        return sum(1 for f, i in self.issues if i.severity == "error" and f not in self.order_files)

    @property
    def warnings(self) -> list[str]:
        """Input problems that silence a check (a needed column not found), for the terminal."""
        return [i.message for _, i in self.issues if i.code == "missing-column"]

    def as_json(self) -> dict[str, Any]:
        """A machine summary: money as exact strings ("1234.50")."""
        return {
            "orders": self.orders, "aftersales": self.aftersales, "returns": self.returns,
            "refunded": self.refunded, "refunds_total": str(self.refunds_total),
            "matched_total": str(self.matched_total), "unmatched_total": str(self.unmatched_total),
            "exceptions": dict(self.exceptions), "exception_count": self.exception_count,
            "issues": len(self.issues), "blocking_issues": self.blocking_issues, "warnings": self.warnings,
            "files": [str(p) for p in self.files_written],
        }


def reconcile(orders: Sequence[Path], aftersales: Sequence[Path], returns: Sequence[Path], *,
              ledger: LedgerLocation | None = None, month: str | None = None, out: Path,
              basis: Basis = "buyer_paid", lang: str = "zh", write_back: bool = False) -> ReconcileResult:
    """Read, match, check and write the reconciliation workbook to `out`.

    `write_back=True` also writes a 对账状态 column into each after-sales workbook (atomic, backed up).
    """
    if basis not in ("buyer_paid", "merchant_received"):
        raise InputError(f"金额口径只能是 buyer_paid 或 merchant_received：{basis}",
                         f"basis must be buyer_paid or merchant_received: {basis}")
    if month is not None and not _MONTH.match(month):
        raise InputError(f"月份格式应为 YYYY-MM（如 2026-11）：{month}",
                         f"Month must look like YYYY-MM (e.g. 2026-11): {month}")
    if not orders or not aftersales:
        raise InputError("至少需要一个订单文件和一个售后文件", "Give at least one orders file and one after-sales file")
    back_rows = _ledger_returns(ledger) if ledger else []
    inputs = read_inputs(orders, aftersales, returns, basis, lang,
                         also_orders={norm_key(r.order_sn) for r in back_rows})
    shipped = _ledger_tracking(ledger, [o.order_sn for o in inputs.orders]) if ledger else {}
    came_back = tracked_returns(back_rows, (o.key for o in inputs.orders))
    m = match(inputs, basis=basis, month=month, lang=lang, ledger_tracking=shipped, ledger_returns=came_back)
    issues = inputs.issues + m.issues
    s = summarise(m, "(blank)" if lang == "en" else "（空）")
    written = [write_report(out, m, s, issues, basis=basis, month=month, lang=lang)]
    if write_back:
        from pddbatch.reconcile.writeback import write_back as write_status

        written += [Path(o.path) for o in write_status(aftersales, m, lang)]
    return ReconcileResult(
        inputs.order_count, s.aftersales, len(inputs.returns), s.refunded,
        s.refunds_total, s.matched_total, s.unmatched_total, dict(s.exceptions), m.findings, issues,
        written, frozenset(str(p) for p in orders), s, m)


def _ledger_tracking(location: LedgerLocation, order_sns: Sequence[str]) -> dict[str, str]:
    """Order key -> waybill number of the order's live parcel in the ledger (SQLite file or PostgreSQL URL)."""
    from pddbatch.ledger import Ledger

    with Ledger.open(_existing(location)) as led:
        records = led.existing_for_orders(list(order_sns))
    return {norm_key(sn): rec.tracking_no for sn, rec in records.items() if rec.tracking_no}


def _ledger_returns(location: LedgerLocation) -> list[ReturnRow]:
    """The ledger's parcels whose newest scan says they came back (`tracked.CAME_BACK`), with their orders."""
    from pddbatch.ledger import Ledger

    with Ledger.open(_existing(location)) as led:
        return [r for r in led.events.returns_by_order() if r.status in CAME_BACK]


def _existing(location: LedgerLocation) -> LedgerLocation:
    from pddbatch.ledger import ledger_exists

    if not ledger_exists(location):
        raise LedgerError(f"找不到台账文件：{masked(location)}", f"Ledger not found: {masked(location)}")
    return location
