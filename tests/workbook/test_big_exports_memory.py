"""Big CSV exports: read a piece at a time with repeated values kept once, and a run that still runs out
of memory ends in a sentence (exit 2), not a traceback."""

from __future__ import annotations

import csv
import io
import random
import subprocess
import sys
import textwrap
from pathlib import Path

from pddbatch.workbook.read import _csv_lines, read_table
from tests.support import ROOT, generator, sample_rows


def _is_order_header(row: list[str]) -> bool:
    return "订单号" in [str(v).strip() for v in row if v]


def test_csv_lines_are_the_lines_a_newline_blank_reader_gives() -> None:
    """Pieces cut anywhere (here every few characters) give exactly open(newline='')'s lines:
    \\r\\n, \\r and \\n endings, quoted fields with line breaks, no final newline."""
    rng = random.Random(7)
    alphabet = ['a', '中', ',', '"', '\n', '\r', '\r\n', ' ', '\t', '😀']
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        expected = list(io.StringIO(text, newline=""))
        for piece in (1, 2, 3, 5, 8, 1 << 20):
            assert list(_csv_lines(text, piece)) == expected, (text, piece)


def test_a_big_csv_reads_as_the_csv_module_reads_it_with_repeats_shared(tmp_path: Path) -> None:
    rows = sample_rows(12_000, faults=False)
    path = tmp_path / "orders.csv"
    generator.write_csv(rows, path)
    table = read_table(path, _is_order_header)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        expected = [[v or None for v in r] for r in csv.reader(fh)][1:]
    assert table.rows == expected and len(table.rows) == 12_000
    col = table.headers.index("订单状态")
    statuses = {v for r in table.rows for v in [r[col]]}
    assert len({id(r[col]) for r in table.rows}) == len(statuses)      # one object per distinct status
    late = table.rows[-1][table.headers.index("省")]
    assert any(r[table.headers.index("省")] is late for r in table.rows[:5000])   # shared past the sample


OUT_OF_MEMORY = textwrap.dedent("""
    import resource, sys
    from pddbatch.cli import run
    size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (size + 120 * 2**20, size + 120 * 2**20))
    sys.argv = ["pddbatch", "validate", sys.argv[1]] + sys.argv[2:]
    run()
""")


def test_running_out_of_memory_is_a_sentence_and_exit_2(tmp_path: Path) -> None:
    """A real address-space limit 120 MB above what the started program uses, on a 60,000-row export:
    the seller reads what happened and what to do, in Chinese or English, and the file is untouched."""
    rows = sample_rows(60_000, faults=False)
    path = tmp_path / "orders.csv"
    generator.write_csv(rows, path)
    before = path.read_bytes()
    for extra, sentence in (([], "错误：内存不足"), (["--lang", "en"], "Error: Out of memory")):
        done = subprocess.run([sys.executable, "-c", OUT_OF_MEMORY, str(path), *extra], capture_output=True,
                              text=True, timeout=300, cwd=ROOT)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.startswith(sentence) and "Traceback" not in done.stderr + done.stdout, done.stderr
    assert path.read_bytes() == before


LIMITED_READ = textwrap.dedent("""
    import resource, sys
    from pddbatch.errors import OutOfMemory
    from pddbatch.memory import headroom
    from pddbatch.workbook.read import read_table
    import python_calamine, pddbatch.workbook.xlsx.parts   # loaded, as in a run that reaches the reader
    size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    room = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (size + room, size + room))
    assert headroom() is not None and headroom() <= room
    try:
        table = read_table(sys.argv[1], lambda row: "订单号" in [str(v).strip() for v in row if v])
    except OutOfMemory as exc:
        print("refused", exc.text("en"))
    else:
        print("read", len(table.rows))
""")


def test_a_sheet_too_big_for_the_memory_left_is_refused_before_the_native_reader_tries(tmp_path: Path) -> None:
    """calamine allocating past an address-space limit aborts (or, with RUST_BACKTRACE set, hangs) in
    Rust; the sheet's XML size says beforehand that it can't fit. With room enough it is read."""
    book = tmp_path / "orders.xlsx"
    generator.write_xlsx(sample_rows(3000, faults=False), book)
    answers = {}
    for room in (2 * 2**20, 600 * 2**20):
        done = subprocess.run([sys.executable, "-c", LIMITED_READ, str(book), str(room)], capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        answers[room] = done.stdout.strip()
    assert answers[2 * 2**20].startswith("refused Out of memory: this file is too big for this computer.")
    assert answers[600 * 2**20] == "read 3000"
