"""Generate an after-sales export and a returns log consistent with an order export, with planted discrepancies.

    python sample_data/make_aftersales.py                 # sample_data/售后-sample.xlsx, 退货登记-sample.xlsx,
                                                          # returns-log-template.xlsx and RECONCILE.md
    python sample_data/make_aftersales.py --orders other.xlsx --out-dir /tmp/x

Every discrepancy is planted by `build` and returned as a `Plant`; RECONCILE.md is written from the same
list, and tests compare the reconciliation's findings with it, so the three never drift apart.
Everything else is consistent: `pddbatch reconcile` must find the plants and nothing more.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from pddbatch.reconcile.inputs import OrderRec, read_inputs

HERE = Path(__file__).resolve().parent
AFTERSALES_HEADERS = ["售后编号", "订单号", "商品", "规格", "商家编码", "售后类型", "售后状态", "申请金额",
                      "退款金额(元)", "申请时间", "退款时间", "退货物流公司", "退货快递单号", "售后原因"]
RETURNS_HEADERS = ["退货快递单号", "收货日期", "订单号", "件数", "状况", "备注"]
CONDITIONS = ["完好", "破损", "空包", "错货"]
REASONS_REFUND_ONLY = ["不想要了", "拍错/多拍", "未按约定时间发货", "协商一致退款"]
REASONS_RETURN = ["质量问题", "商品与描述不符", "尺码/规格不合适", "七天无理由退货"]


@dataclass(frozen=True)
class Plant:
    kind: str
    aftersale_sns: tuple[str, ...]   # sorted
    order_sn: str
    tracking_no: str                 # the return waybill involved ('' when none)
    why: str


@dataclass
class Generated:
    aftersales: list[dict[str, Any]]
    returns: list[dict[str, Any]]
    plants: list[Plant]


class _Numbers:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_asn = 20261100000 + rng.randrange(10000, 90000)

    def asn(self) -> str:
        self.next_asn += self.rng.randrange(3, 40)
        return str(self.next_asn)

    def waybill(self) -> tuple[str, str]:
        carrier = self.rng.choice(["中通快递", "圆通快递", "韵达快递", "极兔快递"])
        digits = "".join(self.rng.choice("0123456789") for _ in range(13))
        number = {"中通快递": "73" + digits[:12], "圆通快递": "YT" + digits, "韵达快递": "43" + digits,
                  "极兔快递": "JT" + digits}[carrier]
        return carrier, number


def _shipped(o: OrderRec) -> bool:
    return o.order_status.startswith(("已发货", "已签收")) or bool(o.tracking_no)


def build(orders: list[OrderRec], seed: int = 2026) -> Generated:
    """Plan a consistent after-sales export and returns log over `orders`, planting one of each kind."""
    rng = random.Random(seed)
    num = _Numbers(rng)
    clean = sorted((o for o in orders if o.buyer_paid is not None and o.buyer_paid > 0), key=lambda o: o.key)
    shipped_refunded = [o for o in clean if o.order_status.startswith("已发货") and "退款成功" in o.order_status]
    unshipped_refunded = [o for o in clean if o.order_status.startswith("未发货") and "退款成功" in o.order_status]
    in_progress = [o for o in clean if "处理中" in o.after_sale_status]
    shipped_other = [o for o in clean if _shipped(o) and o not in shipped_refunded and o not in in_progress]
    need = (len(shipped_refunded), len(unshipped_refunded), len(in_progress), len(shipped_other))
    if min(need) < 3 or len(shipped_refunded) + len(shipped_other) < 12:
        raise SystemExit(f"the order export has too few refunded/shipped orders to plant every kind: {need}")
    rows: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    plants: list[Plant] = []

    def after_sale(o: OrderRec | None, type_: str, status: str, refund: Decimal | None, *,
                   order_sn: str = "", tracking: tuple[str, str] | None = None, reason: str = "",
                   as_text: bool = False) -> dict[str, Any]:
        base = datetime(2026, 11, 20, 9, 0) + timedelta(minutes=rng.randrange(0, 5 * 24 * 60))
        amount = refund if refund is not None else (o.buyer_paid if o else Decimal("10.00"))
        row: dict[str, Any] = {
            "售后编号": num.asn(), "订单号": order_sn or (o.order_sn if o else ""),
            "商品": o.product if o else "", "规格": "", "商家编码": o.sku if o else "",
            "售后类型": type_, "售后状态": status,
            # amounts: Excel numbers mostly, typed text sometimes (the reader must take both)
            "申请金额": f"¥{amount}" if as_text else float(str(amount)),
            "退款金额(元)": (f"{refund}元" if as_text else float(str(refund))) if status == "退款成功" and
            refund is not None else None,
            "申请时间": base, "退款时间": base + timedelta(hours=rng.randrange(2, 30)) if status == "退款成功" else None,
            "退货物流公司": tracking[0] if tracking else "", "退货快递单号": tracking[1] if tracking else "",
            "售后原因": reason or rng.choice(REASONS_RETURN if tracking else REASONS_REFUND_ONLY),
        }
        rows.append(row)
        return row

    def received(tracking: str, o: OrderRec | None, cond: str = "完好", *, with_order: bool = True) -> None:
        log.append({"退货快递单号": tracking, "收货日期": datetime(2026, 11, 26) + timedelta(days=rng.randrange(0, 4)),
                    "订单号": o.order_sn if (o and with_order) else "", "件数": 1, "状况": cond, "备注": ""})

    def plant(kind: str, rows_: list[dict[str, Any]], order_sn: str, tracking: str, why: str) -> None:
        plants.append(Plant(kind, tuple(sorted(r["售后编号"] for r in rows_)), order_sn, tracking, why))

    sr, ur, ip, so = list(shipped_refunded), list(unshipped_refunded), list(in_progress), list(shipped_other)
    rng.shuffle(sr)
    rng.shuffle(ur)
    rng.shuffle(ip)
    rng.shuffle(so)
    shipped_pool = sr + so

    # ---- planted discrepancies ------------------------------------------------------------------
    r = after_sale(None, "仅退款", "退款成功", Decimal("25.80"), order_sn="261019-300412778015342")
    plant("refund-without-order", [r], r["订单号"], "", "订单号属于十月，订单导出里没有")

    o = shipped_pool.pop()
    tr = num.waybill()
    assert o.buyer_paid is not None
    r = after_sale(o, "退货退款", "退款成功", o.buyer_paid + Decimal("10.00"), tracking=tr)
    received(tr[1], o)
    plant("refund-exceeds-paid", [r], o.order_sn, "", f"退款 {o.buyer_paid + 10} 比用户实付 {o.buyer_paid} 多 10 元")

    o = ur.pop()
    assert o.buyer_paid is not None
    r1 = after_sale(o, "仅退款", "退款成功", o.buyer_paid, reason="拍错/多拍")
    r2 = after_sale(o, "仅退款", "退款成功", o.buyer_paid, reason="拍错/多拍", as_text=True)
    plant("duplicate-refund", [r1, r2], o.order_sn, "", "同一订单同一商品两张仅退款售后单都退款成功")

    o = shipped_pool.pop()
    tr = num.waybill()
    r = after_sale(o, "退货退款", "退款成功", o.buyer_paid, tracking=tr)
    plant("return-not-received", [r], o.order_sn, tr[1], "已退款，但退货快递单号不在退货登记中")

    o = shipped_pool.pop()
    tr = num.waybill()
    r = after_sale(o, "退货退款", "用户已发货,待商家收货", None, tracking=tr)
    received(tr[1], o)
    plant("received-not-refunded", [r], o.order_sn, tr[1], "退货已登记到仓，售后仍待商家收货（未退款）")

    unknown = num.waybill()[1]
    received(unknown, None)
    plant("received-unknown", [], "", unknown, "登记了一个没有任何售后单对应的退货单号")

    o = shipped_pool.pop()
    r = after_sale(o, "仅退款", "退款成功", o.buyer_paid, reason="协商一致退款")
    plant("refund-after-shipping-only", [r], o.order_sn, "", "订单已发货，售后类型却是仅退款")

    o = shipped_pool.pop()
    tr = num.waybill()
    r = after_sale(o, "退货退款", "退款成功", o.buyer_paid, tracking=tr, reason="质量问题")
    received(tr[1], o, "破损")
    plant("damaged-return", [r], o.order_sn, tr[1], "退货到仓状况“破损”，仍全额退款")

    o1, o2 = shipped_pool.pop(), shipped_pool.pop()
    tr = num.waybill()
    r1 = after_sale(o1, "退货退款", "退款成功", o1.buyer_paid, tracking=tr)
    r2 = after_sale(o2, "退货退款", "退款成功", o2.buyer_paid, tracking=tr)
    received(tr[1], None)
    plant("ambiguous-match", [r1, r2], o1.order_sn, tr[1], "两个不同订单的售后单填了同一个退货快递单号")

    # ---- consistent rows (must produce no findings), typed the way humans type ---------------------
    for o in ur[:6]:
        after_sale(o, "仅退款", "退款成功", o.buyer_paid)
    for i, o in enumerate(sr[:4] if len(sr) >= 4 else shipped_pool[:4]):
        if o not in shipped_pool:
            continue
        shipped_pool.remove(o)
        tr = num.waybill()
        after_sale(o, "退货退款", "退款成功", o.buyer_paid, tracking=tr)
        typed = [tr[1].lower(), " " + tr[1] + " ", _fullwidth(tr[1]), tr[1][:4] + " " + tr[1][4:]][i % 4]
        received(typed, o, with_order=i % 2 == 0)
    o = shipped_pool.pop()
    assert o.buyer_paid is not None
    tr = num.waybill()
    after_sale(o, "退货退款", "退款成功", (o.buyer_paid / 2).quantize(Decimal("0.01")), tracking=tr)
    received(tr[1], o, "破损")                              # damaged but only half refunded: fine
    o = shipped_pool.pop()
    tr = num.waybill()
    after_sale(o, "换货", "换货中", None, tracking=tr, reason="尺码/规格不合适")
    received(tr[1], o)                                     # exchange: goods back, no refund expected
    o = shipped_pool.pop()
    if o.tracking_no:
        after_sale(o, "拦截退货", "退款成功", o.buyer_paid, reason="快递拦截")
        received(o.tracking_no, o)                         # intercepted: comes back on the outbound number
    for o in ip[:3]:
        if _shipped(o):
            tr = num.waybill()
            after_sale(o, "退货退款", "用户已发货,待商家收货", None, tracking=tr)   # on its way, not logged
        else:
            after_sale(o, "仅退款", "买家申请退款，待商家处理", None)
    for o in so[-2:]:
        if o in shipped_pool:
            after_sale(o, "仅退款", "买家撤销", o.buyer_paid)     # withdrawn: no money moved
    rows.sort(key=lambda x: x["申请时间"])
    return Generated(rows, log, plants)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def write_aftersales(path: Path, rows: list[dict[str, Any]]) -> None:
    _write(path, "售后列表", AFTERSALES_HEADERS, rows)


def write_returns(path: Path, rows: list[dict[str, Any]]) -> None:
    _write(path, "退货登记", RETURNS_HEADERS, rows)


def _write(path: Path, sheet: str, headers: list[str], rows: list[dict[str, Any]]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    ws = wb.add_worksheet(sheet)
    head = wb.add_format({"bold": True})
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    money = wb.add_format({"num_format": "0.00"})
    for c, h in enumerate(headers):
        ws.write_string(0, c, h, head)
        ws.set_column(c, c, 18)
    for r, row in enumerate(rows, start=1):
        for c, h in enumerate(headers):
            v = row.get(h)
            if v is None or v == "":
                continue
            if isinstance(v, datetime):
                ws.write_datetime(r, c, v, when)
            elif isinstance(v, int | float):
                ws.write_number(r, c, v, money if isinstance(v, float) else None)
            else:
                ws.write_string(r, c, str(v))
    wb.close()


def write_template(path: Path) -> None:
    """The documented returns-log template: header, a 状况 list validation and an instructions sheet."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet("退货登记")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = wb.add_format({"num_format": "@"})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    widths = [24, 12, 26, 8, 10, 30]
    for c, h in enumerate(RETURNS_HEADERS):
        ws.write_string(0, c, h, head)
    ws.set_column(0, 0, widths[0], text)       # waybill numbers stay text (no 7.3e+13)
    ws.set_column(1, 1, widths[1], date)
    ws.set_column(2, 2, widths[2], text)       # order numbers stay text
    for c in range(3, len(RETURNS_HEADERS)):
        ws.set_column(c, c, widths[c])
    ws.freeze_panes(1, 0)
    ws.data_validation(1, 4, 5000, 4, {"validate": "list", "source": CONDITIONS,
                                       "input_title": "状况", "input_message": "完好/破损/空包/错货",
                                       "error_title": "状况", "error_message": "请从列表中选择：完好/破损/空包/错货"})
    ws.data_validation(1, 3, 5000, 3, {"validate": "integer", "criteria": ">=", "value": 1,
                                       "error_message": "件数应为正整数"})
    ws.data_validation(1, 1, 5000, 1, {"validate": "date", "criteria": ">=",
                                       "value": datetime(2020, 1, 1), "error_message": "请填写日期，如 2026-11-26"})
    ins = wb.add_worksheet("填写说明")
    ins.set_column(0, 0, 14)
    ins.set_column(1, 1, 90)
    lines = [
        ("列", "怎么填"),
        ("退货快递单号", "必填。买家寄回包裹上的快递单号，照抄即可（空格、全角、大小写都没关系）。"
                   "拦截/拒收退回的包裹填原发货单号。"),
        ("收货日期", "仓库签收退货的日期，如 2026-11-26。按月对账时用它决定未匹配包裹属于哪个月。"),
        ("订单号", "可选。包裹里的订单号（如 261125-518844729405576）；单号不清楚时用于匹配。请保持为文本。"),
        ("件数", "收到的商品件数（正整数）。"),
        ("状况", "从下拉列表选择：完好 / 破损 / 空包 / 错货。非“完好”且已全额退款的，对账会列为 damaged-return。"),
        ("备注", "任意说明，对账不读取。"),
        ("", ""),
        ("对账", "pddbatch reconcile --orders 订单.xlsx --aftersales 售后.xlsx --returns 退货登记.xlsx "
               "-o reconciliation.xlsx"),
        ("注意", "每个包裹只登记一行：同一单号登记两次会被列为 ambiguous-match（匹配不唯一）。"),
    ]
    bold = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for r, (a, b) in enumerate(lines):
        ins.write_string(r, 0, a, bold)
        ins.write_string(r, 1, b, bold if r == 0 else wrap)
    wb.close()


def write_doc(path: Path, plants: list[Plant], orders_name: str) -> None:
    lines = [
        "# Reconciliation sample data",
        "",
        f"Generated by `python sample_data/make_aftersales.py` from `{orders_name}` (seed 2026):",
        "",
        "- `售后-sample.xlsx` — an after-sales (售后) export consistent with the sample orders;",
        "- `退货登记-sample.xlsx` — the warehouse's returns log;",
        "- `returns-log-template.xlsx` — the empty, documented returns-log template (list validation on 状况,",
        "  a 填写说明 sheet).",
        "",
        "Run:",
        "",
        "    pddbatch reconcile --orders sample_data/orders.xlsx --aftersales sample_data/售后-sample.xlsx \\",
        "        --returns sample_data/退货登记-sample.xlsx -o reconciliation.xlsx",
        "",
        "Everything is consistent except the planted discrepancies below: the reconciliation must report",
        "each of them and nothing else (tests/reconcile/test_reconcile_sample.py checks it). The consistent rows",
        "include returns typed the way people type (lower case, spaces, full-width digits), a half refund",
        "of a damaged return, an exchange, an interception that comes back on the outbound waybill number,",
        "after-sales still in progress, and withdrawn ones.",
        "",
        "| kind | 售后编号 | 订单号 | 退货快递单号 | why |",
        "|---|---|---|---|---|",
    ]
    for p in plants:
        lines.append(f"| `{p.kind}` | {', '.join(p.aftersale_sns) or '—'} | {p.order_sn or '—'} | "
                     f"{p.tracking_no or '—'} | {p.why} |")
    lines += ["", "Money: the amounts are Excel numbers (some typed as text such as `¥19.90` / `19.90元`);",
              "totals are exact (Decimal) and the 汇总 totals equal the sums of the 已匹配 and 异常 sheets.",
              "", "## The rules the reconciliation applies", "",
              "- *Refunded* = 售后状态 contains 退款成功/已退款/退款完成/拒收退款; *closed* = 撤销/关闭/取消/驳回/拒绝",
              "  (lists in `schemas/aftersales_columns.json`). The refunded amount is 退款金额, else 申请金额.",
              "- *Shipped* = the ledger (`--ledger`) holds a live parcel for the order, or the export's 订单状态",
              "  starts with 已发货/已签收/已收货/待收货, or it has a 快递单号 or 发货时间.",
              "- A logged parcel matches an after-sale by 退货快递单号 (NFKC, no spaces, upper case, leading `'`",
              "  dropped); else by the order's outbound 快递单号 (intercepted/refused parcels); else by 订单号 when",
              "  one side has no waybill number. Several candidates -> withdrawn ones are set aside; still several",
              "  -> `ambiguous-match`, nothing paired. The same waybill logged twice, or one after-sale claimed by",
              "  two parcels, is `ambiguous-match` too.",
              "- `duplicate-refund`: two refunded after-sales on one order for the same 商家编码 (else 商品+规格).",
              "  An order reported as duplicate-refund is not also reported as `refund-exceeds-paid`.",
              "- `damaged-return`: 状况 non-blank and not 完好/正常/良好/无损/ok, refund >= the order amount.",
              "- `received-not-refunded` ignores 换货/补寄 (goods come back, no refund is due).",
              "- `--month YYYY-MM` keeps after-sales whose 退款时间 (else 申请时间) is in that month; parcels",
              "  matching no after-sale are kept when 收货日期 is in the month or blank. Matching itself always",
              "  uses every row, so a parcel of an October after-sale is never 'unknown' in November.",
              "- `--basis merchant_received` compares refunds with 商家实收金额 instead of 用户实付金额.",
              "- `--write-back` adds a 对账状态 column to the after-sales workbook: 已核对 or 异常：<kinds>.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def generate(orders_path: Path, out_dir: Path, seed: int = 2026) -> Generated:
    """Read `orders_path`, write the two workbooks into `out_dir`; return what was planted."""
    inputs = read_inputs([orders_path], [], [], "buyer_paid", all_orders=True)
    bad_rows = {i.row for _, i in inputs.issues if i.severity == "error"}
    orders = [o for o in inputs.orders if o.source.row not in bad_rows]
    g = build(orders, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_aftersales(out_dir / "售后-sample.xlsx", g.aftersales)
    write_returns(out_dir / "退货登记-sample.xlsx", g.returns)
    return g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=Path, default=HERE / "orders.xlsx")
    ap.add_argument("--out-dir", type=Path, default=HERE)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    g = generate(args.orders, args.out_dir, args.seed)
    write_template(args.out_dir / "returns-log-template.xlsx")
    write_doc(args.out_dir / "RECONCILE.md", g.plants, args.orders.name)
    print(f"{len(g.aftersales)} after-sales, {len(g.returns)} returns, {len(g.plants)} planted -> {args.out_dir}")


if __name__ == "__main__":
    main()
