"""Benchmark the streaming write-back: 100,000 rows x 25 columns, 4 owned columns + 500 marks.

    python benchmarks/bench_writeback.py [--rows 100000] [--keep DIR]

Builds the workbook in a child process (so its memory does not count), then applies the plan twice
in this process: the first run writes, the second must find nothing to change. Prints seconds and
peak RSS. Target on the 2-core reference machine: first run < 8 s, peak RSS < 200 MB.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLS = 25


def build(path: Path, rows: int) -> None:
    import xlsxwriter

    rnd = random.Random(7)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("订单")
    ws.write_row(0, 0, ["订单号", "订单状态", "商品", "商品数量(件)", "收货人", "手机", "省", "市", "区", "街道",
                        "详细地址"] + [f"字段{i}" for i in range(12, COLS + 1)])
    for r in range(1, rows + 1):
        ws.write_row(r, 0, [f"260517-{r:015d}", "待发货", f"商品{rnd.randint(1, 300)}", rnd.randint(1, 4),
                            f"张{r % 977}", f"138{r:08d}", "浙江省", "杭州市", "西湖区", "文新街道",
                            f"文一西路{r % 500}号"] + [rnd.random() * 100 for _ in range(12, COLS + 1)])
    wb.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, default=None, help="folder to build the workbook in (kept)")
    ap.add_argument("--build-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build_only is not None:
        build(args.build_only, args.rows)
        return
    from pddbatch.model import IssuesSheet, OwnedColumn, WritePlan
    from pddbatch.workbook.save import apply_plan

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-writeback-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "orders.xlsx"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--build-only", str(path)], check=True)
    print(f"built {args.rows:,} x {COLS} in {time.perf_counter() - t0:.1f} s ({path.stat().st_size / 2**20:.1f} MB)")

    last = args.rows + 1
    cols = tuple(OwnedColumn(h, COLS + i, True) for i, h in enumerate(["快递公司", "快递单号", "处理状态", "处理说明"], 1))
    values = {}
    for r in range(2, last + 1):
        values[(r, COLS + 1)] = "中通快递"
        values[(r, COLS + 2)] = f"7310{r:010d}"
        values[(r, COLS + 3)] = "已分配"
        values[(r, COLS + 4)] = ""
    rnd = random.Random(3)
    mark_rows = rnd.sample(range(2, last + 1), min(500, args.rows))
    marks = {(r, 6): "手机号应为11位数字，如 13812345678" for r in mark_rows}
    issues = IssuesSheet("问题清单", ("工作表", "单元格", "行号", "字段", "代码", "说明"),
                         tuple(("订单", f"F{r}", r, "手机", "bad-phone", "手机号应为11位数字") for r in sorted(mark_rows)))
    plan = WritePlan("订单", 1, cols, values, marks, issues, last_row=last)

    t1 = time.perf_counter()
    out = apply_plan(path, plan)
    first = time.perf_counter() - t1
    t2 = time.perf_counter()
    again = apply_plan(path, plan)
    second = time.perf_counter() - t2
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"write-back: {first:.2f} s ({args.rows / first:,.0f} rows/s), cells {out.cells_written:,}, "
          f"marks {out.marks_written}")
    print(f"rerun (no change expected): {second:.2f} s, backup={again.backup}")
    print(f"peak RSS {rss:.0f} MB (includes the plan's own dicts)")


if __name__ == "__main__":
    main()
