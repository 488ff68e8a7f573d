"""The 快递100 provider against a local stand-in that checks the signature as documented."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pddbatch.cli import main
from pddbatch.tracking.kuaidi100 import Kuaidi100, sign
from pddbatch.tracking.provider import LiveQuery, TrackingServiceError, query_phone
from pddbatch.tracking.status import Status
from tests.tracking.eventgen import kuaidi100_answer, story_events
from tests.tracking.shop import ISSUED, NOW, shipped_parcels
from tests.tracking.standin import StandIn, running

SF = "SF1023574470215"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    s = StandIn()
    events = story_events(SF, "delivered", ISSUED, None, NOW)
    s.answers[SF] = kuaidi100_answer(SF, "shunfeng", events)
    s.phones[SF] = "1234"
    with running(s):
        yield s


def _provider(s: StandIn, **kw: object) -> Kuaidi100:
    return Kuaidi100(s.customer, s.key, s.url, **kw)  # type: ignore[arg-type]


def test_signature_and_a_full_answer(standin: StandIn) -> None:
    k = _provider(standin)
    body = urllib.parse.parse_qs(k.request_body(LiveQuery(SF, "SF", "13812345678-1234")).decode())
    param = body["param"][0]
    assert json.loads(param) == {"com": "shunfeng", "num": SF, "phone": "1234", "from": "", "to": "", "resultv2": "1"}
    assert body["sign"][0] == hashlib.md5((param + standin.key + standin.customer).encode()).hexdigest().upper()
    assert sign("p", "k", "c") == hashlib.md5(b"pkc").hexdigest().upper()
    answer = k.query(LiveQuery(SF, "SF", "13812345678-1234"))
    assert answer.ok and [e.status for e in answer.events][0] is Status.DELIVERED
    assert {e.source for e in answer.events} == {"kuaidi100"} and len(answer.events) == 5


def test_phone_digits(standin: StandIn) -> None:
    assert (query_phone("13812345678"), query_phone("13800138000-1234"), query_phone("【5678】"),
            query_phone("138****4321")) == ("5678", "1234", "5678", "4321")
    wrong = _provider(standin).query(LiveQuery(SF, "SF", "13812345678"))
    assert wrong.error == "phone-check" and "后四位" in wrong.message


def test_bad_key_and_no_balance_stop_everything(standin: StandIn) -> None:
    with pytest.raises(TrackingServiceError) as info:
        Kuaidi100(standin.customer, "wrong", standin.url).query(LiveQuery(SF, "SF", "1234"))
    assert "customer 或 key 不对" in info.value.message and "503" in info.value.message
    assert "wrong customer or key" in info.value.message_en
    standin.balance = 0
    with pytest.raises(TrackingServiceError, match="余额不足"):
        _provider(standin).query(LiveQuery(SF, "SF", "1234"))


def test_unknown_number_unknown_carrier_and_partial_answers(standin: StandIn) -> None:
    k = _provider(standin)
    unknown = k.query(LiveQuery("73100000000001", "ZTO", "5678"), "en")
    assert unknown.error == "unknown-number" and "knows nothing about 73100000000001" in unknown.message
    assert k.query(LiveQuery("X1", "NOPE", "")).error == "bad-request"
    standin.answers["73100000000002"] = {
        "message": "ok", "nu": "73100000000002", "com": "zhongtong", "status": "200", "state": "0",
        "data": [{"time": "2026-11-27 10:00:00", "context": "快件已发往 广州"}, {"context": "no time"},
                 {"time": "2026-11-26 12:00:00", "context": "已揽收"}]}
    part = k.query(LiveQuery("73100000000002", "ZTO", "5678"))
    assert part.ok and [e.status for e in part.events] == [Status.IN_TRANSIT, Status.PICKED_UP]
    standin.answers["73100000000003"] = standin.answers["73100000000002"]
    standin.cut.add("73100000000003")
    cut = k.query(LiveQuery("73100000000003", "ZTO", "5678"))
    assert cut.error == "bad-answer" and "不完整" in cut.message


def test_time_out(standin: StandIn) -> None:
    standin.slow.add(SF)
    t0 = time.perf_counter()
    answer = _provider(standin, timeout=0.3).query(LiveQuery(SF, "SF", "1234"))
    assert answer.error == "timeout" and "超时" in answer.message
    assert time.perf_counter() - t0 < 0.9


# ---- through `pddbatch track --live`: throttling remembered across runs ---------------------------

def _configure(shop: Path, s: StandIn, timeout: float = 5) -> None:
    cfg = shop / "pddbatch.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + f'\n[tracking.kuaidi100]\ncustomer = "{s.customer}"\n'
                   f'key = "{s.key}"\nurl = "{s.url}"\ntimeout_seconds = {timeout}\n', encoding="utf-8")


def _live(shop: Path, at: str) -> tuple[int, dict[str, object]]:
    res = CliRunner().invoke(main, ["track", str(shop / "orders.xlsx"), "--live", "--now", at, "--json"])
    assert res.exit_code in (0, 1), res.output
    return res.exit_code, json.loads(res.output)


def test_live_track_remembers_asks_across_runs(shop: Path) -> None:
    parcels = shipped_parcels(shop)
    s = StandIn()
    delivered = [p for p in parcels if p.carrier == "ZTO"][:5]
    for p in delivered:
        s.answers[p.tracking_no] = kuaidi100_answer(p.tracking_no, "zhongtong",
                                                    story_events(p.tracking_no, "delivered", ISSUED, p.promised, NOW))
    virtual = next(p for p in parcels if "-" in p.phone)
    with running(s):
        _configure(shop, s)
        _, first = _live(shop, "2026-11-29 12:00:00")
        live = first["live"]
        assert isinstance(live, dict)
        assert live["asked"] == len(parcels) and live["answered"] == 5 and live["throttled"] == 0
        assert sum(1 for f in live["failed"].values() if f == "unknown-number") == len(parcels) - 5
        assert first["by_status"]["delivered"] == 5                 # type: ignore[index]
        assert first["events_added"] == 0 and live["events_added"] == 25
        asked_phone = {r["num"]: r["phone"] for r in s.requests}
        assert asked_phone[virtual.tracking_no] == virtual.phone.split("-")[1]

        n = len(s.requests)
        _, second = _live(shop, "2026-11-29 12:10:00")   # 10 minutes later: nobody (delivered ones never)
        assert len(s.requests) == n and second["live"]["throttled"] == len(parcels) - 5  # type: ignore[index]
        assert second["by_status"]["delivered"] == 5               # type: ignore[index]

        _, third = _live(shop, "2026-11-29 12:31:00")             # 31 minutes later: all but the delivered
        assert third["live"]["asked"] == len(parcels) - 5          # type: ignore[index]
        assert len(s.requests) == n + len(parcels) - 5


def test_live_track_stops_after_time_outs_and_on_a_bad_key(shop: Path) -> None:
    parcels = shipped_parcels(shop)
    s = StandIn(delay=0.6)
    s.slow = {p.tracking_no for p in parcels}
    for p in parcels:
        s.answers[p.tracking_no] = kuaidi100_answer(p.tracking_no, "zhongtong", [])
    with running(s):
        _configure(shop, s, timeout=0.2)
        code, res = _live(shop, "2026-11-29 12:00:00")
        live = res["live"]
        assert isinstance(live, dict) and live["asked"] == 3 and "连续 3 次查询超时" in str(live["stopped"])
        assert code == 1
        _, again = _live(shop, "2026-11-29 12:05:00")             # the three are remembered
        assert again["live"]["throttled"] == 3                     # type: ignore[index]
        s.key = "rotated"
        res2 = CliRunner().invoke(main, ["track", str(shop / "orders.xlsx"), "--live", "--now",
                                         str(NOW + timedelta(hours=2)), "--json"])
        assert res2.exit_code == 2 and "customer 或 key 不对" in res2.output
