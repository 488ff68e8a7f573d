"""How the `pddbatch` command ends: once it has answered, the process exits without freeing its heap
object by object — the exit code, the output, the exit handlers and a run's files all as before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pddbatch.cli import main
from pddbatch.cli.app import KEPT
from pddbatch.model import BatchResult
from pddbatch.pipeline.prepare import Prepared

NOW = "2026-11-26 09:00:00"

SCRIPT = """
import atexit, pathlib, sys
from pddbatch.cli import run
marker = pathlib.Path(sys.argv[1])
atexit.register(lambda: marker.write_text("exit handlers ran"))
sys.stdout.write("unflushed ")      # no newline: still in the buffer when the run ends
class Loud:
    def __del__(self):
        sys.stderr.write("freed one by one\\n")
left = Loud()
sys.argv = ["pddbatch", *sys.argv[2:]]
run()
"""


def _run(tmp_path: Path, *args: str, debug: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PDDBATCH_DEBUG", "COVERAGE_PROCESS_START")}
    if debug:
        env["PDDBATCH_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "atexit.txt"), *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_the_answer_and_exit_handlers_survive_the_fast_exit(tmp_path: Path) -> None:
    done = _run(tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("unflushed pddbatch")       # flushed before the process ended
    assert (tmp_path / "atexit.txt").read_text() == "exit handlers ran"
    assert "freed one by one" not in done.stderr              # no teardown: nothing is freed one by one


def test_exit_codes_pass_through(tmp_path: Path) -> None:
    done = _run(tmp_path, "validate", str(tmp_path / "missing.xlsx"))
    assert done.returncode == 2
    assert "错误" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "atexit.txt").read_text() == "exit handlers ran"
    usage = _run(tmp_path, "no-such-command")
    assert usage.returncode == 2 and "No such command" in usage.stderr


def test_debug_keeps_the_ordinary_exit(tmp_path: Path) -> None:
    done = _run(tmp_path, "--version", debug=True)
    assert done.returncode == 0
    assert "freed one by one" in done.stderr


def test_a_run_leaves_its_state_for_the_exit_and_the_next_command_lets_it_go(orders_xlsx: Path) -> None:
    res = CliRunner().invoke(main, ["process", str(orders_xlsx), "--now", NOW, "--json"])
    assert res.exit_code == 1, res.output          # (the sample has rejected rows)
    results = [k for k in KEPT if isinstance(k, BatchResult)]
    states = [k for k in KEPT if isinstance(k, tuple) and isinstance(k[0], Prepared)]
    assert len(results) == 1 and results[0].allocated > 0
    assert len(states) == 1 and len(states[0][0].table.rows) == 320
    res = CliRunner().invoke(main, ["validate", str(orders_xlsx), "--dry-run"])
    assert res.exit_code == 1, res.output
    assert not any(isinstance(k, tuple) for k in KEPT)      # the process run's state is let go
    assert [type(k) for k in KEPT] == [Prepared, BatchResult]
    assert KEPT[1].command == "validate"                    # type: ignore[attr-defined]
