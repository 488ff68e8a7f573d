"""Property test: any sequence of allocate / void / add keeps the ledger's promises."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pddbatch.ledger import Ledger, LedgerLocation, ParcelRequest

CARRIERS = {"ZTO": "731", "YTO": "YT10"}

request_st = st.tuples(st.sampled_from(sorted(CARRIERS)), st.lists(st.integers(0, 14), min_size=1, max_size=3))
op_st = st.one_of(
    st.tuples(st.just("alloc"), st.lists(request_st, min_size=1, max_size=6)),
    st.tuples(st.just("void"), st.integers(0, 14)),
    st.tuples(st.just("add"), st.sampled_from(sorted(CARRIERS)), st.integers(1, 4)),
)


def build(raw: list[tuple[str, list[int]]]) -> list[ParcelRequest]:
    """Requests with disjoint orders (an order is in one request per call, as plan guarantees)."""
    seen: set[int] = set()
    out: list[ParcelRequest] = []
    for n, (code, orders) in enumerate(raw):
        mine = [o for o in dict.fromkeys(orders) if o not in seen]
        seen.update(mine)
        if mine:
            out.append(ParcelRequest(f"r{n}", code, tuple(f"o{o}" for o in mine)))
    return out


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op_st, max_size=14))
def test_allocation_invariants(new_target: Callable[[], LedgerLocation], ops: list[tuple]) -> None:  # type: ignore[type-arg]
    with Ledger.open(new_target()) as led:
        next_no = {c: 0 for c in CARRIERS}
        added = {c: 0 for c in CARRIERS}
        for c in CARRIERS:                      # small pools so shortages happen
            led.add_range(c, f"{CARRIERS[c]}{0:011d}", 3, "t")
            next_no[c], added[c] = 3, 3
        run = led.begin_run("w")
        holder: dict[str, int] = {}             # tracking number -> the one parcel that ever had it
        current: dict[str, str] = {}            # order -> its live number (model)
        voided_numbers: set[str] = set()
        for op in ops:
            if op[0] == "add":
                _, c, k = op
                led.add_range(c, f"{CARRIERS[c]}{next_no[c]:011d}", k, "t")
                next_no[c] += k
                added[c] += k
            elif op[0] == "void":
                order = f"o{op[1]}"
                gone = led.void(order)
                assert [p.tracking_no for p in gone] == ([current[order]] if order in current else [])
                for p in gone:
                    voided_numbers.add(p.tracking_no)
                    for o in p.order_sns:
                        current.pop(o, None)
            else:
                requests = build(op[1])
                free_before = {s.carrier_code: s.free for s in led.pool_status()}
                alloc = led.allocate(run, requests)
                need: dict[str, int] = {}
                for res in alloc.results:
                    for p in res.parcels:
                        for o in p.order_sns:
                            # orders that had a number keep it; the others get a number nobody had
                            if o in current:
                                assert not p.is_new and p.tracking_no == current[o]
                            else:
                                assert p.is_new
                            current[o] = p.tracking_no
                        assert holder.setdefault(p.tracking_no, p.parcel_id) == p.parcel_id
                        assert p.tracking_no not in voided_numbers
                    if res.short_orders or any(p.is_new for p in res.parcels):
                        code = res.request.carrier_code
                        need[code] = need.get(code, 0) + 1
                        # priority: once a carrier ran short, every later request of it is short too
                        if res.short_orders:
                            assert need[code] > free_before.get(code, 0)
                        else:
                            assert need[code] <= free_before.get(code, 0)
                assert dict(alloc.short) == {c: n - free_before.get(c, 0) for c, n in need.items()
                                             if n > free_before.get(c, 0)}
            assert led.check_integrity() == []
            status = {s.carrier_code: s for s in led.pool_status()}
            for c in CARRIERS:
                assert status[c].total == added[c]
            assert sum(s.used for s in status.values()) == len(set(current.values()))
            assert sum(s.voided for s in status.values()) == len(voided_numbers)
            live = led.existing_for_orders(current)
            assert {o: p.tracking_no for o, p in live.items()} == current
