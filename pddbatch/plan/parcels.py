"""Orders -> parcels: refund interception, skipping, merging, carrier choice, deadlines.

Pure: no ledger, no files. The pipeline gives it the orders that passed validation and what the
ledger already knows, and gets back the parcels to number and an outcome for every other row.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pddbatch.carriers import all_carriers
from pddbatch.config import Config
from pddbatch.messages import masked_text, pick, store_pickup_text, under_review_text
from pddbatch.model import Order, Parcel, Receiver, RowOutcome, RowStatus
from pddbatch.plan.catalog import Catalog
from pddbatch.plan.rules import Rule, RuleMemo, facts, first_match
from pddbatch.plan.stock import StockLevels, allocate_stock

SHIPPABLE = "待发货"
CLEAN_AFTER_SALE = "无售后或售后取消"
DEFAULT_SHIP_HOURS = 48          # PDD's default promise when 承诺发货时间 is missing
_SPACE = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class Deadline:
    order_sn: str
    row: int
    due: datetime
    hours_left: float
    derived: bool                # True when taken as paid_at + 48 h

    @property
    def overdue(self) -> bool:
        return self.hours_left < 0


@dataclass
class Plan:
    parcels: list[Parcel] = field(default_factory=list)          # in priority order (deadline first)
    outcomes: dict[int, RowOutcome] = field(default_factory=dict)  # sheet row -> outcome (not shipped)
    deadlines: dict[str, Deadline] = field(default_factory=dict)   # order_sn -> warning (past/near)
    notes: dict[str, list[str]] = field(default_factory=dict)      # order_sn -> extra explanations
    trace: dict[str, list[str]] = field(default_factory=dict)      # order_sn -> every decision, for explain
    tracing: bool = False      # only `pddbatch explain` pays for the sentences

    def explain(self, order_sn: str, line: str) -> None:
        self.trace.setdefault(order_sn, []).append(line)


def recipient_key(r: Receiver) -> str:
    """Same person, same place: name, phone and the one composed address (`Receiver.full_address`),
    after folding width and whitespace."""
    def norm(s: str) -> str:
        if not unicodedata.is_normalized("NFKC", s):     # the common case is already normal: skip the copy
            s = unicodedata.normalize("NFKC", s)
        return _SPACE.sub("", s).lower()

    return "|".join((norm(r.name), norm(r.phone), norm(r.full_address)))


def parcel_key(order_sns: Iterable[str]) -> str:
    digest = hashlib.sha1("\n".join(sorted(order_sns)).encode()).hexdigest()[:16]
    return f"P{digest}"


def choose_carrier(orders: Sequence[Order], receiver: Receiver, config: Config, *, now: datetime,
                   weight_g: int | None = None, deadline: datetime | None = None, memo: RuleMemo | None = None
                   ) -> tuple[str, Rule | None, list[str]]:
    """(carrier code, the matching rule or None, why earlier rules didn't match).

    The one place the carrier is decided: the first rule whose conditions all hold, else the default.
    A plan passes its `memo` (made for `config`'s rules): the same answer, remembered per distinct facts.
    """
    if memo is not None:
        rule, why_not = memo.first_match(orders, receiver, weight_g, deadline, now)
    else:
        rule, why_not = first_match(config.rules, facts(orders, receiver, weight_g, deadline, now),
                                    config.remote_provinces)
    code = rule.carrier if rule is not None and rule.carrier else config.default_carrier
    return code, rule, why_not


def make_plan(orders: Sequence[Order], config: Config, *, now: datetime, lang: str = "zh",
              ledger_numbers: Mapping[str, str] | None = None,
              voided_numbers: Mapping[str, str] | None = None,
              catalog: Catalog | None = None, stock: StockLevels | None = None, tracing: bool = False) -> Plan:
    """Decide what happens to every valid order.

    `ledger_numbers` maps order_sn -> tracking number for orders the ledger already numbered: a row
    whose 快递单号 is one of ours is not "shipped by hand". `voided_numbers` maps order_sn -> a number
    the ledger voided for that order: the row still shows it, and the order gets a new one.
    """
    ledger_numbers = ledger_numbers or {}
    voided_numbers = voided_numbers or {}
    plan = Plan(tracing=tracing)
    window = timedelta(hours=config.deadline_window_hours)
    shippable: list[Order] = []
    for o in orders:
        reason = _not_shipping(o, lang)
        if reason is not None:
            status, msg = reason
            plan.outcomes[o.row] = RowOutcome(o.row, o.order_sn, status, msg, o.carrier_name, o.tracking_no)
            plan.explain(o.order_sn, msg)
            continue
        if o.tracking_no and voided_numbers.get(o.order_sn) == o.tracking_no \
                and ledger_numbers.get(o.order_sn) != o.tracking_no:
            plan.notes.setdefault(o.order_sn, []).append(pick(
                lang, f"原单号 {o.tracking_no} 已作废，已换新单号", f"Old number {o.tracking_no} was voided; new number"))
        elif o.tracking_no and ledger_numbers.get(o.order_sn) != o.tracking_no:
            msg = pick(lang, f"该行已有快递单号 {o.tracking_no}（不在台账中，可能已手工发货），未改动",
                       f"Row already has tracking number {o.tracking_no} (not from the ledger: shipped "
                       f"by hand?); left as it is")
            plan.outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.SKIPPED, msg, o.carrier_name,
                                              o.tracking_no)
            plan.explain(o.order_sn, msg)
            continue
        shippable.append(o)
        if plan.tracing:
            plan.explain(o.order_sn, f"订单状态“{o.order_status}”，售后“{o.after_sale_status}”：可以发货")
        d = _deadline(o)
        if d is not None:
            due, derived = d
            left = (due - now).total_seconds() / 3600
            if plan.tracing:
                plan.explain(o.order_sn, f"承诺发货时间 {due:%Y-%m-%d %H:%M}"
                             + ("（按付款后48小时推算）" if derived else "") + f"，还有 {left:.1f} 小时")
            if due - now <= window:
                plan.deadlines[o.order_sn] = Deadline(o.order_sn, o.row, due, left, derived)

    groups: dict[str, list[Order]] = {}
    for o in shippable:
        # masked rows never get here; were one to, two that merely look alike stay two parcels
        k = recipient_key(o.receiver) if config.merge and not o.receiver.masked else o.order_sn
        groups.setdefault(k, []).append(o)
    catalog = catalog or Catalog()
    parcels: list[Parcel] = []
    cap = max(config.max_orders_per_parcel, 1)
    memo = RuleMemo(config.rules, config.remote_provinces)
    for group in groups.values():
        group.sort(key=lambda o: o.row)
        # one person's 500 orders are not one box: split at the configured size
        for start in range(0, len(group), cap):
            parcel = _make_parcel(group[start:start + cap], config, catalog, plan, now, lang, memo)
            if parcel is not None:
                parcels.append(parcel)
    far = datetime.max
    parcels.sort(key=lambda p: (-p.priority, p.promised_ship_at or far, p.orders[0].row))
    if stock is not None:
        parcels = _apply_stock(parcels, stock, set(ledger_numbers), plan, lang)
    plan.parcels = parcels
    return plan


def _make_parcel(members: list[Order], config: Config, catalog: Catalog, plan: Plan, now: datetime,
                 lang: str, memo: RuleMemo | None = None) -> Parcel | None:
    sns = [o.order_sn for o in members]
    dues = [d[0] for o in members if (d := _deadline(o)) is not None]
    deadline = min(dues) if dues else None
    weight, unknown = catalog.weight(members)
    if unknown and catalog.items:
        for o in members:
            if (o.sku or o.product) in unknown:
                plan.notes.setdefault(o.order_sn, []).append(pick(
                    lang, f"商品资料中没有 {o.sku or o.product} 的重量", f"No weight for {o.sku or o.product}"))
    code, rule, why_not = choose_carrier(members, members[0].receiver, config, now=now, weight_g=weight,
                                         deadline=deadline, memo=memo)
    carrier = all_carriers()[code]
    for o in members if plan.tracing else ():
        if len(members) > 1:
            plan.explain(o.order_sn, f"合并：与 {'、'.join(s for s in sns if s != o.order_sn)} 同一收件人，合为一个包裹")
        plan.explain(o.order_sn, f"重量：{weight} g" if weight is not None else "重量：未知")
        for line in why_not:
            plan.explain(o.order_sn, line)
        plan.explain(o.order_sn, f"快递：{carrier.pdd_name}（" + (f"规则“{rule.name}”" if rule else "默认快递") + "）")
    if rule is not None and rule.hold:
        for o in members:
            msg = pick(lang, f"暂缓发货：{rule.hold}（规则“{rule.name}”）", f"On hold: {rule.hold} (rule '{rule.name}')")
            plan.outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.HELD, msg)
            plan.explain(o.order_sn, msg)
        return None
    return Parcel(
        key=parcel_key(sns), orders=tuple(members), carrier=carrier, receiver=members[0].receiver,
        weight_g=weight, rule=rule.name if rule else "", promised_ship_at=deadline,
        label_size=(rule.label_size if rule and rule.label_size else config.label_size),
        priority=(rule.priority if rule and rule.priority is not None else 0))


def _apply_stock(parcels: list[Parcel], stock: StockLevels, numbered: set[str], plan: Plan,
                 lang: str) -> list[Parcel]:
    from dataclasses import replace

    held = allocate_stock(stock, parcels, numbered)
    if not held:
        return parcels
    kept: list[Parcel] = []
    for p in parcels:
        keep = tuple(o for o in p.orders if o.order_sn not in held)
        for o in p.orders:
            if o.order_sn in held:
                left = stock.left(o.sku)
                msg = pick(lang, f"缺货：{o.sku} 库存不足（还剩 {left}，本单需要 {o.quantity}），暂不分配单号",
                           f"Out of stock: {o.sku} has {left} left, this order needs {o.quantity}")
                plan.outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.OUT_OF_STOCK, msg)
                plan.explain(o.order_sn, msg)
        if keep:
            kept.append(p if len(keep) == len(p.orders) else
                        replace(p, orders=keep, key=parcel_key(o.order_sn for o in keep)))
    return kept


def _not_shipping(o: Order, lang: str) -> tuple[RowStatus, str] | None:
    status = o.order_status
    shipped_or_closed = status.startswith(("已发货", "已签收", "已收货", "已取消", "待支付", "待付款"))
    if o.after_sale_status and o.after_sale_status != CLEAN_AFTER_SALE and not shipped_or_closed:
        return RowStatus.INTERCEPTED, pick(
            lang, f"售后状态为“{o.after_sale_status}”，已拦截，不分配单号（退款拦截）",
            f"After-sales status is '{o.after_sale_status}': intercepted, no tracking number")
    if status == SHIPPABLE:
        if o.under_review:
            return RowStatus.UNDER_REVIEW, under_review_text(lang)
        if o.store_pickup:
            return RowStatus.STORE_PICKUP, store_pickup_text(lang)
        masked = o.receiver.masked
        if masked:      # never printed as if it were a name, phone or address (DOMAIN §5)
            return RowStatus.INCOMPLETE, masked_text(masked, lang)
        return None
    reasons_zh = {"已取消": "订单已取消", "待支付": "买家尚未付款", "待付款": "买家尚未付款"}
    if status.startswith(("已发货", "已签收", "已收货")):
        zh, en = f"订单已发货（{status}），无需处理", f"Already shipped ({status}); nothing to do"
    elif status in reasons_zh:
        zh, en = f"{reasons_zh[status]}（{status}），不发货", f"Not to be shipped ({status})"
    else:
        zh, en = f"订单状态为“{status}”，只有“待发货”的订单才发货", f"Status '{status}': only 待发货 ships"
    return RowStatus.SKIPPED, pick(lang, zh, en)


def _deadline(o: Order) -> tuple[datetime, bool] | None:
    if o.promised_ship_at is not None:
        return o.promised_ship_at, False
    if o.paid_at is not None:
        return o.paid_at + timedelta(hours=DEFAULT_SHIP_HOURS), True
    return None


def deadline_text(d: Deadline, lang: str = "zh") -> str:
    t = d.due
    due = f"{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"     # %m-%d %H:%M (strftime: 3x the time)
    if lang == "en":       # (one language formatted: a big day has a warning on most rows)
        src = " (paid + 48 h)" if d.derived else ""
        if d.overdue:
            return f"⚠ Past the promised ship time {due}{src}: ship now"
        return f"⚠ {max(d.hours_left, 0):.1f} h left before the promised ship time {due}{src}"
    src = "（按付款后48小时推算）" if d.derived else ""
    if d.overdue:
        return f"⚠ 已超过承诺发货时间 {due}{src}，请立即发货"
    return f"⚠ 距承诺发货时间 {due} 不足 {max(d.hours_left, 0):.1f} 小时{src}"
