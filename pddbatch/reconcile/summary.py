"""Totals and breakdowns of a reconciliation, computed exactly (Decimal) from the detail rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from pddbatch.reconcile.exceptions import KINDS
from pddbatch.reconcile.inputs import AfterSaleRec
from pddbatch.reconcile.matching import Matching

_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str
    count: int            # after-sales
    refunded_count: int   # of which refunded
    amount: Decimal       # refunded money


@dataclass(frozen=True)
class Summary:
    aftersales: int
    refunded: int
    refunds_total: Decimal        # every refunded after-sale in scope
    matched_total: Decimal        # = sum of 已匹配.退款金额
    unmatched_total: Decimal      # = sum of 异常[refund-without-order].退款金额
    by_type: tuple[Bucket, ...]
    by_reason: tuple[Bucket, ...]
    by_month: tuple[Bucket, ...]
    by_sku: tuple[Bucket, ...]
    exceptions: dict[str, int]    # every kind, 0 included, in report order
    exception_amounts: dict[str, Decimal]


def summarise(m: Matching, blank: str = "（空）") -> Summary:
    """Count and total the in-scope after-sales; the three totals reconcile by construction."""
    refunds_total = sum((a.refunded for a in m.scope), _ZERO)
    matched_total = sum((x.aftersale.refunded for x in m.matched), _ZERO)
    unmatched_total = sum((f.refund or _ZERO for f in m.findings if f.kind == "refund-without-order"), _ZERO)
    counts = Counter(f.kind for f in m.findings)
    amounts: dict[str, Decimal] = {k: _ZERO for k in KINDS}
    for f in m.findings:
        amounts[f.kind] += f.refund or _ZERO
    return Summary(
        len(m.scope), sum(1 for a in m.scope if a.status_class == "refunded"),
        refunds_total, matched_total, unmatched_total,
        _buckets(m.scope, lambda a: a.type, blank), _buckets(m.scope, lambda a: a.reason, blank),
        _buckets(m.scope, lambda a: a.month, blank), _buckets(m.scope, lambda a: a.sku, blank),
        {k: counts.get(k, 0) for k in KINDS}, amounts)


def _buckets(rows: Iterable[AfterSaleRec], key: Callable[[AfterSaleRec], str], blank: str) -> tuple[Bucket, ...]:
    count: Counter[str] = Counter()
    refunded: Counter[str] = Counter()
    amount: dict[str, Decimal] = {}
    for a in rows:
        label = key(a) or blank
        count[label] += 1
        amount.setdefault(label, _ZERO)
        if a.status_class == "refunded":
            refunded[label] += 1
            amount[label] += a.refunded
    out = [Bucket(k, count[k], refunded[k], amount[k]) for k in count]
    out.sort(key=lambda b: (-b.amount, -b.count, b.label))
    return tuple(out)
