"""Render 10,000 and 100,000 labels; print pages/s, CPU time and peak RSS.

Run: python benchmarks/bench_labels.py [--zpl | --both] [--workers N] [N ...]. `--zpl` writes ZPL
(glyph graphics) instead of PDF; `--both` measures PDF alone, ZPL alone, and the two files drawn
together from one layout per label (what `process` does when ZPL is on). Wall-clock pages/s depends on what else the machine
runs; pages per CPU-second does not (two idle cores give about twice that, minus the parent's share).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from pddbatch.carriers import carrier
from pddbatch.model import Order, Parcel, Receiver
from pddbatch.render.labels import render_label_files
from pddbatch.render.settings import RenderSettings

CITIES = [("浙江省", "杭州市", "西湖区"), ("广东省", "深圳市", "南山区"), ("上海市", "上海市", "浦东新区"),
          ("四川省", "成都市", "武侯区"), ("新疆维吾尔自治区", "乌鲁木齐市", "天山区")]


def parcels(n: int) -> list[Parcel]:
    zto = carrier("ZTO")
    out = []
    for i in range(n):
        prov, city, dist = CITIES[i % len(CITIES)]
        r = Receiver(f"王小{'明红刚丽'[i % 4]}{i % 97}", f"139{i % 100000000:08d}", prov, city, dist,
                     "某某街道", f"幸福路{i % 500}号{i % 30}栋{i % 9}单元{100 + i % 700}室")
        o = Order(i + 2, f"260517-{600000000000000 + i}", "待发货", "无售后或售后取消", "纯棉短袖T恤",
                  "白色 XL", f"TS-{i % 40:03d}", 1 + i % 3, r, merchant_remark="加急" if i % 7 == 0 else "")
        out.append(Parcel(f"P{i}", (o,), zto, r, f"73{i:012d}", weight_g=300 + i % 900,
                          promised_ship_at=datetime(2026, 5, 19)))
    return out


def main() -> None:
    args = sys.argv[1:]
    kinds = ["zpl"] if "--zpl" in args else ["pdf", "zpl", "pdf+zpl"] if "--both" in args else ["pdf"]
    workers = 0
    if "--workers" in args:
        workers = int(args[args.index("--workers") + 1])
        del args[args.index("--workers"):args.index("--workers") + 2]
    sizes = [int(a) for a in args if not a.startswith("--")] or [10_000, 100_000]
    settings = RenderSettings(shop_name="基准店", sender_name="仓库", sender_phone="0571-88886666",
                              sender_address="浙江省杭州市余杭区仓前街道 8 号", workers=workers)
    render_label_files(parcels(10), settings, pdf=Path(tempfile.gettempdir()) / "bench-warm.pdf")  # font cache
    for n in sizes:
        ps = parcels(n)
        for kind in kinds:
            with tempfile.TemporaryDirectory() as d:
                paths = {k: Path(d) / f"labels.{k}" for k in kind.split("+")}
                cpu0 = _cpu()
                t = time.perf_counter()
                pages, _ = render_label_files(ps, settings, pdf=paths.get("pdf"), zpl=paths.get("zpl"))
                dt = time.perf_counter() - t
                cpu = _cpu() - cpu0
                size = sum(path.stat().st_size for path in paths.values())
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"{kind.upper():>7} {pages:>7} labels  {dt:6.2f} s  {pages / dt:8.0f} pages/s  {size / 1e6:7.1f} MB  "
                  f"CPU {cpu:6.2f} s ({pages / cpu:6.0f} pages per CPU-second; load-independent)  "
                  f"peak RSS parent {peak:.0f} MB, largest worker {kids:.0f} MB", flush=True)


def _cpu() -> float:
    """User+system CPU seconds of this process and its finished children (workers)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


if __name__ == "__main__":
    main()
