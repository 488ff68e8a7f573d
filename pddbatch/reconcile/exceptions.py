"""The exception kinds of a reconciliation: stable codes, names, and the sentence saying what to check."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pddbatch.reconcile.inputs import Source

# code -> (Chinese name, English name); the order is the order of the report.
KINDS: dict[str, tuple[str, str]] = {
    "refund-without-order": ("退款找不到订单", "Refund without order"),
    "refund-exceeds-paid": ("退款超过实付", "Refund exceeds amount paid"),
    "duplicate-refund": ("重复退款", "Duplicate refund"),
    "return-not-received": ("退货未收到", "Return not received"),
    "received-not-refunded": ("已收货未退款", "Received, not refunded"),
    "received-unknown": ("收到不明退货", "Unknown returned parcel"),
    "refund-after-shipping-only": ("已发货仅退款", "Refund-only after shipping"),
    "damaged-return": ("退货有损仍全额退款", "Damaged return, full refund"),
    "ambiguous-match": ("匹配不唯一", "Ambiguous match"),
}

# Sentences say what to check. Placeholders: {asn} 售后编号, {order} 订单号, {track} 单号,
# {refund} 退款, {paid} 订单金额, {basis} 金额口径, {cond} 状况, {status} 售后状态, {n} 条数, {detail},
# {when} 物流退回时间. A key "<code>:<variant>" is the sentence when the evidence is the ledger's tracking.
_TEXT: dict[str, tuple[str, str]] = {
    "refund-without-order": (
        "售后单 {asn} 的订单号“{order}”不在任何订单文件中：请核对订单号，或补充该订单所在月份的订单导出。",
        "After-sale {asn}: order '{order}' is in none of the order files; check the order number or add "
        "the export that holds it."),
    "refund-exceeds-paid": (
        "订单 {order} 共退款 {refund}，超过{basis} {paid}：请在后台核对每笔退款金额。",
        "Order {order} was refunded {refund} in total, more than {basis} {paid}: check each refund in "
        "the back office."),
    "duplicate-refund": (
        "订单 {order} 的同一商品退款了 {n} 次（售后单 {asn}），共 {refund}，{basis} {paid}：请确认是否重复退款。",
        "Order {order}: the same goods were refunded {n} times (after-sales {asn}), {refund} in total, "
        "{basis} {paid}: check whether it was refunded twice."),
    "return-not-received": (
        "售后单 {asn}（退货退款）已退款 {refund}，但退货包裹 {track} 不在退货登记中：请查物流或追问仓库。",
        "After-sale {asn} (return and refund) was refunded {refund}, but return parcel {track} is not in "
        "the returns log: trace the parcel or ask the warehouse."),
    "received-not-refunded": (
        "退货包裹 {track} 已到仓，但售后单 {asn} 的状态是“{status}”（未退款）：请处理售后或核实是否应退款。",
        "Return parcel {track} arrived, but after-sale {asn} is '{status}' (not refunded): process the "
        "after-sale or check whether a refund is due."),
    "received-not-refunded:ledger": (
        "订单 {order} 的发货包裹 {track} 物流显示已退回（{when}），但售后单 {asn} 的状态是“{status}”（未退款）："
        "请处理售后或核实是否应退款。",
        "Order {order}: tracking shows its parcel {track} returned to you ({when}), but after-sale {asn} is "
        "'{status}' (not refunded): process the after-sale or check whether a refund is due."),
    "received-not-refunded:ledger-no-aftersale": (
        "订单 {order} 的发货包裹 {track} 物流显示已退回（{when}），但该订单没有售后单：请核实买家是否拒收、是否应退款。",
        "Order {order}: tracking shows its parcel {track} returned to you ({when}), but the order has no "
        "after-sale: check whether the buyer refused it and whether a refund is due."),
    "received-unknown": (
        "退货包裹 {track} 已到仓，但找不到对应的售后单：请核对单号，或联系买家/快递。",
        "Return parcel {track} arrived but matches no after-sale: check the number or contact the buyer "
        "or courier."),
    "refund-after-shipping-only": (
        "订单 {order} 已发货，售后单 {asn} 却以“仅退款”退了 {refund}：货物未退回，请核实是否拦截或拒收。",
        "Order {order} was shipped, yet after-sale {asn} refunded {refund} as refund-only: the goods did "
        "not come back; check for an interception or a refused delivery."),
    "damaged-return": (
        "退货包裹 {track} 到仓状况为“{cond}”，售后单 {asn} 仍全额退款 {refund}：请拍照留证并向平台申诉。",
        "Return parcel {track} arrived '{cond}', yet after-sale {asn} was refunded in full ({refund}): "
        "keep photos and appeal to the platform."),
    "ambiguous-match": (
        "{detail}：无法唯一匹配，未自动配对，请人工核对。",
        "{detail}: no unique match, nothing was paired automatically; check by hand."),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One exception row: the kind, the records involved from every input, amounts and a sentence."""

    kind: str
    aftersale_sns: tuple[str, ...]
    order_sn: str
    tracking_no: str
    refund: Decimal | None
    paid: Decimal | None
    aftersale_rows: tuple[Source, ...]
    order_rows: tuple[Source, ...]
    return_rows: tuple[Source, ...]
    message: str
    month: str = ""
    evidence: str = ""            # the ledger's tracking when it, not a returns-log row, is the evidence

    @property
    def sort_key(self) -> tuple[int, str, str, str]:
        return (list(KINDS).index(self.kind), self.order_sn, ",".join(self.aftersale_sns), self.tracking_no)


def kind_name(code: str, lang: str = "zh") -> str:
    zh, en = KINDS[code]
    return en if lang == "en" else zh


def sentence(code: str, lang: str = "zh", variant: str = "", **values: object) -> str:
    zh, en = _TEXT.get(f"{code}:{variant}", _TEXT[code]) if variant else _TEXT[code]
    return (en if lang == "en" else zh).format(**{k: _show(v, lang) for k, v in values.items()})


def _show(value: object, lang: str) -> str:
    if isinstance(value, Decimal):
        return f"¥{value:,.2f}"
    if value is None or value == "":
        return "（空）" if lang != "en" else "(blank)"
    return str(value)
