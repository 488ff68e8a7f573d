"""Run corpus cases through the real `pddbatch` executable under time and memory limits, and judge them.

Each command runs as its own subprocess with RLIMIT_AS (2 GB) and a wall-clock timeout; the outcome
records the exit code, what went wrong (if anything) and whether the canary file leaked.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile.corpus import Case
from tests.support import SAMPLE

MEMORY_LIMIT = 2 * 1024**3
CANARY = "CANARY-d41d8cd98f00-never-read-me"
EXE = [sys.executable, "-c", "from pddbatch.cli import run; run()"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
OWNED_HEADERS = ("快递公司", "快递单号", "处理状态", "处理说明")

# every outcome of the session, for the terminal summary (conftest.py prints it)
RESULTS: dict[str, CaseResult] = {}


@dataclass
class CommandResult:
    command: str
    rc: int | None           # None: killed by the timeout
    seconds: float
    problems: list[str] = field(default_factory=list)


@dataclass
class CaseResult:
    case: str
    group: str
    commands: list[CommandResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not any(c.problems for c in self.commands)

    def describe(self) -> str:
        lines = [f"{self.case}: " + ", ".join(f"{c.command}={c.rc} ({c.seconds:.1f}s)" for c in self.commands)]
        lines += [f"  - {p}" for p in self.problems]
        lines += [f"  - {c.command}: {p}" for c in self.commands for p in c.problems]
        return "\n".join(lines)


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_cli(args: list[str], cwd: Path, timeout: float) -> tuple[int | None, str, str, float]:
    """Run `pddbatch ARGS` as a subprocess under the limits; rc None when it had to be killed."""
    env = {**os.environ, "PDDBATCH_LANG": "zh", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PDDBATCH_DEBUG", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(EXE + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=_limits, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        rc = None
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), time.perf_counter() - t0


def invoke_cli(args: list[str], cwd: Path, timeout: float) -> tuple[int | None, str, str, float]:
    """The same, in this process through click's CliRunner (for cheap, non-dangerous cases)."""
    import traceback

    from click.testing import CliRunner

    from pddbatch.cli import main

    t0 = time.perf_counter()
    res = CliRunner().invoke(main, args, env={"PDDBATCH_LANG": "zh"})
    err = res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        err += "".join(traceback.format_exception(res.exception))
    return res.exit_code, res.stdout, err, time.perf_counter() - t0


def digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def judge(cmd: CommandResult, rc: int | None, out: str, err: str, before: str | None, after: str | None) -> None:
    text = out + err
    if rc is None:
        cmd.problems.append("hung: killed by the timeout")
        return
    if rc < 0:
        cmd.problems.append(f"died from signal {-rc} (memory limit?)")
    elif rc not in (0, 1, 2):
        cmd.problems.append(f"unexpected exit code {rc}")
    if "Traceback" in text:
        cmd.problems.append("traceback in output: " + text[-600:])
    if "内部错误" in text or "internal error" in text.lower():
        cmd.problems.append("internal error: " + err.strip()[-400:])
    if "MemoryError" in text:
        cmd.problems.append("MemoryError")
    if rc == 2:
        if not err.strip() or "错误" not in err:
            cmd.problems.append(f"exit 2 without a clear message: {err!r}")
        if before != after:
            cmd.problems.append("fatal run changed the input file")
    if CANARY in text:
        cmd.problems.append("canary text in output: XXE read a local file")


def in_subprocess(case: Case) -> bool:
    """Bombs, entities, damaged containers and big files always run as limited subprocesses."""
    return case.dangerous or case.group in ("container", "xml", "size")


def run_case(case: Case, root: Path, aftersales: Path, returns: Path) -> CaseResult:
    """Build the case and run validate, process and (where meaningful) reconcile on separate copies."""
    res = CaseResult(case.name, case.group)
    folder = root / re.sub(r"[^\w.-]", "_", case.name)[:80]
    folder.mkdir(parents=True)
    canary = folder / "canary.txt"
    canary.write_text(CANARY)
    src = folder / "src"
    src.mkdir()
    try:
        original = case.build(src, canary)
    except Exception as exc:  # a broken generator is a test failure, reported like the others
        res.problems.append(f"could not build the case: {type(exc).__name__}: {exc}")
        return res
    formulas_before = formula_cells(original)
    runner = run_cli if in_subprocess(case) else invoke_cli
    for name in ("validate", "process", "reconcile") if case.reconcile else ("validate", "process"):
        work = folder / name
        work.mkdir()
        target = work / original.name
        args = [name, str(target)] if name != "reconcile" else [
            "reconcile", "--orders", str(target), "--aftersales", str(aftersales), "--returns", str(returns),
            "-o", str(work / "recon.xlsx")]
        shutil.copyfile(original, target) if original.is_file() else None
        if name == "process":
            for f in [SAMPLE / "pddbatch.toml", *SAMPLE.glob("demo-pool-*.txt")]:
                shutil.copy(f, work / f.name)
        before = digest(target)
        rc, out, err, secs = runner(args, work, case.timeout)
        cmd = CommandResult(name, rc, secs)
        judge(cmd, rc, out, err, before, digest(target))
        if rc in (0, 1):
            cmd.problems += check_outputs(work, target, formulas_before, original)
        res.commands.append(cmd)
    if case.xxe or case.group == "xml":
        res.problems += [f"canary found in {p}" for p in canary_hits(folder, canary)]
    if original.exists() and digest(original) is None:
        res.problems.append("source vanished")
    shutil.rmtree(folder, ignore_errors=True) if res.ok else None
    return res


def run_all(cases: Iterable[Case], root: Path, workers: int | None = None) -> dict[str, CaseResult]:
    """Run many cases in parallel: subprocess cases from threads, in-process ones in worker processes."""
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    aftersales, returns = SAMPLE / "售后-sample.xlsx", SAMPLE / "退货登记-sample.xlsx"
    ordered = sorted(cases, key=lambda c: (c.group != "size", not c.dangerous))
    n = workers or max(2, os.cpu_count() or 2)
    futures: dict[str, Future[CaseResult]] = {}
    with ThreadPoolExecutor(n) as threads, ProcessPoolExecutor(
            n, mp_context=multiprocessing.get_context("fork"), initializer=_limits) as procs:
        # forked workers start on the first submit: before any thread runs (no lock is copied held)
        for c in ordered:
            if not in_subprocess(c):
                futures[c.name] = procs.submit(_run_named, c.name, root, aftersales, returns)
        for c in ordered:
            if in_subprocess(c):
                futures[c.name] = threads.submit(run_case, c, root, aftersales, returns)
        futures = {c.name: futures[c.name] for c in ordered}
        out = {name: f.result() for name, f in futures.items()}
    RESULTS.update(out)
    return out


def _run_named(name: str, root: Path, aftersales: Path, returns: Path) -> CaseResult:
    from tests.hostile.corpus import cases

    case = next(c for c in cases(0) if c.name == name)
    return run_case(case, root, aftersales, returns)


# ---- output checks ---------------------------------------------------------------------------------

def formula_cells(path: Path) -> Counter[str]:
    """`<f>` elements (by formula text) across a workbook's sheets; empty for non-zip files."""
    found: Counter[str] = Counter()
    if not path.is_file() or not zipfile.is_zipfile(path):
        return found
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml") \
                        and info.file_size < 64 * 2**20:
                    data = zf.read(info).decode("utf-8", "replace")
                    found.update(m.group(1) for m in re.finditer(r"<(?:\w+:)?f\b[^>]*>([^<]*)<", data))
                    found.update("(shared)" for _ in re.finditer(r"<(?:\w+:)?f\b[^>]*/>", data))
    except Exception:  # a damaged zip holds no formulas we could have written
        pass
    return found


def check_outputs(work: Path, target: Path, formulas_before: Counter[str], original: Path) -> list[str]:
    """Nothing new is a formula: the written-back workbook, every xlsx we made, every CSV we wrote."""
    problems: list[str] = []
    for path in work.rglob("*"):
        if not path.is_file() or "pddbatch-backup" in path.parts:
            continue
        if path.suffix in (".xlsx", ".xlsm"):
            after = formula_cells(path)
            base = formulas_before if path == target else Counter()
            extra = after - base
            if extra:
                problems.append(f"new formula(s) in {path.name}: {list(extra)[:3]}")
        elif path.suffix == ".csv":
            problems += _csv_formulas(path, original if path == target else None)
    return problems


def _csv_formulas(path: Path, original: Path | None) -> list[str]:
    import csv
    import io

    from pddbatch.workbook.read import decode_text

    def rows(p: Path) -> list[list[str]]:
        text, _ = decode_text(p.read_bytes())
        try:
            return list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            return []

    new = rows(path)
    old = rows(original) if original is not None else []
    bad = []
    for r, row in enumerate(new):
        for c, v in enumerate(row):
            was = old[r][c] if r < len(old) and c < len(old[r]) else None
            # a negative number, or PDD's own "keep as text" tab before a tracking number, is no formula
            if v != was and v.startswith(FORMULA_START) and not re.fullmatch(r"-\d+(\.\d+)?|\t[0-9A-Za-z][0-9A-Za-z-]*", v):
                bad.append(f"{path.name} row {r + 1} col {c + 1}: {v[:40]!r}")
    return bad[:5]


def canary_hits(folder: Path, canary: Path) -> list[str]:
    needle = CANARY.encode()
    hits = []
    for path in folder.rglob("*"):
        if path == canary or not path.is_file():
            continue
        data = path.read_bytes()
        if needle in data:
            hits.append(str(path.relative_to(folder)))
        elif zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as zf:
                    if any(needle in zf.read(i) for i in zf.infolist() if i.file_size < 64 * 2**20):
                        hits.append(str(path.relative_to(folder)))
            except Exception:
                pass
        elif path.suffix == ".pdf":
            for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
                try:
                    if needle in zlib_inflate(m.group(1)):
                        hits.append(str(path.relative_to(folder)))
                        break
                except Exception:
                    continue
    return hits


def zlib_inflate(data: bytes) -> bytes:
    import zlib
    return zlib.decompressobj().decompress(data, 64 * 2**20)


def summary(results: dict[str, CaseResult]) -> list[str]:
    """Lines for the terminal: cases, outcomes per command and exit code, failures."""
    if not results:
        return []
    lines = [f"hostile corpus: {len(results)} cases, {sum(r.ok for r in results.values())} passed"]
    groups = Counter(r.group for r in results.values())
    lines.append("  groups: " + ", ".join(f"{g} {n}" for g, n in sorted(groups.items())))
    for command in ("validate", "process", "reconcile"):
        codes = Counter(c.rc for r in results.values() for c in r.commands if c.command == command)
        if codes:
            lines.append(f"  {command:9s} exit codes: " + ", ".join(
                f"{'timeout' if k is None else k}: {v}" for k, v in sorted(codes.items(), key=lambda kv: str(kv[0]))))
    slowest = max((c.seconds, r.case, c.command) for r in results.values() for c in r.commands) \
        if any(r.commands for r in results.values()) else None
    if slowest:
        lines.append(f"  slowest command: {slowest[2]} on {slowest[1]} ({slowest[0]:.1f}s)")
    for r in results.values():
        if not r.ok:
            lines.append("  FAILED " + r.describe().replace("\n", "\n  "))
    return lines
