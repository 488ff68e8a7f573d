"""Carrier rules, weights, stock and explain: the plan an experienced seller would make."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pddbatch.cli import main
from pddbatch.config import load_config
from pddbatch.model import Order, Receiver, RowStatus
from pddbatch.plan.catalog import Catalog, SkuInfo
from pddbatch.plan.parcels import make_plan
from pddbatch.plan.rules import Range, Rule
from pddbatch.plan.stock import load_stock
from pddbatch.workbook.read import Table
from tests.support import SAMPLE

NOW = datetime(2026, 11, 26, 9, 0, 0)
BASE = load_config(SAMPLE / "pddbatch.toml")
HZ = Receiver("张三", "13812345678", "浙江省", "杭州市", "西湖区", "", "文三路90号")


def order(row: int, sn: str, **kw: object) -> Order:
    base = Order(row=row, order_sn=sn, order_status="待发货", after_sale_status="无售后或售后取消",
                 product="毛毯", spec="", sku="MT-150-GR", quantity=1,
                 receiver=replace(HZ, phone=f"138{row:08d}"), promised_ship_at=NOW + timedelta(hours=30),
                 buyer_paid=Decimal("39.90"))
    return replace(base, **kw)  # type: ignore[arg-type]


def plan_with(rules: list[Rule], orders: list[Order], **kw: object):  # type: ignore[no-untyped-def]
    return make_plan(orders, replace(BASE, rules=tuple(rules)), now=NOW, tracing=True, **kw)  # type: ignore[arg-type]


def carrier_of(plan, sn: str) -> str:  # type: ignore[no-untyped-def]
    return next(p.carrier.code for p in plan.parcels if sn in p.order_sns)


@pytest.mark.parametrize("rule,hit,miss", [
    (Rule("省", carrier="SF", provinces=("广东",)),
     {"receiver": replace(HZ, province="广东省", phone="1")}, {}),
    (Rule("市", carrier="SF", cities=("杭州",)), {}, {"receiver": replace(HZ, city="宁波市", phone="1")}),
    (Rule("偏远", carrier="YZXB", remote=True), {"receiver": replace(HZ, province="西藏自治区", phone="1")}, {}),
    (Rule("SKU", carrier="SF", skus=("DM-*",)), {"sku": "DM-5KG"}, {"sku": "MT-150-GR"}),
    (Rule("关键词", carrier="SF", keywords=("顺丰", "加急")), {"buyer_message": "请发顺丰"}, {"merchant_remark": "加"}),
    (Rule("件数", carrier="SF", quantity=Range(3, None)), {"quantity": 5}, {"quantity": 2}),
    (Rule("金额", carrier="SF", amount=Range(None, 10)), {"buyer_paid": Decimal("9.90")}, {}),
    (Rule("时限", carrier="SF", deadline_within_hours=12),
     {"promised_ship_at": NOW + timedelta(hours=3)}, {"promised_ship_at": NOW + timedelta(hours=20)}),
])
def test_each_condition(rule: Rule, hit: dict[str, object], miss: dict[str, object]) -> None:
    plan = plan_with([rule], [order(2, "hit", **hit), order(3, "miss", **miss)])
    assert carrier_of(plan, "hit") == rule.carrier
    assert carrier_of(plan, "miss") == BASE.default_carrier
    assert any(f"规则“{rule.name}”不适用" in line for line in plan.trace["miss"])


def test_weight_condition_uses_the_sku_table() -> None:
    cat = Catalog({"DM-5KG": SkuInfo("DM-5KG", 5300, "大米"), "WZ": SkuInfo("WZ", 380, "袜")})
    heavy = Rule("重货走邮政", carrier="YZXB", weight_g=Range(10000, None))
    plan = plan_with([heavy], [order(2, "rice", sku="DM-5KG", quantity=2), order(3, "socks", sku="WZ"),
                               order(4, "unknown", sku="NOPE")], catalog=cat)
    assert carrier_of(plan, "rice") == "YZXB"
    rice = next(p for p in plan.parcels if "rice" in p.order_sns)
    assert rice.weight_g == 10600
    assert carrier_of(plan, "socks") == "ZTO"
    assert plan.notes["unknown"] == ["商品资料中没有 NOPE 的重量"]      # a warning, not a failure


def test_first_match_wins_and_actions_apply() -> None:
    rules = [Rule("同城仓", hold="同城仓自己发", keywords=("同城仓",)),
             Rule("急件", carrier="SF", label_size="100x180", priority=5, keywords=("加急",)),
             Rule("兜底", carrier="YZXB", keywords=("加急", "同城仓"))]
    plan = plan_with(rules, [order(2, "slow", promised_ship_at=NOW + timedelta(hours=2)),
                             order(3, "urgent", merchant_remark="加急"),
                             order(4, "held", merchant_remark="同城仓 加急")])
    assert plan.outcomes[4].status is RowStatus.HELD and "同城仓自己发" in plan.outcomes[4].message
    urgent = next(p for p in plan.parcels if "urgent" in p.order_sns)
    assert (urgent.carrier.code, urgent.label_size, urgent.priority, urgent.rule) == ("SF", "100x180", 5, "急件")
    assert [p.order_sns[0] for p in plan.parcels] == ["urgent", "slow"]      # priority before deadline


def _stock_table(levels: dict[str, object]) -> Table:
    return Table("stock.xlsx", "库存", 1, ["商家编码", "可用库存"], [[k, v] for k, v in levels.items()])


def test_stock_is_served_in_deadline_order() -> None:
    stock = load_stock(_stock_table({"TD-CD": 3.0, "MT-150-GR": 100}))
    assert stock is not None
    orders = [order(2, "late", sku="TD-CD", quantity=2, promised_ship_at=NOW + timedelta(hours=40)),
              order(3, "soon", sku="TD-CD", quantity=2, promised_ship_at=NOW + timedelta(hours=5)),
              order(4, "one", sku="TD-CD", quantity=1, promised_ship_at=NOW + timedelta(hours=20)),
              order(5, "free", sku="UNLISTED", quantity=9)]
    plan = make_plan(orders, BASE, now=NOW, stock=stock)
    shipped = {sn for p in plan.parcels for sn in p.order_sns}
    assert shipped == {"soon", "one", "free"}
    assert plan.outcomes[2].status is RowStatus.OUT_OF_STOCK and "TD-CD" in plan.outcomes[2].message
    assert stock.left("TD-CD") == 0


def test_already_numbered_orders_keep_their_stock_on_rerun() -> None:
    stock = load_stock(_stock_table({"TD-CD": 2}))
    assert stock is not None
    orders = [order(2, "new", sku="TD-CD", quantity=2, promised_ship_at=NOW + timedelta(hours=1)),
              order(3, "old", sku="TD-CD", quantity=2, promised_ship_at=NOW + timedelta(hours=30))]
    plan = make_plan(orders, BASE, now=NOW, stock=stock, ledger_numbers={"old": "73190000000001"})
    assert {sn for p in plan.parcels for sn in p.order_sns} == {"old"}
    assert plan.outcomes[2].status is RowStatus.OUT_OF_STOCK


def _stock_sheet(path: Path) -> list[tuple[object, ...]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb["库存"].iter_rows(values_only=True))
    wb.close()
    return rows


def test_stock_sheet_gets_remaining_and_rerun_does_not_subtract_twice(orders_xlsx: Path) -> None:
    runner = CliRunner()
    args = ["process", str(orders_xlsx), "--now", "2026-11-26 09:00:00"]
    first = runner.invoke(main, args)
    assert first.exit_code == 1
    rows = _stock_sheet(orders_xlsx)
    assert rows[0] == ("商家编码", "可用库存", "本次后剩余", "库存提醒")
    left = {r[0]: r[2] for r in rows[1:]}
    assert left["TD-CD"] == 0 and rows[-1][3] == "已无库存"
    assert all(isinstance(v, int | float) and v >= 0 for v in left.values())
    assert "库存提醒：TD-CD 剩余 0" in first.output
    second = runner.invoke(main, args)
    assert {r[0]: r[2] for r in _stock_sheet(orders_xlsx)[1:]} == left
    assert "新分配 0" in second.output


def test_explain_prints_the_whole_decision(orders_xlsx: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["process", str(orders_xlsx), "--now", "2026-11-26 09:00:00"])
    wb = openpyxl.load_workbook(orders_xlsx, read_only=True)
    rows = list(wb["订单列表"].iter_rows(values_only=True))
    head = {str(h).strip(): i for i, h in enumerate(rows[0]) if h}
    target = next(r for r in rows[1:] if r[head["处理状态"]] == "已分配" and "合并" in str(r[head["处理说明"]]))
    res = runner.invoke(main, ["explain", str(orders_xlsx), str(target[head["订单号"]])])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith(f"订单 {target[head['订单号']]}：工作表“订单列表”第 ")
    assert any(line.startswith("合并：与 ") for line in lines)
    assert any(line.startswith("快递：") for line in lines)
    assert lines[-1].startswith("台账：已分配 ") and str(target[head["快递单号"]]) in lines[-1]
    missing = runner.invoke(main, ["explain", str(orders_xlsx), "000000-000000000000000"])
    assert missing.exit_code == 2 and "找不到订单" in missing.output


def test_config_rule_mistakes_name_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "pddbatch.toml"
    cfg.write_text((SAMPLE / "pddbatch.toml").read_text(encoding="utf-8").replace(
        'keywords = ["顺丰"]', 'keywords = ["顺丰"]\nweight_g = { heavy = 1 }'), encoding="utf-8")
    from pddbatch.errors import ConfigError

    with pytest.raises(ConfigError) as ei:
        load_config(cfg)
    assert "carriers.rules.1.weight_g" in ei.value.message


def test_label_size_rule_prints_on_the_other_stock(orders_xlsx: Path) -> None:
    from pypdf import PdfReader

    cfg = orders_xlsx.with_name("pddbatch.toml")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'carrier = "SF"\npriority = 10', 'carrier = "SF"\npriority = 10\nlabel_size = "100x180"'), encoding="utf-8")
    res = CliRunner().invoke(main, ["process", str(orders_xlsx), "--now", "2026-11-26 09:00:00"])
    assert res.exit_code == 1, res.output
    out = orders_xlsx.with_name("orders.pddbatch")
    sf = PdfReader(out / "labels-SF-100x180.pdf")
    assert not (out / "labels-SF.pdf").exists()
    w, h = (float(v) * 25.4 / 72 for v in sf.pages[0].mediabox.upper_right)
    assert (round(w), round(h)) == (100, 180)
    zto = PdfReader(out / "labels-ZTO.pdf")
    w, h = (float(v) * 25.4 / 72 for v in zto.pages[0].mediabox.upper_right)
    assert (round(w), round(h)) == (76, 130)


def test_not_keywords_and_patterns_follow_the_clause() -> None:
    rule = Rule("要顺丰", carrier="SF", keywords=("顺丰", "/[Ss][Ff]快递/"), not_keywords=("不要顺丰", "/顺丰.*[吗？]/"))
    orders = [order(2, "asked", buyer_message="麻烦发顺丰。"), order(3, "refused", buyer_message="不要顺丰，太贵"),
              order(4, "question", merchant_remark="能顺丰吗？"), order(5, "pattern", buyer_message="走SF快递"),
              order(6, "mixed", buyer_message="不要顺丰，换中通", merchant_remark="")]
    plan = plan_with([rule], orders)
    assert {sn: carrier_of(plan, sn) for sn in ("asked", "refused", "question", "pattern", "mixed")} == {
        "asked": "SF", "refused": "ZTO", "question": "ZTO", "pattern": "SF", "mixed": "ZTO"}
    assert "规则“要顺丰”适用：备注/留言中的“麻烦发顺丰”" in plan.trace["asked"]
    assert "规则“要顺丰”适用：备注/留言中的“走SF快递”" in plan.trace["pattern"]
    assert any("但同一句里有 不要顺丰" in line for line in plan.trace["refused"])


def test_plain_keywords_are_found_in_any_clause_whatever_their_width_or_case() -> None:
    """The whole text is checked for plain keywords before it is cut into clauses; what is found must
    be what the clause-by-clause walk finds (full-width, upper case, a later clause, a later order)."""
    rule = Rule("要顺丰", carrier="SF", keywords=("顺丰", "sf"), not_keywords=("不要顺丰",))
    anchored = Rule("只写顺丰", carrier="SF", keywords=("/^顺丰$/",))
    orders = [order(2, "wide", buyer_message="尽快！请走ＳＦ"), order(3, "later", merchant_remark="包装好，发顺丰"),
              order(4, "none", buyer_message="尽快发货，谢谢"), order(5, "refused", buyer_message="不要顺丰，谢谢"),
              order(6, "alone", merchant_remark="加急，顺丰"), order(7, "upper", buyer_message="SF please")]
    plan = plan_with([rule], orders)
    assert {o.order_sn: carrier_of(plan, o.order_sn) for o in orders} == {
        "wide": "SF", "later": "SF", "none": "ZTO", "refused": "ZTO", "alone": "SF", "upper": "SF"}
    assert "规则“要顺丰”适用：备注/留言中的“请走ＳＦ”" in plan.trace["wide"]
    plan = plan_with([anchored], orders)     # an anchored expression matches the clause, not the text
    assert carrier_of(plan, "alone") == "SF" and carrier_of(plan, "later") == "ZTO"


def test_remembered_rule_answers_equal_asking_the_rules_every_time() -> None:
    """Each condition kind, over the sample export's orders: the plan's memo gives the same carrier, rule
    and explain sentences as asking the rules afresh; with the shipped rules it holds far fewer answers
    than it gives."""
    from pddbatch.plan.parcels import choose_carrier
    from pddbatch.plan.rules import RuleMemo, rule_inputs
    from pddbatch.validate import validate_table
    from pddbatch.workbook.headers import alias_table
    from pddbatch.workbook.read import read_table

    rules = (Rule("省", carrier="SF", provinces=("广东",)), Rule("市", carrier="SF", cities=("宁波",)),
             *BASE.rules, Rule("SKU", carrier="SF", skus=("DM-*",)),
             Rule("件数", carrier="SF", quantity=Range(3, None)), Rule("金额", carrier="SF", amount=Range(None, 10)),
             Rule("时限", carrier="YZXB", deadline_within_hours=-100))
    config = replace(BASE, rules=rules)
    assert rule_inputs(rules) == {"province", "city", "text", "skus", "quantity", "amount", "deadline"}
    table = read_table(SAMPLE / "orders.xlsx", alias_table().is_header_row)
    orders = validate_table(table).orders
    assert len(orders) > 200
    memo = RuleMemo(config.rules, config.remote_provinces)
    chosen: set[str] = set()
    for k, o in enumerate(orders * 2):        # the second pass answers from memory
        group = [o, *orders[k % 7:k % 7 + (k % 3)]]
        weight = None if k % 5 == 0 else 100 * (k % 4)
        asked = choose_carrier(group, o.receiver, config, now=NOW, weight_g=weight, deadline=o.promised_ship_at)
        remembered = choose_carrier(group, o.receiver, config, now=NOW, weight_g=weight,
                                    deadline=o.promised_ship_at, memo=memo)
        assert remembered == asked
        chosen.add(asked[0])
    assert len(chosen) >= 2
    assert memo.answers       # (a deadline condition makes nearly every parcel's facts its own)
    # the shipped rules read only the remark/message text and the province: far fewer distinct answers
    shipped = RuleMemo(BASE.rules, BASE.remote_provinces)
    for o in orders:
        shipped.first_match([o], o.receiver, None, o.promised_ship_at, NOW)
    assert rule_inputs(BASE.rules) == {"text", "province"} and len(shipped.answers) < len(orders) // 2
