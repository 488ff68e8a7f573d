"""A real process allocating from a shared ledger, for the concurrency and crash tests.

    python ledger_worker.py LEDGER TAG BATCHES SIZE [VOID_EVERY [GO_FILE]]

Prints `ready` (then waits for GO_FILE to exist, when given, so that workers start together), then after each committed allocation one `A order_sn tracking_no` line per
numbered order, and `V order_sn` after each committed void; flushes after every transaction.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pddbatch.ledger import Ledger, ParcelRequest
from pddbatch.ledger.location import from_setting


def requests_for(tag: str, batch: int, size: int) -> list[ParcelRequest]:
    """The requests a worker sends in `batch`; every few parcels merge two orders."""
    out: list[ParcelRequest] = []
    for i in range(size):
        orders = (f"{tag}-{batch:04d}-{i:05d}",)
        if i % 7 == 0:
            orders += (f"{tag}-{batch:04d}-{i:05d}m",)
        out.append(ParcelRequest(f"{tag}-{batch}-{i}", "ZTO", orders))
    return out


def main(argv: list[str]) -> None:
    path, tag, batches, size = from_setting(argv[0]), argv[1], int(argv[2]), int(argv[3])
    void_every = int(argv[4]) if len(argv) > 4 else 0
    go = Path(argv[5]) if len(argv) > 5 else None
    out = sys.stdout
    with Ledger.open(path) as led:
        run = led.begin_run(f"{tag}.xlsx")
        out.write("ready\n")
        out.flush()
        while go is not None and not go.exists():
            time.sleep(0.005)
        for b in range(batches):
            alloc = led.allocate(run, requests_for(tag, b, size))
            out.write("".join(f"A {o} {p.tracking_no}\n" for r in alloc.results for p in r.parcels
                              for o in p.order_sns))
            out.flush()
            if go is not None:
                # other work between allocations (rendering, saving); without it SQLite's busy
                # back-off lets one process take every turn and the two runs never interleave
                time.sleep(0.01)
            if void_every and b % void_every == void_every - 1:
                victim = requests_for(tag, b, size)[b % size].order_sns[0]
                led.void(victim)
                out.write(f"V {victim}\n")
                out.flush()
        led.finish_run(run, "done", {"batches": batches})
    out.write("done\n")
    out.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
