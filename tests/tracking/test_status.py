"""The keyword table (schemas/tracking_keywords.json) on texts as carriers really write them, and codes."""

from __future__ import annotations

import pytest

from pddbatch.tracking.status import (
    Status,
    event_status,
    status_from_code,
    status_from_name,
    status_from_text,
)

TEXTS = [
    ("【杭州市】浙江省杭州市余杭区仓前公司 已揽收", Status.PICKED_UP),
    ("您的快件已由【杭州仓前】收件员 李四 揽件", Status.PICKED_UP),
    ("顺丰速运 已收取快件", Status.PICKED_UP),
    ("【中国邮政】杭州市邮政分公司 已收寄", Status.PICKED_UP),
    ("商家已下单，等待快递员上门揽收", Status.PENDING),
    ("快件离开【杭州中转部】 已发往【广州中转部】", Status.IN_TRANSIT),
    ("快件已到达【广州转运中心】", Status.IN_TRANSIT),
    ("快件在【深圳分拨中心】装车，正发往【宝安区】", Status.IN_TRANSIT),
    ("【广州市】天河五山 快递员 王师傅（138****6666）正在派件", Status.DELIVERING),
    ("快件已暂存至【天河五山菜鸟驿站】，请凭取件码 3-2-1008 及时取件", Status.DELIVERING),
    ("您的快件已放入丰巢智能快递柜", Status.DELIVERING),
    ("快件已签收，签收人：本人。如有疑问请联系派件员", Status.DELIVERED),
    ("您的快件已被代签收（门卫），感谢使用中通快递", Status.DELIVERED),
    ("已妥投", Status.DELIVERED),
    ("快递员正在派件，请保持电话畅通，准备签收", Status.DELIVERING),
    ("收件人拒收，原因：不想要了", Status.REFUSED),
    ("客户拒绝签收", Status.REFUSED),
    ("收件人拒收，快件正在退回寄件人", Status.RETURNING),
    ("快件已办理退件，正在退回", Status.RETURNING),
    ("退回件已签收，签收人：寄件人（商家）", Status.RETURNED),
    ("派件异常：收件地址不详，无法联系收件人", Status.PROBLEM),
    ("快件滞留在【天河五山】，原因：超区", Status.PROBLEM),
    ("超时未签收", Status.PROBLEM),
    ("某某网点 扫描", Status.IN_TRANSIT),         # a scan no rule knows: still on its way
]


@pytest.mark.parametrize(("text", "status"), TEXTS)
def test_keyword_table(text: str, status: Status) -> None:
    assert status_from_text(text) is status


def test_every_status_has_a_rule_and_a_name() -> None:
    assert {s for _, s in TEXTS} == set(Status)
    assert [s.text() for s in Status] == ["待揽收", "已揽收", "运输中", "派件中", "已签收", "拒收", "退回中",
                                          "退回签收", "疑难"]
    assert Status.RETURNED.text("en") == "returned to sender"


@pytest.mark.parametrize(("code", "status"), [
    ("0", Status.IN_TRANSIT), ("1", Status.PICKED_UP), ("2", Status.PROBLEM), ("3", Status.DELIVERED),
    ("4", Status.RETURNED), ("5", Status.DELIVERING), ("6", Status.RETURNING), ("7", Status.IN_TRANSIT),
    ("14", Status.REFUSED), ("10", Status.PENDING), ("201", Status.IN_TRANSIT), ("202", Status.DELIVERING),
    ("211", Status.DELIVERING), ("301", Status.DELIVERED), ("401", Status.PROBLEM), ("402", Status.PROBLEM),
    ("404", Status.REFUSED), (3, Status.DELIVERED), ("3.0", Status.DELIVERED),
    ("309", Status.DELIVERED),      # a sub-state the table doesn't list: its family (3 签收)
])
def test_kuaidi100_codes(code: str | int, status: Status) -> None:
    assert status_from_code(code) is status


def test_code_beats_name_beats_text() -> None:
    assert status_from_code("99") is None and status_from_code(None) is None
    assert status_from_name(" 在 途 ") is Status.IN_TRANSIT and status_from_name("别的") is None
    assert event_status("快件已签收", code="14") is Status.REFUSED
    assert event_status("快件已签收", name="拒签") is Status.REFUSED
    assert event_status("快件已签收", name="不认识") is Status.DELIVERED
