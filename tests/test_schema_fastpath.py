"""The compiled fast path accepts and rejects exactly what jsonschema does (issue: speed without laxity)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pddbatch.rowcheck import field_plan, row_check, split_check
from pddbatch.validate import _full_validator, fast_check, order_schema, schema_errors

FIELDS = sorted(order_schema()["properties"])
TRICKY = [
    "", " ", "待发货", "已取消", "已发货，待收货", "无售后或售后取消", "260517-607198974342268",
    "260517607198974342268", "13812345678", "13812345678-1234", "138****5678", "+8613812345678",
    "12812345678", "0571-88886666", "1", "0", "01", "99999", "100000", "39.90", "39.999", "-1.5", "免费",
    "2026-11-25 14:30:00", "2026-13-25 14:30:00", "2026-11-25", "明天", "73100000000001", "a" * 501,
    "郭海莉[9964]", "x\ny", "\u3000", "7" * 41,
]
values = st.one_of(st.sampled_from(TRICKY), st.text(max_size=30))
rows = st.dictionaries(st.sampled_from(FIELDS + ["order_status"]), values, max_size=len(FIELDS))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_fast_path_agrees_with_jsonschema(row: dict[str, str]) -> None:
    full_ok = _full_validator().is_valid(row)
    assert fast_check()(row) == full_ok
    # and when jsonschema rejects, we can always name a field and code for the seller
    if not full_ok:
        assert list(schema_errors(row))


def test_fast_path_agrees_on_a_complete_good_row() -> None:
    good = {"order_sn": "260517-607198974342268", "order_status": "待发货", "after_sale_status": "无售后或售后取消",
            "product": "毛毯", "quantity": "2", "receiver_name": "张三", "receiver_phone": "13812345678",
            "province": "浙江省", "city": "杭州市", "district": "西湖区", "address": "文三路 90 号",
            "promised_ship_at": "2026-11-27 10:00:00", "buyer_paid": "39.90"}
    assert fast_check()(good) and _full_validator().is_valid(good)
    bad = dict(good, receiver_phone="1381234567")
    assert not fast_check()(bad) and not _full_validator().is_valid(bad)


def test_the_shipped_schema_is_checked_field_by_field() -> None:
    """The split path is the one in use: a schema change that defeats it shows up here, not as a slower run."""
    plan = field_plan(order_schema())
    assert plan is not None
    assert plan.required == {"order_sn", "order_status", "after_sale_status"}
    assert [(c.field, c.value) for c in plan.conditions] == [("order_status", "待发货")]
    assert set(plan.checks) == set(FIELDS)


def test_a_remembered_verdict_belongs_to_its_field() -> None:
    check = split_check(field_plan(order_schema()))  # type: ignore[arg-type]
    base = {"order_sn": "260517-607198974342268", "order_status": "已取消", "after_sale_status": "无售后或售后取消"}
    for _ in range(3):       # asked again and again: the answers come from memory and stay the same
        assert check({**base, "quantity": "12"})
        assert not check({**base, "buyer_paid": "12.345"})
        assert check({**base, "postage": "12"})
        assert not check({**base, "order_sn": "12"})          # "12" was good as a quantity, not here
        assert not check({**base, "order_status": "待发货"})   # 待发货 needs the receiver and goods
        assert check({**base, "not_a_field": "x" * 2000})     # fields the schema doesn't name are free


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_a_schema_the_split_cant_express_is_checked_whole(row: dict[str, str]) -> None:
    import jsonschema

    schema = {**order_schema(), "additionalProperties": False, "minProperties": 4}
    assert field_plan(schema) is None
    assert row_check(schema)(row) == jsonschema.Draft202012Validator(schema).is_valid(row)
