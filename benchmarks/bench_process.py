"""End-to-end speed of `pddbatch process` on the shipped configuration, the naive stack beside it.

    python benchmarks/bench_process.py                        # 1,000 / 10,000 / 50,000 / 100,000 orders
    python benchmarks/bench_process.py --sizes 50000 --all-ship
    python benchmarks/bench_process.py --no-zpl --no-packing-slips --no-baseline
    nice -n -5 python benchmarks/bench_process.py ...         # on a shared machine

Configuration: sample_data/pddbatch.toml as shipped (what sellers copy): labels PDF, ZPL, packing
slips, pick list, manifest (xlsx + a PDF per carrier), PDD bulk-ship file, write-back into the
workbook. `--no-zpl` / `--no-packing-slips` switch documents off; the output says which were on.

Exports, made by the sample-data generator (no planted faults):
- usual mix (default): the generator's status mix — about 72% to ship, the rest refunded, shipped
  already, cancelled or in after-sales, and ~8% repeat buyers merged into one parcel;
- `--all-ship`: a big-promotion day — every order 待发货 with no after-sales and its own recipient,
  so one label per order.

A small untimed run comes first (a first run on a machine prepares the label font once). For each
size: `pddbatch process --json` in a fresh interpreter (start-up included): wall seconds, CPU seconds
of the whole process tree (what a busy machine can't hide), idle core-seconds (cores x wall - CPU: time a
core had nothing of the run to do), orders/s, per-stage seconds, peak RSS of the largest process and the peak summed PSS of the process
tree (main process, label workers, write-back child; sampled once a second). Then, on the same file in
the same run, the naive stack: openpyxl full load -> jsonschema per row -> three cells written per
row -> openpyxl save (no labels, no documents at all), and the ratio naive / pddbatch.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
CLI = "from pddbatch.cli import run; run()"   # what the `pddbatch` script runs


def _deflate_engine() -> str:
    """Which library the runs deflate with (ISA-L when the `isal` wheel is installed, else zlib)."""
    from pddbatch.deflate import engine

    return engine(1)


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen", SAMPLE / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def all_ship(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every order to ship, each to its own recipient (no merges, no holds): one label per order."""
    seen: set[tuple[str, str, str]] = set()
    for i, r in enumerate(rows):
        r.update({"订单状态": "待发货", "售后状态": "无售后或售后取消", "快递单号": "", "快递公司": "", "发货时间": ""})
        if "同城仓" in r["商家备注"]:
            r["商家备注"] = ""
        key = (r["收货人"], r["手机"], r["详细地址"])
        if key in seen:   # a repeat buyer: another person at the same address would still merge
            r["手机"] = f"13{i:09d}"
            r["收货人"] = r["收货人"].split("[")[0]
            r["详细地址"] = r["详细地址"].split("[")[0]
        seen.add((r["收货人"], r["手机"], r["详细地址"]))
    return rows


def setup(folder: Path, rows: int, *, ship_all: bool, zpl: bool, slips: bool) -> Path:
    gen = _generator()
    data = list(gen.iter_orders(rows, seed=7))
    if ship_all:
        data = all_ship(data)
    book = folder / "orders.xlsx"
    gen.write_xlsx(data, book, side_tables=False)
    config = (SAMPLE / "pddbatch.toml").read_text(encoding="utf-8")
    config = config.split("[[pools.import]]")[0] + config[config.index("[labels]"):]   # pools added below
    assert "zpl = true" in config and "packing_slips = true" in config
    config = config.replace("zpl = true", f"zpl = {str(zpl).lower()}")
    config = config.replace("packing_slips = true", f"packing_slips = {str(slips).lower()}")
    (folder / "pddbatch.toml").write_text(config, encoding="utf-8")
    for carrier, start in (("ZTO", "73100000000001"), ("YZXB", "9800000000001"), ("SF", "SF1000000000001")):
        subprocess.run([sys.executable, "-c", CLI, "pool", "add", "--carrier", carrier, "--start", start,
                        "--count", str(rows + 10), "--ledger", str(folder / "pddbatch-ledger.sqlite")],
                       check=True, capture_output=True)
    return book


PSS_EVERY = 1.0    # seconds between samples of the tree's PSS (see run_measured)


def _children(pid: int) -> list[int]:
    """`pid`'s child processes, from each of its threads' children lists (no scan of all /proc)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return out


def _tree_pss_kb(root: int) -> int:
    """Summed PSS of `root` and its descendants (shared pages of forked workers counted once)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += _children(pid)
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def run_measured(cmd: list[str]) -> tuple[float, float, float, float, str, str]:
    """Run `cmd`: (wall s, CPU s of its whole process tree, peak RSS MB of its largest process,
    peak tree PSS MB, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        peak = [0]
        done = threading.Event()

        # Reading smaps_rollup walks a process's page tables: every 0.2 s over a 4-process tree it took
        # ~24% of a core from the run being measured (a 50,000-order all-ship run: 43.6 s sampled, about
        # 37.5 s not). Once a second costs a fifth of that; PSS moves over seconds, not fractions.
        def sample() -> None:
            while not done.wait(PSS_EVERY):
                if os.path.isdir("/proc"):
                    peak[0] = max(peak[0], _tree_pss_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[3:5]} failed ({proc.returncode}): {stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, peak[0] / 1024, stdout, stderr


BASELINE = r'''
import json, sys, time
t0 = time.perf_counter()
import openpyxl, jsonschema
from pddbatch.resources import load_json
book = sys.argv[1]
wb = openpyxl.load_workbook(book)
ws = wb.worksheets[0]
rows = list(ws.iter_rows(values_only=True))
head = [str(h).strip() if h else "" for h in rows[0]]
t1 = time.perf_counter()
v = jsonschema.Draft202012Validator(load_json("order.schema.json"))
# the same row dict pddbatch validates: every known column, by the same header aliases
from pddbatch.workbook.headers import alias_table, norm_header
lookup = alias_table().lookup
fields = [(i, lookup.get(norm_header(h))) for i, h in enumerate(head)]
fields = [(i, f) for i, f in fields if f]
bad = 0
for r in rows[1:]:
    d = {}
    for i, f in fields:
        x = r[i]
        if x is None or x == "":
            continue
        d[f] = str(int(x)) if isinstance(x, float) and x.is_integer() else str(x).strip()
    bad += any(True for _ in v.iter_errors(d))
t2 = time.perf_counter()
col = len(head) + 1
for i in range(2, len(rows) + 1):
    ws.cell(i, col, "已分配")
    ws.cell(i, col + 1, "")
    ws.cell(i, col + 2, "73100000000001")
wb.save(book)
t3 = time.perf_counter()
print(json.dumps({"read": t1 - t0, "validate": t2 - t1, "save": t3 - t2, "total": t3 - t0, "bad": bad}))
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000, 100000])
    ap.add_argument("--all-ship", action="store_true", help="every order ships, one label each")
    ap.add_argument("--both", action="store_true", help="the usual mix and --all-ship, one after the other")
    ap.add_argument("--no-zpl", action="store_true", help="switch ZPL labels off")
    ap.add_argument("--no-packing-slips", action="store_true", help="switch packing slips off")
    ap.add_argument("--no-baseline", action="store_true", help="skip the naive openpyxl/jsonschema stack")
    ap.add_argument("--keep", type=Path, default=None, help="keep each run's folder under this directory")
    args = ap.parse_args()
    zpl, slips = not args.no_zpl, not args.no_packing_slips
    docs = ["labels PDF"] + (["ZPL"] if zpl else []) + (["packing slips"] if slips else []) + [
        "pick list", "manifest xlsx+PDF", "bulk-ship xlsx", "write-back"]
    off = [name for name, on in (("ZPL", zpl), ("packing slips", slips)) if not on]
    print(f"documents on: {', '.join(docs)}" + (f"   (off: {', '.join(off)})" if off else ""))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, nice {os.nice(0)}, deflate by {_deflate_engine()}")
    # one small run first, untimed: a first run on this machine prepares the label font's glyphs once
    with tempfile.TemporaryDirectory(prefix="pddbatch-bench-warm-") as warm:
        run_measured([sys.executable, "-c", CLI, "process", str(setup(Path(warm), 500, ship_all=True, zpl=zpl,
                                                                       slips=slips)), "--json"])
    modes = [False, True] if args.both else [args.all_ship]
    for ship_all in modes:
        print(f"\nexport: {'all ship (one label per order)' if ship_all else 'usual mix'}")
        print(f"{'orders':>8} {'labels':>7} {'wall s':>7} {'CPU s':>6} {'idle':>5} {'orders/s':>9} {'RSS MB':>7} {'PSS MB':>7} "
              f"{'naive s':>8} {'CPU s':>6} {'naive MB':>8} {'ratio':>6}  stages (s)")
        for n in args.sizes:
            if args.keep is not None:
                args.keep.mkdir(parents=True, exist_ok=True)
            tmp = tempfile.mkdtemp(prefix="pddbatch-bench-", dir=args.keep)
            try:
                folder = Path(tmp)
                book = setup(folder, n, ship_all=ship_all, zpl=zpl, slips=slips)
                pristine = folder / "pristine.xlsx"
                shutil.copy(book, pristine)
                wall, cpu, rss, pss, out, _ = run_measured([sys.executable, "-c", CLI, "process", str(book), "--json"])
                summary = json.loads(out)
                timings = summary.get("timings", {})
                stages = " ".join(f"{k}={v:.2f}" for k, v in timings.items())
                labels = summary["parcels"]
                if args.no_baseline:
                    base_s, base_cpu, base_mb, ratio = "-", "-", "-", "-"
                else:
                    bwall, bcpu, brss, _, bout, _ = run_measured([sys.executable, "-c", BASELINE, str(pristine)])
                    json.loads(bout)
                    base_s, base_cpu, base_mb = f"{bwall:.2f}", f"{bcpu:.1f}", f"{brss:.0f}"
                    ratio = f"{bwall / wall:.1f}x"
                idle = (os.cpu_count() or 1) * wall - cpu    # core-seconds no process of the run used
                print(f"{n:>8} {labels:>7} {wall:>7.2f} {cpu:>6.1f} {idle:>5.1f} {n / wall:>9.0f} {rss:>7.0f} {pss:>7.0f} "
                      f"{base_s:>8} {base_cpu:>6} {base_mb:>8} {ratio:>6}  {stages}", flush=True)
            finally:
                if args.keep is None:
                    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
