"""Allocation invariants on a real ledger file: one number, one parcel, ever; reruns change nothing."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from pddbatch.errors import LedgerError
from pddbatch.ledger import Ledger, LedgerLocation, ParcelRequest, PoolStatus
from tests.ledger.ledger_factory import raw_sql, req, sn


def all_parcel_numbers(target: LedgerLocation) -> list[str]:
    return [r[0] for r in raw_sql(target, "SELECT tracking_no FROM parcels")]


def test_numbers_in_pool_order_for_requests_in_priority_order(ledger: Ledger) -> None:
    ledger.add_range("ZTO", "73100000000001", 5, "t")
    ledger.add_range("YTO", "YT1000000000001", 5, "t")
    run = ledger.begin_run("orders.xlsx")
    alloc = ledger.allocate(run, [req("a", 3), req("b", 1, 2), req("c", 4, carrier="YTO"), req("d", 5)])
    assert [r.tracking_no for r in alloc.results] == [
        "73100000000001", "73100000000002", "YT1000000000001", "73100000000003"]
    assert [r.is_new for r in alloc.results] == [True] * 4
    assert alloc.results[1].parcels[0].order_sns == (sn(1), sn(2))
    assert (alloc.new_count, alloc.existing_count, dict(alloc.short)) == (4, 0, {})
    assert ledger.pool_status() == [PoolStatus("YTO", 4, 1, 0), PoolStatus("ZTO", 2, 3, 0)]
    assert ledger.check_integrity() == []


def test_same_requests_again_give_same_numbers_and_allocate_nothing(ledger: Ledger) -> None:
    ledger.add_range("ZTO", "73100000000001", 10, "t")
    requests = [req(i, i) for i in range(6)]
    first = ledger.allocate(ledger.begin_run("w.xlsx"), requests)
    ledger.finish_run(first.run_id, "done", {"allocated": 6})
    second = ledger.allocate(ledger.begin_run("w.xlsx"), requests)
    assert [r.tracking_no for r in second.results] == [r.tracking_no for r in first.results]
    assert second.new_count == 0 and second.existing_count == 6
    assert [r.parcel_id for r in second.results] == [r.parcel_id for r in first.results]
    assert ledger.pool_status() == [PoolStatus("ZTO", 4, 6, 0)]


def test_mixed_request_keeps_old_parcels_and_numbers_the_rest_together(ledger: Ledger) -> None:
    ledger.add_range("ZTO", "73100000000001", 10, "t")
    run = ledger.begin_run("w.xlsx")
    ledger.allocate(run, [req("p1", 1), req("p2", 2)])
    alloc = ledger.allocate(run, [req("merged", 1, 2, 3, 4)])
    (res,) = alloc.results
    assert [(p.tracking_no, p.order_sns, p.is_new) for p in res.parcels] == [
        ("73100000000001", (sn(1),), False),
        ("73100000000002", (sn(2),), False),
        ("73100000000003", (sn(3), sn(4)), True)]
    assert res.parcel_for(sn(4)) is not None and res.parcel_for(sn(4)).tracking_no == "73100000000003"
    assert alloc.by_order()[sn(2)].tracking_no == "73100000000002"
    assert ledger.existing_for_orders([sn(3)])[sn(3)].order_sns == (sn(3), sn(4))


def test_shortage_reported_per_carrier_and_earliest_deadlines_first(ledger: Ledger) -> None:
    ledger.add_range("ZTO", "73100000000001", 3, "t")
    ledger.add_range("YTO", "YT1000000000001", 5, "t")
    deadlines = {"late": 9, "soon": 1, "mid": 5, "later": 12, "next": 3, "yto": 2}
    order_of = {"late": 1, "soon": 2, "mid": 3, "later": 4, "next": 5, "yto": 6}
    # the caller sorts by deadline; the ledger serves the list front to back
    keys = sorted(deadlines, key=deadlines.__getitem__)
    requests = [req(k, order_of[k], carrier="YTO" if k == "yto" else "ZTO") for k in keys]
    alloc = ledger.allocate(ledger.begin_run("w.xlsx"), requests)
    got = {r.request.key: r.tracking_no for r in alloc.results}
    assert got == {"soon": "73100000000001", "yto": "YT1000000000001", "next": "73100000000002",
                   "mid": "73100000000003", "late": "", "later": ""}
    assert dict(alloc.short) == {"ZTO": 2}
    assert [r.request.key for r in alloc.results if r.short] == ["late", "later"]
    assert alloc.results[-1].short_orders == (sn(4),)
    # more numbers arrive: the same workbook again numbers only the short ones
    ledger.add_range("ZTO", "73100000000004", 5, "t")
    again = ledger.allocate(ledger.begin_run("w.xlsx"), requests)
    got2 = {r.request.key: (r.tracking_no, r.is_new) for r in again.results}
    assert got2["soon"] == ("73100000000001", False)
    assert got2["late"] == ("73100000000004", True) and got2["later"] == ("73100000000005", True)
    assert dict(again.short) == {}
    assert ledger.check_integrity() == []


def test_void_then_allocate_gives_new_number_and_old_is_never_reused(ledger: Ledger, ledger_path: LedgerLocation) -> None:
    ledger.add_range("ZTO", "73100000000001", 50, "t")
    run = ledger.begin_run("w.xlsx")
    first = ledger.allocate(run, [req("a", 1, 2), req("b", 3)])
    voided = ledger.void(sn(2))
    assert [(p.tracking_no, p.state, p.order_sns) for p in voided] == [
        ("73100000000001", "voided", (sn(1), sn(2)))]
    assert ledger.existing_for_orders([sn(1), sn(2), sn(3)]).keys() == {sn(3)}
    again = ledger.allocate(run, [req("a", 1, 2), req("b", 3)])
    assert [(r.tracking_no, r.is_new) for r in again.results] == [("73100000000003", True),
                                                                  ("73100000000002", False)]
    # void by tracking number, then drain the pool: the voided numbers never come back
    assert [p.order_sns for p in ledger.void("73100000000003")] == [(sn(1), sn(2))]
    rest = ledger.allocate(run, [req(f"x{i}", 100 + i) for i in range(60)])
    handed = [r.tracking_no for r in rest.results if r.tracking_no]
    assert "73100000000001" not in handed and "73100000000003" not in handed
    assert len(handed) == 47 and dict(rest.short) == {"ZTO": 13}
    numbers = all_parcel_numbers(ledger_path)
    assert len(numbers) == len(set(numbers)) == 50
    assert ledger.pool_status() == [PoolStatus("ZTO", 0, 48, 2)]
    assert first.results[0].tracking_no == "73100000000001"
    assert ledger.void(sn(999)) == [] and ledger.void("73100000000003") == []
    assert ledger.check_integrity() == []


def test_void_by_lower_case_letter_number(ledger: Ledger) -> None:
    ledger.add_range("YTO", "YT1000000000001", 2, "t")
    ledger.allocate(ledger.begin_run("w"), [req("a", 1, carrier="YTO")])
    assert [p.tracking_no for p in ledger.void("yt1000000000001")] == ["YT1000000000001"]


def test_bad_requests_and_runs_are_refused(ledger: Ledger) -> None:
    ledger.add_range("ZTO", "73100000000001", 5, "t")
    run = ledger.begin_run("w")
    with pytest.raises(LedgerError, match="出现在两个包裹中"):
        ledger.allocate(run, [req("a", 1, 2), req("b", 2)])
    with pytest.raises(LedgerError, match="没有订单"):
        ledger.allocate(run, [ParcelRequest("e", "ZTO", ())])
    with pytest.raises(LedgerError, match="没有运行记录 #999"):
        ledger.allocate(999, [req("a", 1)])
    ledger.finish_run(run, "done", {})
    with pytest.raises(LedgerError, match="已结束"):
        ledger.allocate(run, [req("a", 1)])
    assert ledger.pool_status() == [PoolStatus("ZTO", 5, 0, 0)]     # nothing half-done


def test_render_reprint_and_lookup(ledger: Ledger) -> None:
    ledger.add_range("ZTO", "73100000000001", 5, "t")
    run = ledger.begin_run("w.xlsx")
    alloc = ledger.allocate(run, [req("a", 1), req("b", 2, 3)], workbook="w.xlsx")
    ids = [r.parcel_id for r in alloc.results]
    assert [p.id for p in ledger.unrendered_for_orders([sn(1), sn(2), sn(3)])] == ids
    ledger.mark_rendered([ids[0]], run)
    assert [p.id for p in ledger.unrendered_for_orders([sn(1), sn(2)])] == [ids[1]]
    recs = ledger.parcels_for_run(run)
    assert [(p.key, p.order_sns, p.rendered_run_id, p.workbook) for p in recs] == [
        ("a", (sn(1),), run, "w.xlsx"), ("b", (sn(2), sn(3)), None, "w.xlsx")]
    found = ledger.find_parcels([sn(3), "73100000000001", "nothing"])
    assert [p.tracking_no for p in found] == ["73100000000001", "73100000000002"]
    ledger.record_reprint([ids[1]], run)
    ledger.record_reprint([ids[1]])
    assert ledger.reprint_count(ids[1]) == 2
    ledger.void(sn(1))
    assert ledger.find_parcels([sn(1)]) == []
    assert [p.state for p in ledger.find_parcels([sn(1)], live_only=False)] == ["voided"]
    ledger.finish_run(run, "done", {"allocated": 2, "备注": "ok"})
    rec = ledger.run(run)
    assert (rec.status, rec.summary, rec.workbook) == ("done", {"allocated": 2, "备注": "ok"}, "w.xlsx")


def test_integrity_check_catches_each_broken_invariant(ledger: Ledger, ledger_path: LedgerLocation) -> None:
    ledger.add_range("ZTO", "73100000000001", 5, "t")
    ledger.allocate(ledger.begin_run("w"), [req("a", 1), req("b", 2)])
    assert ledger.check_integrity() == []
    raw_sql(ledger_path, "UPDATE numbers SET state = 'used' WHERE number = '73100000000005'")     # half-used
    raw_sql(ledger_path, "UPDATE numbers SET state = 'free' WHERE number = '73100000000001'")     # reusable!
    raw_sql(ledger_path, "UPDATE parcel_orders SET live = NULL WHERE order_sn = ?", (sn(2),))      # orphan parcel
    problems = ledger.check_integrity()
    assert problems == [
        "1 个有效包裹没有订单：包裹 #2",
        "1 条订单-包裹记录与包裹状态不一致：2:260517-000000000000002",
        "1 个单号标记为已用，但没有有效包裹（半用状态）：73100000000005",
        "1 个包裹的单号状态不对（有效包裹应为已用、作废包裹应为作废）：73100000000001",
    ]
    assert ledger.check_integrity(lang="en")[0] == "1 live parcels have no orders: parcel #2"


def test_abandoned_runs_are_warned_about_and_closed(ledger: Ledger, ledger_path: LedgerLocation) -> None:
    old = (datetime.now().astimezone() - timedelta(hours=2)).isoformat(timespec="seconds")
    # pid 2**22 + 7 is above Linux's pid_max default range: a process that cannot exist
    raw_sql(ledger_path, "INSERT INTO runs (workbook, started_at, status, pid, host) VALUES ('old.xlsx', ?, "
            "'running', ?, 'elsewhere')", (old, 2**22 + 7))
    rep = ledger.integrity_report()
    assert rep.ok and len(rep.warnings) == 1 and "一直未结束" in rep.warnings[0]
    assert ledger.integrity_report(stale_after=timedelta(hours=3)).warnings == ()


def test_allocating_100k_requests_in_one_call(ledger: Ledger, backend: str, request: pytest.FixtureRequest) -> None:
    """100k one-order parcels in one call, and the same call again allocates nothing new.

    Speed is measured in benchmarks/bench_ledger.py (timings printed here are information, not a
    pass/fail bar); on PostgreSQL this runs with `-m slow`.
    """
    if backend == "postgresql" and "slow" not in (request.config.getoption("-m") or ""):
        pytest.skip("100k on PostgreSQL runs with -m slow (and in benchmarks/bench_ledger.py)")
    ledger.add_range("ZTO", "73100000000001", 100_000, "t")
    run = ledger.begin_run("big.xlsx")
    requests = [ParcelRequest(f"k{i}", "ZTO", (sn(i),)) for i in range(100_000)]
    wall, cpu = time.perf_counter(), time.process_time()
    alloc = ledger.allocate(run, requests)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall2, cpu2 = time.perf_counter(), time.process_time()
    again = ledger.allocate(run, requests)
    wall2, cpu2 = time.perf_counter() - wall2, time.process_time() - cpu2
    print(f"allocate 100k: new {wall:.2f} s wall / {cpu:.2f} s cpu; rerun {wall2:.2f} s wall / {cpu2:.2f} s cpu")
    assert alloc.new_count == 100_000
    assert again.existing_count == 100_000 and again.new_count == 0


def test_lookups_on_a_ledger_without_parcels_and_on_one_whose_parcels_are_all_voided(ledger: Ledger) -> None:
    """A first run's lookups find nothing (they return at once: no parcel was ever recorded); once a
    parcel exists — voided or not — they look, and find it."""
    assert ledger.existing_for_orders([sn(1), sn(2)]) == {}
    assert ledger.find_parcels([sn(1)], live_only=False) == []
    ledger.add_range("ZTO", "73100000000001", 5, "t")
    run = ledger.begin_run("w.xlsx")
    first = ledger.allocate(run, [req("a", 1, 2)])
    assert [r.tracking_no for r in first.results] == ["73100000000001"]
    assert set(ledger.existing_for_orders([sn(1), sn(2), sn(3)])) == {sn(1), sn(2)}
    (voided,) = ledger.void(sn(1))
    assert ledger.existing_for_orders([sn(1), sn(2)]) == {}
    (found,) = ledger.find_parcels([sn(2)], live_only=False)
    assert (found.id, found.state, found.tracking_no) == (voided.id, "voided", "73100000000001")
    again = ledger.allocate(run, [req("a", 1, 2)])       # the voided parcel's orders get a new number
    assert [(r.tracking_no, r.is_new) for r in again.results] == [("73100000000002", True)]
    kept = ledger.allocate(run, [req("a", 1, 2)])        # and keep it
    assert [(r.tracking_no, r.is_new) for r in kept.results] == [("73100000000002", False)]
