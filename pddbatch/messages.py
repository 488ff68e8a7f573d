"""Seller-facing texts: Chinese by default, English on request. Codes are stable; wording may change."""

from __future__ import annotations

from pddbatch.model import RowStatus

# issue code -> (zh, en). Placeholders: {header} {value} {other} {example}
ISSUES: dict[str, tuple[str, str]] = {
    "excel-mangled-number": (
        "{header}被 Excel 转成了数字（{value}），原值已无法还原。请重新导出，或先把该列设为“文本”再粘贴；"
        "正确的样子如 {example}",
        "{header} was turned into a number by Excel ({value}); the original can't be recovered. Export "
        "again, or format the column as Text before pasting; it should look like {example}"),
    "excel-number-phone": (
        "{header}被存成了数字（{value}）；数字完整，按 {example} 使用。建议把该列设为“文本”",
        "{header} is stored as a number ({value}); the digits are intact and used as {example}. "
        "Format the column as Text"),
    "missing-value": (
        "{header}不能为空（待发货订单需要它）",
        "{header} must not be empty (needed to ship this order)"),
    "bad-order-sn": (
        "订单号格式不对：“{value}”。应为 6 位日期-15 位数字，如 260517-607198974342268",
        "Bad order number '{value}': it should be 6 date digits, '-', 15 digits, e.g. 260517-607198974342268"),
    "duplicate-order-sn": (
        "订单号与第 {other} 行重复；同一订单只能出现一次，请删除重复行",
        "Same order number as row {other}; an order may appear only once, delete the duplicate row"),
    "bad-quantity": (
        "商品数量应为正整数，如 1；现在是“{value}”",
        "Quantity must be a whole number of at least 1, e.g. 1; found '{value}'"),
    "bad-phone": (
        "手机号应为11位数字，如 13812345678（也接受虚拟号 13812345678-1234）；现在是“{value}”",
        "Phone must be 11 digits, e.g. 13812345678 (virtual numbers like 13812345678-1234 are fine); "
        "found '{value}'"),
    "bad-name": (
        "收货人应为 1–100 个字符；现在是“{value}”",
        "Receiver name must be 1–100 characters; found '{value}'"),
    "bad-address": (
        "详细地址太短或太长（2–500 个字符），如 文三路 90 号 3 栋 201 室；现在是“{value}”",
        "Address must be 2–500 characters, e.g. 文三路 90 号 3 栋 201 室; found '{value}'"),
    "bad-text": (
        "{header}的内容不对（为空或过长）：“{value}”",
        "{header} is empty or too long: '{value}'"),
    "too-long": (
        "{header}太长（最多 1000 个字符）",
        "{header} is too long (1000 characters at most)"),
    "bad-datetime": (
        "{header}应为日期时间，如 2026-11-25 14:30:00；现在是“{value}”",
        "{header} must be a date and time, e.g. 2026-11-25 14:30:00; found '{value}'"),
    "bad-money": (
        "{header}应为金额数字，如 39.90；现在是“{value}”",
        "{header} must be an amount, e.g. 39.90; found '{value}'"),
    "bad-tracking-no": (
        "快递单号应为 6–40 位字母或数字，如 73100000000001；现在是“{value}”",
        "Tracking number must be 6–40 letters or digits, e.g. 73100000000001; found '{value}'"),
    "unknown-order-status": (
        "不认识的订单状态“{value}”；该行不会发货（只有“待发货”会发货）",
        "Unknown order status '{value}'; the row won't ship (only 待发货 ships)"),
    "bad-characters": (
        "{header}含有无法识别的字符（编码错误或控制字符），请检查：“{value}”",
        "{header} holds unreadable characters (bad encoding or control characters): '{value}'"),
    "formula-in-cell": (
        "{header}是公式或错误值（{value}），请粘贴为数值后再处理",
        "{header} holds a formula or an error value ({value}); paste it as a value first"),
}

STATUS: dict[RowStatus, tuple[str, str]] = {
    RowStatus.INVALID: ("校验失败", "Invalid"),
    RowStatus.VALID: ("校验通过", "Valid"),
    RowStatus.ALLOCATED: ("已分配", "Allocated"),
    RowStatus.INTERCEPTED: ("已拦截", "Intercepted"),
    RowStatus.SKIPPED: ("已跳过", "Skipped"),
    RowStatus.SHORT: ("单号不足", "Short of numbers"),
    RowStatus.HELD: ("暂缓", "Held"),
    RowStatus.OUT_OF_STOCK: ("缺货", "Out of stock"),
}


# ---- the export as it arrives: privacy masks, store pickup, PDD review, dates (issue 13) ----------
ISSUES.update({
    "masked-value": (
        "{header}是拼多多打码的隐私信息（{value}），不能印在面单上；请到拼多多商家后台 发货管理-订单查询 "
        "查看可打印的完整信息并补全",
        "{header} is masked by PDD ({value}) and can't be printed on a label; get the printable value in "
        "the PDD seller back office (发货管理-订单查询)"),
    "impossible-date": (
        "{header}不是真实存在的日期：“{value}”（如 2 月没有 30 日），请按拼多多后台的时间改正",
        "{header} is not a real date: '{value}' (e.g. February has no 30th); correct it from the PDD back office"),
    "far-date": (
        "{header}“{value}”与该订单的其他日期相差十年以上，可能输错了，请检查",
        "{header} '{value}' is more than ten years away from the order's other dates; check for a typo"),
})
STATUS.update({
    RowStatus.INCOMPLETE: ("待补全", "Needs printable data"),
    RowStatus.STORE_PICKUP: ("门店自提", "Store pickup"),
    RowStatus.UNDER_REVIEW: ("审核中", "Under review"),
})


def masked_text(fields: list[str], lang: str = "zh") -> str:
    """处理说明 of an order held because PDD masked its receiver (which fields, where to get them)."""
    return pick(lang, f"{'、'.join(fields)}是打码的隐私信息（含 *），不能打印面单，未分配单号；请到拼多多商家后台 "
                      f"发货管理-订单查询 查看完整收件信息，补全本行后重新处理",
                f"{', '.join(fields)} masked by PDD (contains *): no label can be printed, no number allocated; "
                f"get the printable receiver in the PDD back office (发货管理-订单查询), fill in this row and "
                f"run again")


def masked_reprint_text(fields: list[str], tracking_no: str, lang: str = "zh") -> str:
    """Why a parcel can't be reprinted: the workbook now holds masked receiver values."""
    return pick(lang, f"包裹 {tracking_no} 的{'、'.join(fields)}在工作簿中是打码的隐私信息（含 *），不能补打；请到拼多多"
                      f"商家后台 发货管理-订单查询 查看完整收件信息，补全后再补打",
                f"The workbook holds masked {', '.join(fields)} for parcel {tracking_no} (contains *): not "
                f"reprinted; get the printable receiver in the PDD back office (发货管理-订单查询) first")


def store_pickup_text(lang: str = "zh") -> str:
    return pick(lang, "门店自提订单（是否门店自提 = 是）：买家到店取货，不发快递，未分配单号",
                "Store pickup (是否门店自提 = 是): the buyer collects in the store; no courier, no number")


def held_count_text(status: RowStatus, n: int, lang: str = "zh") -> str:
    """The run's remark about `n` orders held with one of the statuses above."""
    if status is RowStatus.INCOMPLETE:
        return pick(lang, f"待补全 {n} 单：收件信息被拼多多打码（含 *），不能打印面单；请到商家后台 发货管理-订单查询 "
                          f"查看完整信息，补全后重新处理",
                    f"{n} orders need printable data: PDD masked the receiver (*); get it in the back office "
                    f"(发货管理-订单查询), fill in the rows and run again")
    if status is RowStatus.STORE_PICKUP:
        return pick(lang, f"门店自提 {n} 单：不发快递，未分配单号", f"{n} store-pickup orders: no courier, no number")
    return pick(lang, f"拼多多审核中 {n} 单：暂不发货，审核通过后重新处理",
                f"{n} orders under PDD review: not shipped; run again after the review")


def under_review_text(lang: str = "zh") -> str:
    return pick(lang, "拼多多审核中（是否审核中 = 是）：暂不能发货，未分配单号；审核通过后重新处理",
                "PDD is still reviewing this order (是否审核中 = 是): not shipped, no number; run again once "
                "the review is done")


def issue_text(code: str, lang: str = "zh", **values: object) -> str:
    zh, en = ISSUES.get(code, ("{header}：{value}", "{header}: {value}"))
    template = en if lang == "en" else zh
    return template.format_map(_Defaults(values))


def status_text(status: RowStatus, lang: str = "zh") -> str:
    zh, en = STATUS[status]
    return en if lang == "en" else zh


def pick(lang: str, zh: str, en: str) -> str:
    """Choose the sentence for the seller's language."""
    return en if lang == "en" else zh


class _Defaults(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""
