"""The plan stage: interception, skipping, merging, carrier choice, deadlines."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from pddbatch.config import load_config
from pddbatch.model import Order, Receiver, RowStatus
from pddbatch.plan.parcels import make_plan, parcel_key, recipient_key
from tests.support import SAMPLE

NOW = datetime(2026, 11, 26, 9, 0, 0)
CONFIG = load_config(SAMPLE / "pddbatch.toml")
ZHANG = Receiver("张三", "13812345678", "浙江省", "杭州市", "西湖区", "", "文三路90号3栋201室")


def order(row: int, sn: str, **kw: object) -> Order:
    base = Order(row=row, order_sn=sn, order_status="待发货", after_sale_status="无售后或售后取消",
                 product="毛毯", spec="灰色", sku="MT-150-GR", quantity=1, receiver=ZHANG,
                 promised_ship_at=NOW + timedelta(hours=30))
    return replace(base, **kw)  # type: ignore[arg-type]


def test_refunds_and_after_sales_are_intercepted() -> None:
    orders = [order(2, "A", after_sale_status="售后处理中"),
              order(3, "B", order_status="未发货，退款成功", after_sale_status="退款成功"),
              order(4, "C")]
    plan = make_plan(orders, CONFIG, now=NOW)
    assert plan.outcomes[2].status is RowStatus.INTERCEPTED and "售后处理中" in plan.outcomes[2].message
    assert plan.outcomes[3].status is RowStatus.INTERCEPTED
    assert [p.order_sns for p in plan.parcels] == [("C",)]


def test_non_shipping_statuses_are_skipped_with_reason() -> None:
    orders = [order(2, "A", order_status="已发货，待收货", tracking_no="73100000000009"),
              order(3, "B", order_status="已取消"), order(4, "C", order_status="待付款"),
              order(5, "D", order_status="已签收")]
    plan = make_plan(orders, CONFIG, now=NOW)
    assert {r: o.status for r, o in plan.outcomes.items()} == {r: RowStatus.SKIPPED for r in (2, 3, 4, 5)}
    assert "已发货" in plan.outcomes[2].message and "取消" in plan.outcomes[3].message
    assert plan.parcels == []


def test_row_with_unknown_tracking_number_is_left_alone() -> None:
    plan = make_plan([order(2, "A", tracking_no="YT1234567890123")], CONFIG, now=NOW)
    assert plan.outcomes[2].status is RowStatus.SKIPPED and "YT1234567890123" in plan.outcomes[2].message
    # ...but a number the ledger gave this order before is ours: the order is planned again
    plan = make_plan([order(2, "A", tracking_no="73190000000001")], CONFIG, now=NOW,
                     ledger_numbers={"A": "73190000000001"})
    assert [p.order_sns for p in plan.parcels] == [("A",)]


def test_same_recipient_merges_after_normalising_width_and_spaces() -> None:
    other = replace(ZHANG, name="张三 ", address="文三路９０号 3栋201室")
    orders = [order(2, "A"), order(3, "B", receiver=other), order(4, "C", receiver=replace(ZHANG, phone="13900000000"))]
    assert recipient_key(ZHANG) == recipient_key(other)
    plan = make_plan(orders, CONFIG, now=NOW)
    assert sorted(p.order_sns for p in plan.parcels) == [("A", "B"), ("C",)]
    merged = next(p for p in plan.parcels if len(p.orders) == 2)
    assert merged.key == parcel_key(["B", "A"]) and merged.item_count == 2


def test_merge_can_be_turned_off() -> None:
    plan = make_plan([order(2, "A"), order(3, "B")], replace(CONFIG, merge=False), now=NOW)
    assert len(plan.parcels) == 2


def test_carrier_by_province_rule_else_default() -> None:
    remote = replace(ZHANG, province="新疆维吾尔自治区", city="乌鲁木齐市", district="天山区")
    plan = make_plan([order(2, "A"), order(3, "B", receiver=remote)], CONFIG, now=NOW)
    by_sn = {p.order_sns[0]: p for p in plan.parcels}
    assert by_sn["A"].carrier.code == "ZTO" and by_sn["A"].rule == ""
    assert by_sn["B"].carrier.code == "YZXB" and by_sn["B"].rule == "偏远地区走邮政"
    assert by_sn["B"].carrier.pdd_name == "邮政快递包裹"


def test_deadlines_warn_and_order_the_parcels() -> None:
    people = [replace(ZHANG, phone=f"1380000000{i}") for i in range(4)]
    orders = [order(2, "late", receiver=people[0], promised_ship_at=NOW - timedelta(hours=1)),
              order(3, "far", receiver=people[1], promised_ship_at=NOW + timedelta(hours=40)),
              order(4, "near", receiver=people[2], promised_ship_at=NOW + timedelta(hours=5)),
              order(5, "derived", receiver=people[3], promised_ship_at=None, paid_at=NOW - timedelta(hours=44))]
    plan = make_plan(orders, CONFIG, now=NOW)
    assert [p.order_sns[0] for p in plan.parcels] == ["late", "derived", "near", "far"]
    assert set(plan.deadlines) == {"late", "near", "derived"}
    assert plan.deadlines["late"].overdue and plan.deadlines["derived"].derived
    assert not plan.deadlines["near"].overdue


def test_sample_plan_counts(orders_xlsx: Path) -> None:
    from pddbatch.pipeline import load_table
    from pddbatch.validate import validate_table

    v = validate_table(load_table(orders_xlsx))
    plan = make_plan(v.orders, CONFIG, now=NOW)
    shipped_orders = sum(len(p.orders) for p in plan.parcels)
    assert shipped_orders + len(plan.outcomes) == len(v.orders)
    assert any(len(p.orders) > 1 for p in plan.parcels)      # the sample has repeat buyers
    assert any(o.status is RowStatus.INTERCEPTED for o in plan.outcomes.values())


def test_a_huge_merge_is_split_into_boxes_of_the_configured_size() -> None:
    orders = [order(i + 2, f"S{i:03d}") for i in range(45)]
    plan = make_plan(orders, replace(CONFIG, max_orders_per_parcel=20), now=NOW)
    assert [len(p.orders) for p in plan.parcels] == [20, 20, 5]
    assert sorted(sn for p in plan.parcels for sn in p.order_sns) == sorted(o.order_sn for o in orders)
    assert len({p.key for p in plan.parcels}) == 3


# ---- orders that must not get a courier label (issue 13) -------------------------------------------

MASKED = Receiver("程**", "158****4370", "浙江省", "杭州市", "滨江区", "", "滨江大道***")


def test_masked_receivers_are_held_with_the_field_and_where_to_get_it() -> None:
    orders = [order(2, "A", receiver=MASKED), order(3, "B", receiver=MASKED),   # look alike: never one parcel
              order(4, "C", receiver=replace(ZHANG, phone="138****5678")),
              order(5, "D", receiver=replace(ZHANG, address="文三路＊＊号")), order(6, "E")]
    plan = make_plan(orders, CONFIG, now=NOW)
    assert [p.order_sns for p in plan.parcels] == [("E",)]
    assert {r: o.status for r, o in plan.outcomes.items()} == {r: RowStatus.INCOMPLETE for r in (2, 3, 4, 5)}
    assert plan.outcomes[2].message.startswith("收货人、手机、收货地址是打码的隐私信息")
    assert plan.outcomes[4].message.startswith("手机是打码") and plan.outcomes[5].message.startswith("收货地址是打码")
    assert all("发货管理-订单查询" in o.message and o.tracking_no == "" for o in plan.outcomes.values())
    en = make_plan(orders[:1], CONFIG, now=NOW, lang="en").outcomes[2].message
    assert en.startswith("收货人, 手机, 收货地址 masked by PDD") and "发货管理-订单查询" in en


def test_privacy_numbers_are_shippable_and_merge_only_when_identical() -> None:
    square = replace(ZHANG, name="张三[1234]", phone="13812345678-1234", address="文三路90号[1234]")
    corner = replace(square, name="张三【1234】", address="文三路90号【1234】")
    plan = make_plan([order(2, "A", receiver=square), order(3, "B", receiver=square),
                      order(4, "C", receiver=corner)], CONFIG, now=NOW)
    assert plan.outcomes == {}
    assert sorted(p.order_sns for p in plan.parcels) == [("A", "B"), ("C",)]
    assert next(p for p in plan.parcels if p.order_sns == ("C",)).receiver.name == "张三【1234】"


def test_store_pickup_and_pdd_review_are_not_shipped() -> None:
    orders = [order(2, "A", store_pickup=True), order(3, "B", under_review=True),
              order(4, "C", under_review=True, after_sale_status="售后处理中"),     # a refund is intercepted first
              order(5, "D", store_pickup=True, order_status="已发货，待收货")]        # shipped: nothing to do
    plan = make_plan(orders, CONFIG, now=NOW)
    assert plan.parcels == []
    assert [plan.outcomes[r].status for r in (2, 3, 4, 5)] == [RowStatus.STORE_PICKUP, RowStatus.UNDER_REVIEW,
                                                               RowStatus.INTERCEPTED, RowStatus.SKIPPED]
    assert "门店自提" in plan.outcomes[2].message and "审核中" in plan.outcomes[3].message


def test_merge_key_uses_the_one_composed_address() -> None:
    # the same place spelled by an old export (街道 only) and a new one (街道/镇 + 详细地址)
    old = replace(ZHANG, street="", address="西湖街道文三路90号3栋201室")
    new = replace(ZHANG, street="西湖街道", address="文三路90号3栋201室")
    assert old.full_address == new.full_address == "浙江省杭州市西湖区西湖街道文三路90号3栋201室"
    assert recipient_key(old) == recipient_key(new)
    plan = make_plan([order(2, "A", receiver=old), order(3, "B", receiver=new)], CONFIG, now=NOW)
    assert [p.order_sns for p in plan.parcels] == [("A", "B")]


def test_numbered_parcel_is_what_replace_gives() -> None:
    """Parcel.numbered builds by position: every field must come across (a new field would not)."""
    from dataclasses import fields

    from pddbatch.carriers import carrier
    from pddbatch.model import Parcel

    r = Receiver("张三", "13800000000", "浙江省", "杭州市", "西湖区", "", "文三路1号")
    o1 = Order(2, "261124-1", "待发货", "无售后或售后取消", "T恤", "白 L", "TS-1", 1, r)
    o2 = replace(o1, row=3, order_sn="261124-2")
    # every field set to something other than its default, so a dropped one shows
    p = Parcel("K", (o1, o2), carrier("SF"), r, "", 1234, "100x180", 7, "买家要顺丰", datetime(2026, 11, 30, 18))
    assert all(getattr(p, f.name) != f.default for f in fields(Parcel) if f.name != "tracking_no")
    got = p.numbered((o2,), "SF1000000000001", "K-SF1000000000001")
    assert got == replace(p, orders=(o2,), tracking_no="SF1000000000001", key="K-SF1000000000001")


def test_deadline_and_urgent_times_read_as_strftime_would() -> None:
    from pddbatch.outcomes import urgent_list
    from pddbatch.plan.parcels import Deadline, deadline_text

    for due in (datetime(2026, 1, 2, 3, 4), datetime(2026, 12, 31, 23, 59), datetime(2030, 10, 9, 10, 0)):
        d = Deadline("261124-1", 2, due, 5.25, False)
        assert due.strftime("%m-%d %H:%M") in deadline_text(d, "zh")
        plan = make_plan([], load_config(SAMPLE / "pddbatch.toml"), now=datetime(2026, 11, 30, 9))
        plan.deadlines["261124-1"] = d
        assert urgent_list(plan, "zh")[0]["due"] == due.strftime("%Y-%m-%d %H:%M")


def test_deadline_sentences_in_each_language() -> None:
    """The 处理说明 warning near or past the promised ship time, derived or exported, zh and en."""
    from pddbatch.plan.parcels import Deadline, deadline_text

    due = datetime(2026, 12, 1, 18, 30)
    soon, late = Deadline("1", 2, due, 5.25, False), Deadline("1", 2, due, -3.0, True)
    assert deadline_text(soon, "zh") == "⚠ 距承诺发货时间 12-01 18:30 不足 5.2 小时"
    assert deadline_text(soon, "en") == "⚠ 5.2 h left before the promised ship time 12-01 18:30"
    assert deadline_text(late, "zh") == "⚠ 已超过承诺发货时间 12-01 18:30（按付款后48小时推算），请立即发货"
    assert deadline_text(late, "en") == "⚠ Past the promised ship time 12-01 18:30 (paid + 48 h): ship now"
    derived_soon = Deadline("1", 2, due, 0.04, True)
    assert deadline_text(derived_soon, "zh") == "⚠ 距承诺发货时间 12-01 18:30 不足 0.0 小时（按付款后48小时推算）"
    assert deadline_text(derived_soon, "en") == "⚠ 0.0 h left before the promised ship time 12-01 18:30 (paid + 48 h)"


def test_numbered_parcels_are_the_ones_the_outcomes_print(orders_xlsx: Path) -> None:
    """The labels start from `numbered_parcels` before the rows' outcomes exist: the same parcels, in
    the same order, as `process_outcomes` gives — with merges, a merge the ledger split (one order kept
    an earlier number) and orders left without a number (a pool ran dry)."""
    from pddbatch.outcomes import numbered_parcels, process_outcomes
    from pddbatch.pipeline import load_table
    from pddbatch.validate import validate_table

    v = validate_table(load_table(orders_xlsx))
    plan = make_plan(v.orders, CONFIG, now=NOW)
    merged = [p for p in plan.parcels if len(p.orders) > 1]
    assert merged
    numbered: dict[str, tuple[str, int, bool]] = {}
    for i, p in enumerate(plan.parcels):
        if i % 11 == 5:
            continue                                          # short of numbers
        for k, o in enumerate(p.orders):
            kept = p is merged[0] and k == 0                  # kept an earlier, different number
            numbered[o.order_sn] = (f"OLD{i}" if kept else f"N{i}", 1000 + i + (5000 if kept else 0), not kept)
    outcomes, ready = process_outcomes(v, plan, numbered, "zh")
    early = numbered_parcels(plan, numbered)
    assert early == ready
    assert process_outcomes(v, plan, numbered, "zh", parcels=False) == (outcomes, [])   # (what a run asks for)
    statuses = {o.status.name for o in outcomes.values()}
    assert {"ALLOCATED", "SHORT"} <= statuses
    assert len(early) < len(plan.parcels) + 1 and any(p.key.endswith("-OLD" + str(plan.parcels.index(merged[0])))
                                                      for p in early)
