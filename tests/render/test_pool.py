"""One pool of forked workers for a big run's documents: same files, errors carried back, stopped for good."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pddbatch.errors import SaveError
from pddbatch.parallel import can_fork
from pddbatch.render import write_documents
from pddbatch.render.labels import LabelJob, draw_runs
from pddbatch.render.labels_zpl import ZplLabelWriter, ZplSpooled
from pddbatch.render.pool import RenderPool, taken
from pddbatch.render.settings import RenderSettings
from tests.render.render_factory import make_parcel

pytestmark = pytest.mark.skipif(not can_fork(), reason="the pool forks (Linux)")


def _big_day(n: int) -> list:
    return [make_parcel(i, code="ZTO" if i % 5 else "YTO", tracking_no=f"{'73' if i % 5 else 'YT'}{i:012d}")
            for i in range(n)]


def test_a_pooled_run_writes_the_same_documents_as_one_process(settings: RenderSettings, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Labels (PDF and ZPL, two carriers), manifest and bulk-ship file from the pool are byte for byte
    what one process writes; the packing slips and manifest PDFs have the same pages. The workers'
    ZPL part files went through the temp folder, and nothing is left there or in the output folder."""
    temp = tmp_path / "temp"
    temp.mkdir()
    os.utime(temp, ns=(0, 0))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    ps = _big_day(6200)           # 4,960 ZTO labels (two runs), 1,240 YTO
    s = replace(settings, zpl=True, packing_slips=True)
    one, two = tmp_path / "one", tmp_path / "two"
    a = write_documents(ps, one, replace(s, workers=1))
    b = write_documents(ps, two, replace(s, workers=2))
    assert a.label_counts == b.label_counts == {"ZTO": 4960, "YTO": 1240}
    assert [f.path.name for f in a.files] == [f.path.name for f in b.files]
    for f in a.files:
        mine, theirs = f.path.read_bytes(), (two / f.path.name).read_bytes()
        if f.path.suffix in (".zpl", ".xlsx") or f.path.name.startswith("labels-"):
            assert mine == theirs, f.path.name
        else:
            assert mine.count(b"/Type /Page ") == theirs.count(b"/Type /Page ") > 0, f.path.name
    assert (two / "labels-ZTO.zpl").read_text().count("^XA") == 4960
    assert temp.stat().st_mtime_ns > 0 and not list(temp.iterdir())    # a folder was made there, and removed
    assert sorted(p.name for p in two.iterdir()) == sorted(p.name for p in one.iterdir())


def test_documents_and_label_runs_are_drawn_by_the_workers(settings: RenderSettings) -> None:
    ps = _big_day(5000)
    job = LabelJob([p for p in ps if p.carrier.code == "ZTO"], settings, True, True)
    with RenderPool(2, [job], [os.getpid, lambda: sum(range(10))]) as pool:
        pids = pool.task(0)
        total = pool.task(1)
        runs = list(taken(pool.label_runs(0)))
        assert pids.result() != os.getpid() and total.result() == 45
    here = list(draw_runs(job))
    assert [r.pdf for r in runs] == [r.pdf for r in here] and len(runs) == 2
    assert [r.zpl[0] for r in runs if r.zpl] == [r.zpl[0] for r in here if r.zpl]


def _fails() -> None:
    raise SaveError("磁盘已满", "disk full")


def test_a_workers_error_comes_back_as_our_own_error(settings: RenderSettings) -> None:
    with RenderPool(2, [], [_fails, lambda: 1 / 0]) as pool:
        bad, crash = pool.task(0), pool.task(1)
        with pytest.raises(SaveError, match="磁盘已满"):
            bad.result()
        with pytest.raises(Exception, match="ZeroDivisionError"):
            crash.result()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_leaving_the_pool_by_an_error_stops_its_workers_at_once(settings: RenderSettings) -> None:
    """A stopped run must not wait for a long document in a worker (nor leave the worker running)."""
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt), RenderPool(2, [], [lambda: time.sleep(60), os.getpid]) as pool:
        pool.task(0)
        worker = pool.task(1).result()
        assert _alive(worker)
        raise KeyboardInterrupt
    assert time.monotonic() - start < 20
    deadline = time.monotonic() + 5
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)


def test_a_workers_zpl_labels_reach_the_file_through_a_part_file_that_is_then_removed(
        settings: RenderSettings, tmp_path: Path) -> None:
    """Given a folder, a worker writes its run's ZPL labels there (not through the pipe); the writer
    copies them in with the graphics spliced in (the second worker made its own: its run names them
    again, and the file still sends each once) — byte for byte the file one process writes — removes
    each part file, and the pool its folder."""
    ps = [p for p in _big_day(5000) if p.carrier.code == "ZTO"]
    job = LabelJob(ps, settings, True, True)
    here = list(draw_runs(job))
    with RenderPool(2, [job], spool_dir=tmp_path) as pool:
        runs = list(taken(pool.label_runs(0)))
        spools = [r.zpl[0] for r in runs if r.zpl]
        assert len(spools) == 2 and all(isinstance(s, ZplSpooled) for s in spools)
        for s, mine in zip(spools, here, strict=True):
            assert isinstance(s, ZplSpooled) and mine.zpl is not None
            assert Path(s.path).parent.parent == tmp_path and Path(s.path).parent.name.startswith(".pddbatch-zpl-")
            assert Path(s.path).read_bytes() == "".join(mine.zpl[0]).encode("ascii")
            assert s.size == Path(s.path).stat().st_size
        spooled, piped = io.BytesIO(), io.BytesIO()
        with (tmp_path / "spooled.zpl").open("wb") as fh:
            writer = ZplLabelWriter(fh)
            for r in runs:
                assert r.zpl is not None
                writer.add(r.zpl)
        plain = ZplLabelWriter(piped)
        for r in here:
            assert r.zpl is not None
            plain.add(r.zpl)
        spooled.write((tmp_path / "spooled.zpl").read_bytes())
        assert spooled.getvalue() == piped.getvalue() and spooled.getvalue().count(b"^XA") == len(ps)
        assert not any(Path(s.path).exists() for s in spools if isinstance(s, ZplSpooled))
    assert not list(tmp_path.glob(".pddbatch-zpl-*"))


def test_a_killed_runs_part_files_go_with_the_next_pool(settings: RenderSettings, tmp_path: Path) -> None:
    """A folder left by a process that is gone is removed; a live process's folder is left alone."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = tmp_path / f".pddbatch-zpl-{dead.stdout.strip()}-abc"
    live = tmp_path / f".pddbatch-zpl-{os.getppid()}-def"
    for d in (stale, live):
        d.mkdir()
        (d / "0-0.zpl").write_bytes(b"^XA^XZ\n")
    job = LabelJob([p for p in _big_day(100) if p.carrier.code == "ZTO"], settings, True, True)
    with RenderPool(2, [job], spool_dir=tmp_path) as pool:
        assert pool.state.spool is not None and pool.state.spool.is_dir()
        list(taken(pool.label_runs(0)))
    assert not stale.exists() and (live / "0-0.zpl").exists()


def test_without_a_folder_for_part_files_the_runs_come_back_by_pipe(settings: RenderSettings,
                                                                    tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    job = LabelJob([p for p in _big_day(100) if p.carrier.code == "ZTO"], settings, True, True)
    with RenderPool(2, [job], spool_dir=not_a_folder) as pool:
        runs = list(taken(pool.label_runs(0)))
    assert pool.state.spool is None
    assert runs[0].zpl is not None and isinstance(runs[0].zpl[0], list) and len(runs[0].zpl[0]) == 80
