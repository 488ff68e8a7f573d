"""End-to-end speed of `pddbatch process`, with the plain openpyxl/jsonschema baseline beside it.

    python benchmarks/bench_process.py                 # 1,000 / 10,000 / 100,000 orders
    python benchmarks/bench_process.py --sizes 1000    # one size
    python benchmarks/bench_process.py --no-baseline

For each size it generates a realistic export with the sample-data generator (no planted faults),
a config with the sample's carrier rules, and pools big enough for every parcel; then runs
`pddbatch process --json` in a fresh interpreter (start-up included) and prints per-stage seconds,
rows/s and peak RSS. The baseline, on the same file: openpyxl full load -> jsonschema per row ->
openpyxl save (what a straightforward script does, and no labels at all).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen", SAMPLE / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def setup(folder: Path, rows: int) -> Path:
    gen = _generator()
    data = list(gen.iter_orders(rows, seed=7))
    book = folder / "orders.xlsx"
    gen.write_xlsx(data, book, side_tables=False)
    config = (SAMPLE / "pddbatch.toml").read_text(encoding="utf-8")
    config = config.split("[[pools.import]]")[0] + config[config.index("[labels]"):]
    (folder / "pddbatch.toml").write_text(config.replace("zpl = true", "zpl = false")
                                          .replace("packing_slips = true", "packing_slips = false"), encoding="utf-8")
    for carrier, start in (("ZTO", "73100000000001"), ("YZXB", "9800000000001"), ("SF", "SF1000000000001")):
        subprocess.run([sys.executable, "-m", "pddbatch.cli", "pool", "add", "--carrier", carrier, "--start", start,
                        "--count", str(rows + 10), "--ledger", str(folder / "pddbatch-ledger.sqlite")],
                       check=True, capture_output=True)
    return book


def run_process(book: Path) -> tuple[float, float, dict[str, object]]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pddbatch.cli", "process", str(book), "--json"],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode not in (0, 1):
        raise SystemExit(f"process failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, rss_mb, json.loads(proc.stdout)


BASELINE = r'''
import json, sys, time, resource
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
print(json.dumps({"read": t1 - t0, "validate": t2 - t1, "save": t3 - t2, "total": t3 - t0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "bad": bad}))
'''


def run_baseline(book: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", BASELINE, str(book)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()
    print(f"{'orders':>8} {'wall s':>8} {'rows/s':>9} {'RSS MB':>8}  stages (s)")
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="pddbatch-bench-") as tmp:
            folder = Path(tmp)
            book = setup(folder, n)
            pristine = folder / "pristine.xlsx"
            shutil.copy(book, pristine)
            wall, rss, summary = run_process(book)
            timings = summary.get("timings", {})
            stages = " ".join(f"{k}={v:.2f}" for k, v in timings.items())  # type: ignore[union-attr]
            print(f"{n:>8} {wall:>8.2f} {n / wall:>9.0f} {rss:>8.0f}  {stages}")
            print(f"{'':>8} allocated={summary['allocated']} parcels={summary['parcels']} "
                  f"files={len(summary['files'])}")  # type: ignore[arg-type]
            if not args.no_baseline:
                base = run_baseline(pristine)
                print(f"{'':>8} baseline openpyxl+jsonschema: {base['total']:.2f} s (read {base['read']:.2f}, "
                      f"validate {base['validate']:.2f}, save {base['save']:.2f}), RSS {base['rss_mb']:.0f} MB; "
                      f"pddbatch is {base['total'] / wall:.1f}x faster (and also renders labels)")


if __name__ == "__main__":
    main()
