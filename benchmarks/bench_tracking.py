"""Benchmark `track`: import 100,000 tracking events and update the workbook for 20,000 parcels.

    python benchmarks/bench_tracking.py [--parcels 20000] [--events-per-parcel 5] [--keep DIR]

Builds (in a child process, so its memory does not count) a 20,000-row sample export, a ledger
with one parcel per order, and a carrier export (.xlsx) with 5 scans per parcel; then runs
`pddbatch.pipeline.track` twice: the first run stores every event and writes 物流状态 / 最新轨迹
(with alert fills) into the workbook and tracking.xlsx; the second imports the same file again
(nothing new) and must find nothing to change in the workbook. Prints seconds per stage and peak
RSS. Target on the 2-core reference machine: first run < 10 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 29, 12, 0)
ISSUED = datetime(2026, 11, 26, 9, 0)
TEXTS = ["【杭州市】仓前网点 已揽收", "快件离开【杭州中转部】 已发往【{city}中转部】", "快件已到达【{city}中转部】",
         "【{city}】快递员 王师傅 正在派件", "快件已签收，签收人：本人。如有疑问请联系派件员"]
CITIES = ["广州", "成都", "沈阳", "武汉", "西安", "昆明", "南京", "长沙"]


def build(folder: Path, parcels: int, per: int) -> None:
    import xlsxwriter

    spec = importlib.util.spec_from_file_location("gen", ROOT / "sample_data" / "generate.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    rows = list(gen.iter_orders(parcels, 7))
    gen.write_xlsx(rows, folder / "orders.xlsx")
    (folder / "pddbatch.toml").write_text((ROOT / "sample_data" / "pddbatch.toml").read_text(encoding="utf-8")
                                          .split("[[pools.import]]")[0], encoding="utf-8")
    from pddbatch.ledger import Ledger, ParcelRequest

    sns = [str(r["订单号"]).strip() for r in rows]
    with Ledger.open(folder / "pddbatch-ledger.sqlite") as led:
        led.add_range("ZTO", "73100000000001", len(sns), "bench")
        run = led.begin_run(str(folder / "orders.xlsx"))
        alloc = led.allocate(run, [ParcelRequest(f"P{i}", "ZTO", (sn,)) for i, sn in enumerate(sns)])
        led.finish_run(run, "done", {})
        numbers = [r.parcels[0].tracking_no for r in alloc.results]
        with led.database.transaction():     # issued a day ago, so the pickup alerts have something to say
            led.database.execute("UPDATE parcels SET created_at = ?", (ISSUED.isoformat() + "+08:00",))
    rnd = random.Random(11)
    wb = xlsxwriter.Workbook(str(folder / "中通轨迹.xlsx"), {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("轨迹")
    ws.write_row(0, 0, ["运单号", "扫描时间", "扫描类型", "轨迹描述"])
    r = 1
    for n in numbers:
        t = ISSUED + timedelta(hours=rnd.uniform(1, 20))
        steps = rnd.choice([per, per, per, per - 1, per - 2])    # most delivered, some still moving
        for i in range(per):
            if i >= steps:    # keep the event count exact: extra scans of the last step
                i = steps - 1
            ws.write_row(r, 0, [n, t.strftime("%Y-%m-%d %H:%M:%S"), "",
                                TEXTS[i].format(city=rnd.choice(CITIES))])
            t += timedelta(hours=rnd.uniform(2, 14))
            r += 1
    wb.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=20_000)
    ap.add_argument("--events-per-parcel", type=int, default=5)
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--build-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_only is not None:
        build(args.build_only, args.parcels, args.events_per_parcel)
        return
    from pddbatch.pipeline.tracking import TrackOptions, track

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-tracking-"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--parcels", str(args.parcels), "--events-per-parcel",
                    str(args.events_per_parcel), "--build-only", str(folder)], check=True)
    print(f"built {args.parcels:,} parcels, {args.parcels * args.events_per_parcel:,} events in "
          f"{time.perf_counter() - t0:.1f} s ({folder})")
    opts = TrackOptions(events=(folder / "中通轨迹.xlsx",), now=NOW)
    for label in ("first run", "re-import"):
        t1, c1 = time.perf_counter(), time.process_time()
        res = track(folder / "orders.xlsx", opts)
        took, cpu = time.perf_counter() - t1, time.process_time() - c1
        stages = ", ".join(f"{k} {v:.2f}" for k, v in res.timings.items())
        print(f"{label}: {took:.2f} s wall, {cpu:.2f} s CPU — {res.parcels:,} parcels, {res.events_read:,} events read, "
              f"{res.events_added:,} new, {res.alerted:,} alerts, backup {'yes' if res.backup else 'no'} ({stages})")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(wall time stretches with the load, CPU time much less)")


if __name__ == "__main__":
    main()
