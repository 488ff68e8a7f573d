"""The joins: after-sales to orders, returned parcels to after-sales, and the checks that yield findings.

Every input is matched on normalised keys (`inputs.norm_key`). A parcel that could belong to more
than one after-sale, or an after-sale claimed by more than one parcel, is an `ambiguous-match`
finding and nothing is paired: we never guess.

With a ledger, an outbound parcel its tracking shows returned to the seller (`tracked.py`) is the
other evidence that goods came back: it stands in for a returns-log row for the order's after-sales
(never for an exchange/resend), and a parcel back with no refund on the order is reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from pddbatch.model import RowIssue
from pddbatch.reconcile.exceptions import Finding, sentence
from pddbatch.reconcile.inputs import AfterSaleRec, FileIssue, Inputs, OrderRec, ReturnRec, Source, norm_key
from pddbatch.reconcile.tracked import TrackedReturn

SHIPPED_STATUS_PREFIXES = ("已发货", "已签收", "已收货", "待收货")
RETURN_TYPES = ("return_refund", "intercept", "exchange")
NO_REFUND_TYPES = ("exchange", "resend")      # goods come back, no refund is due
_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Matched:
    """One after-sale matched to its order, with the returned parcel when one was logged, else the
    outbound parcel the ledger's tracking shows returned (`tracked`)."""

    aftersale: AfterSaleRec
    order: OrderRec
    received: ReturnRec | None
    paid: Decimal | None
    codes: tuple[str, ...]        # finding kinds this after-sale is part of
    tracked: TrackedReturn | None = None


@dataclass
class Matching:
    scope: list[AfterSaleRec]                 # after-sales in the month (deduplicated)
    matched: list[Matched]
    findings: list[Finding]
    issues: list[FileIssue] = field(default_factory=list)
    returns_in_scope: int = 0


def match(inputs: Inputs, *, basis: str, month: str | None, lang: str = "zh",
          ledger_tracking: Mapping[str, str] | None = None,
          ledger_returns: Mapping[str, TrackedReturn] | None = None) -> Matching:
    """Join the inputs and run every check; `ledger_tracking` maps order key -> shipped waybill number,
    `ledger_returns` order key -> the outbound parcel the ledger's tracking shows returned."""
    issues: list[FileIssue] = []
    orders = _index_orders(inputs.orders, issues, lang)
    aftersales = _dedupe_aftersales(inputs.aftersales, issues, lang)
    ledger_tracking = ledger_tracking or {}
    logged_keys = {r.tracking_key for r in inputs.returns if r.tracking_key}
    # a parcel the warehouse logged is matched from the log; the ledger only speaks for the others
    came_back = {k: t for k, t in (ledger_returns or {}).items() if t.tracking_key not in logged_keys}
    basis_zh = {"buyer_paid": "用户实付", "merchant_received": "商家实收"}[basis]
    basis_en = {"buyer_paid": "the buyer paid", "merchant_received": "the merchant received"}[basis]
    basis_text = basis_en if lang == "en" else basis_zh

    def paid_of(o: OrderRec | None) -> Decimal | None:
        return None if o is None else getattr(o, basis)

    def in_scope(a: AfterSaleRec) -> bool:
        return month is None or a.month == month

    findings: list[Finding] = []
    codes: dict[str, list[str]] = defaultdict(list)

    def add(kind: str, group: Sequence[AfterSaleRec], order: OrderRec | None, rets: Sequence[ReturnRec],
            refund: Decimal | None, paid: Decimal | None, via: TrackedReturn | None = None,
            **text: object) -> None:
        track = ", ".join(r.tracking_no for r in rets) or (via.tracking_no if via else "") or ", ".join(
            a.return_tracking_no for a in group if a.return_tracking_no)
        asns = tuple(a.aftersale_sn for a in group)
        months = sorted({a.month for a in group if a.month} |
                        {f"{r.received_at:%Y-%m}" for r in rets if r.received_at and not group} |
                        ({via.month} if via and via.month and not group else set()))
        order_sn = order.order_sn if order else (group[0].order_sn if group else
                                                 (rets[0].order_sn if rets else ""))
        values: dict[str, object] = {"asn": "、".join(asns) if lang != "en" else ", ".join(asns),
                                     "order": order_sn, "track": track, "refund": refund, "paid": paid,
                                     "basis": basis_text}
        if via is not None:
            values["when"] = f"{via.at:%Y-%m-%d %H:%M}" if via.at else via.text
        values.update(text)
        variant = ("ledger" if group else "ledger-no-aftersale") if via is not None else ""
        findings.append(Finding(kind, asns, order_sn, track, refund, paid,
                                tuple(a.source for a in group), (order.source,) if order else (),
                                tuple(r.source for r in rets), sentence(kind, lang, variant, **values),
                                months[-1] if months else "", via.evidence(lang) if via else ""))
        for a in group:
            codes[a.aftersale_sn].append(kind)

    received, ambiguous_asns = _match_returns(inputs.returns, aftersales, orders, ledger_tracking,
                                              in_scope, month, add, lang)

    # ---- money: refunds per order -------------------------------------------------------------
    by_order: dict[str, list[AfterSaleRec]] = defaultdict(list)
    for a in aftersales:
        if a.status_class == "refunded":
            by_order[a.order_key].append(a)
    for a in aftersales:
        if in_scope(a) and a.status_class != "closed" and a.order_key not in orders:
            add("refund-without-order", [a], None, [], a.refunded, None)
    for okey, group in by_order.items():
        o = orders.get(okey)
        if o is None or not any(in_scope(a) for a in group):
            continue
        paid = paid_of(o)
        by_goods: dict[str, list[AfterSaleRec]] = defaultdict(list)
        for a in group:
            by_goods[a.goods_key].append(a)
        dup = False
        for same in by_goods.values():
            if len(same) > 1:
                dup = True
                add("duplicate-refund", same, o, [], sum((a.refunded for a in same), _ZERO), paid, n=len(same))
        total = sum((a.refunded for a in group), _ZERO)
        if not dup and paid is not None and total > paid:
            add("refund-exceeds-paid", group, o, [], total, paid)

    # ---- goods: per after-sale -----------------------------------------------------------------
    tracked: dict[str, TrackedReturn] = {}      # 售后编号 -> the ledger's returned parcel standing in for a log row
    for a in aftersales:
        back = came_back.get(a.order_key)
        if (back is not None and a.aftersale_sn not in received and a.aftersale_sn not in ambiguous_asns
                and a.status_class != "closed" and a.type_class not in NO_REFUND_TYPES):
            tracked[a.aftersale_sn] = back
    for a in aftersales:
        if not in_scope(a):
            continue
        o = orders.get(a.order_key)
        r = received.get(a.aftersale_sn)
        refunded = a.status_class == "refunded"
        back_ok = a.aftersale_sn in tracked
        if (o is not None and refunded and a.type_class == "refund_only" and _shipped(o, ledger_tracking)
                and not back_ok):
            add("refund-after-shipping-only", [a], o, [], a.refunded, paid_of(o))
        if (refunded and a.type_class == "return_refund" and r is None and not back_ok
                and a.aftersale_sn not in ambiguous_asns):
            add("return-not-received", [a], o, [], a.refunded, paid_of(o))
        if r is not None and not refunded and a.type_class not in NO_REFUND_TYPES:
            add("received-not-refunded", [a], o, [r], None, paid_of(o), status=a.status)
        paid = paid_of(o)
        if r is not None and r.good is False and refunded and paid is not None and a.refunded >= paid:
            add("damaged-return", [a], o, [r], a.refunded, paid, cond=r.condition)

    _unrefunded_back(came_back, aftersales, orders, received, in_scope, month, add, paid_of)

    scope = [a for a in aftersales if in_scope(a)]
    matched = [Matched(a, orders[a.order_key], received.get(a.aftersale_sn), paid_of(orders[a.order_key]),
                       tuple(codes.get(a.aftersale_sn, ())), tracked.get(a.aftersale_sn))
               for a in scope if a.order_key in orders]
    findings.sort(key=lambda f: f.sort_key)
    returns_in_scope = sum(1 for r in inputs.returns if month is None or r.received_at is None
                           or f"{r.received_at:%Y-%m}" == month)
    return Matching(scope, matched, findings, issues, returns_in_scope)


def _unrefunded_back(came_back: Mapping[str, TrackedReturn], aftersales: Sequence[AfterSaleRec],
                     orders: Mapping[str, OrderRec], received: Mapping[str, ReturnRec],
                     scope_f: Callable[[AfterSaleRec], bool], month: str | None, add_f: Callable[..., None],
                     paid_f: Callable[[OrderRec | None], Decimal | None]) -> None:
    """An outbound parcel back with the seller and no refund on its order: `received-not-refunded`.

    One finding per order, naming the order's unrefunded after-sales (none is possible: a refused
    parcel with no after-sale at all). Nothing is reported when some after-sale of the order was
    refunded or is an exchange/resend (the goods came back for it), or a returns-log row already
    speaks for the order.
    """
    by_order: dict[str, list[AfterSaleRec]] = defaultdict(list)
    for a in aftersales:
        by_order[a.order_key].append(a)
    for okey in sorted(came_back):
        back, group = came_back[okey], by_order.get(okey, [])
        if any(a.status_class == "refunded" or a.aftersale_sn in received
               or (a.type_class in NO_REFUND_TYPES and a.status_class != "closed") for a in group):
            continue
        if not (any(scope_f(a) for a in group) if group else month is None or back.month == month):
            continue
        o = orders.get(okey)
        status = "、".join(dict.fromkeys(a.status for a in group))
        add_f("received-not-refunded", group, o, [], None, paid_f(o), via=back, status=status)


def _shipped(o: OrderRec, ledger_tracking: Mapping[str, str]) -> bool:
    """Shipped: the ledger holds a number for it, or the export says so (status, 快递单号, 发货时间)."""
    return (o.key in ledger_tracking or o.order_status.startswith(SHIPPED_STATUS_PREFIXES)
            or bool(o.tracking_no) or o.shipped_at is not None)


def _match_returns(returns: Sequence[ReturnRec], aftersales: Sequence[AfterSaleRec],
                   orders: Mapping[str, OrderRec], ledger_tracking: Mapping[str, str],
                   scope_f: Callable[[AfterSaleRec], bool], month: str | None, add_f: Callable[..., None],
                   lang: str) -> tuple[dict[str, ReturnRec], set[str]]:
    """Pair each logged parcel with exactly one after-sale; report unknown and ambiguous parcels."""
    by_track: dict[str, list[AfterSaleRec]] = defaultdict(list)
    by_order: dict[str, list[AfterSaleRec]] = defaultdict(list)
    for a in aftersales:
        if a.tracking_key:
            by_track[a.tracking_key].append(a)
        if a.type_class in RETURN_TYPES:
            by_order[a.order_key].append(a)
    outbound: dict[str, str] = {}     # outbound waybill -> order key (refused / intercepted parcels)
    for o in orders.values():
        if o.tracking_no:
            outbound.setdefault(norm_key(o.tracking_no), o.key)
    for okey, track in ledger_tracking.items():
        outbound.setdefault(norm_key(track), okey)

    def returned_in_month(r: ReturnRec) -> bool:
        return month is None or r.received_at is None or f"{r.received_at:%Y-%m}" == month

    logged: dict[str, list[ReturnRec]] = defaultdict(list)
    for r in returns:
        if r.tracking_key:
            logged[r.tracking_key].append(r)
    claims: dict[str, list[ReturnRec]] = defaultdict(list)
    ambiguous_asns: set[str] = set()
    for r in returns:
        cands: list[AfterSaleRec] = []
        if r.tracking_key:
            cands = list(by_track.get(r.tracking_key, []))
            if not cands and r.tracking_key in outbound:
                cands = [a for a in aftersales if a.order_key == outbound[r.tracking_key]]
        if not cands and r.order_key:
            # by order number only when the numbers can't disagree (one side has none)
            cands = [a for a in by_order.get(r.order_key, []) if not (a.tracking_key and r.tracking_key)]
        if r.order_key and len(cands) > 1:
            cands = [a for a in cands if a.order_key == r.order_key] or cands
        if len(cands) > 1:
            cands = [a for a in cands if a.status_class != "closed"] or cands
            cands.sort(key=lambda a: a.aftersale_sn)   # name the same order every time
        dup_log = r.tracking_key and len(logged[r.tracking_key]) > 1
        if dup_log:
            if r is logged[r.tracking_key][0] and (any(scope_f(a) for a in cands) or
                                                   (not cands and returned_in_month(r))):
                detail = (f"退货快递单号 {r.tracking_no} 在退货登记中出现 {len(logged[r.tracking_key])} 次"
                          if lang != "en" else
                          f"Return number {r.tracking_no} appears {len(logged[r.tracking_key])} times in the log")
                add_f("ambiguous-match", cands, orders.get(cands[0].order_key) if cands else None,
                      logged[r.tracking_key], None, None, detail=detail)
            ambiguous_asns.update(a.aftersale_sn for a in cands)
            continue
        if not cands:
            if returned_in_month(r):
                add_f("received-unknown", [], orders.get(r.order_key), [r], None, None)
            continue
        if len(cands) > 1:
            if any(scope_f(a) for a in cands):
                detail = (f"退货包裹 {r.tracking_no or r.order_sn} 可对应 {len(cands)} 个售后单"
                          if lang != "en" else
                          f"Returned parcel {r.tracking_no or r.order_sn} fits {len(cands)} after-sales")
                add_f("ambiguous-match", cands, orders.get(cands[0].order_key), [r], None, None, detail=detail)
            ambiguous_asns.update(a.aftersale_sn for a in cands)
            continue
        claims[cands[0].aftersale_sn].append(r)
    received: dict[str, ReturnRec] = {}
    asn_rec = {a.aftersale_sn: a for a in aftersales}
    for asn, rs in claims.items():
        if asn in ambiguous_asns:
            continue
        if len(rs) == 1:
            received[asn] = rs[0]
            continue
        a = asn_rec[asn]
        ambiguous_asns.add(asn)
        if scope_f(a):
            detail = (f"售后单 {asn} 对应退货登记中的 {len(rs)} 个包裹" if lang != "en" else
                      f"After-sale {asn} is claimed by {len(rs)} logged parcels")
            add_f("ambiguous-match", [a], orders.get(a.order_key), rs, None, None, detail=detail)
    return received, ambiguous_asns


def _index_orders(orders: Sequence[OrderRec], issues: list[FileIssue], lang: str) -> dict[str, OrderRec]:
    """Orders by key; the same order in two exports is one order (a warning when amounts differ)."""
    out: dict[str, OrderRec] = {}
    for o in orders:
        first = out.get(o.key)
        if first is None:
            out[o.key] = o
        elif (first.buyer_paid, first.merchant_received) != (o.buyer_paid, o.merchant_received):
            issues.append(_warn(o.source, "order_sn", "订单号", "conflicting-order",
                                f"订单 {o.order_sn} 在{first.source.label()}也出现过，金额不同：以先出现的为准",
                                f"Order {o.order_sn} also appears at {first.source.label('en')} with other "
                                f"amounts; the first one is used", lang))
    return out


def _dedupe_aftersales(rows: Sequence[AfterSaleRec], issues: list[FileIssue],
                       lang: str) -> list[AfterSaleRec]:
    """Overlapping exports list the same 售后编号 twice: keep the first (warn if the rows differ)."""
    seen: dict[str, AfterSaleRec] = {}
    out: list[AfterSaleRec] = []
    for a in rows:
        key = a.aftersale_sn.upper()
        first = seen.get(key)
        if first is None:
            seen[key] = a
            out.append(a)
        elif (first.status, first.refund_amount, first.apply_amount) != (a.status, a.refund_amount,
                                                                          a.apply_amount):
            issues.append(_warn(a.source, "aftersale_sn", "售后编号", "conflicting-aftersale",
                                f"售后编号 {a.aftersale_sn} 在{first.source.label()}也出现过，内容不同：以先出现的为准",
                                f"After-sale {a.aftersale_sn} also appears at {first.source.label('en')} with "
                                f"other values; the first one is used", lang))
    return out


def _warn(src: Source, fname: str, header: str, code: str, zh: str, en: str, lang: str) -> FileIssue:
    return (src.file, RowIssue(src.sheet, src.row, None, fname, header, code, en if lang == "en" else zh,
                               "warning"))
