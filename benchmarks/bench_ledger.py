"""Ledger speed: 100,000 allocations in one call on SQLite and on PostgreSQL over local TCP.

    python benchmarks/bench_ledger.py [N]            # starts a throwaway PostgreSQL (tests/ledger/pg.py)
    PDDBATCH_BENCH_PG_URL=postgresql://… python benchmarks/bench_ledger.py   # or use a server you have

Prints wall time for: adding N numbers to a pool, allocating N one-order parcels in one call (new
numbers), the same call again (a rerun: nothing new), and voiding one parcel.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ledger"))

from pddbatch.ledger import Ledger, LedgerLocation, ParcelRequest  # noqa: E402


def bench(target: LedgerLocation, n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with Ledger.open(target) as led:
        t = time.perf_counter()
        led.add_range("ZTO", "73100000000001", n, "bench")
        out["pool add"] = time.perf_counter() - t
        run = led.begin_run("bench.xlsx")
        requests = [ParcelRequest(f"k{i}", "ZTO", (f"260517-{i:015d}",)) for i in range(n)]
        t = time.perf_counter()
        alloc = led.allocate(run, requests, "bench.xlsx")
        out["allocate (new)"] = time.perf_counter() - t
        assert alloc.new_count == n
        t = time.perf_counter()
        again = led.allocate(run, requests, "bench.xlsx")
        out["allocate (rerun)"] = time.perf_counter() - t
        assert again.new_count == 0 and again.existing_count == n
        t = time.perf_counter()
        led.void("260517-000000000000007")
        out["void"] = time.perf_counter() - t
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = bench(Path(tmp) / "ledger.sqlite", n)
    url = os.environ.get("PDDBATCH_BENCH_PG_URL")
    server = None
    if not url:
        from pg import PgServer, find_bin

        bindir = find_bin()
        if bindir is None:
            print("PostgreSQL binaries not found: SQLite only")
        else:
            server = PgServer(bindir)
            server.start()
            server.setup_app_user()
            url = server.create_database("bench")
    try:
        if url:
            results["PostgreSQL (TCP)"] = bench(url, n)
    finally:
        if server is not None:
            server.destroy()
    steps = list(next(iter(results.values())))
    print(f"{n:,} allocations, one call each; wall seconds")
    print(f"{'step':<18}" + "".join(f"{k:>18}" for k in results))
    for step in steps:
        print(f"{step:<18}" + "".join(f"{r[step]:>18.2f}" for r in results.values()))


if __name__ == "__main__":
    main()
