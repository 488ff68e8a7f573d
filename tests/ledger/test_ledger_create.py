"""A new SQLite ledger appears whole or not at all: a creation killed half-way leaves nothing the next
run must refuse (SQLite's own start is a 0-byte file, which reads as an emptied ledger)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pddbatch.ledger import Ledger

KILLED_WHILE_CREATING = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from pddbatch.ledger import Ledger, sqlite_db

    migrate = sqlite_db._migrate

    def killed_half_way(conn, path):
        migrate(conn, path)                          # the schema is in the file being built ...
        os.kill(os.getpid(), signal.SIGKILL)         # ... and the process dies before it is in place

    sqlite_db._migrate = killed_half_way
    Ledger.open(Path(sys.argv[1]))
""")


def _ledger_id(path: Path) -> str:
    with Ledger.open(path) as led:
        return led.ledger_id


def test_a_creation_killed_half_way_leaves_no_ledger_and_the_next_run_makes_one(tmp_path: Path) -> None:
    path = tmp_path / "pddbatch-ledger.sqlite"
    done = subprocess.run([sys.executable, "-c", KILLED_WHILE_CREATING, str(path)], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parents[2])
    assert done.returncode == -9, done.stderr
    assert not path.exists()                                    # not the 0-byte file SQLite starts with
    leftovers = sorted(tmp_path.glob(".pddbatch-ledger.sqlite.creating-*"))     # the file, its WAL and SHM
    left = leftovers[0]
    assert [p.name[len(left.name):] for p in leftovers] == ["", "-shm", "-wal"][:len(leftovers)]
    with Ledger.open(path) as led:                              # the next run: a new, sound ledger
        assert led.check_integrity() == []
        led.add_range("ZTO", "73100000000001", 10, "t")
    assert all(p.exists() for p in leftovers)                   # a minute old at most: maybe still being built
    old = time.time() - 120
    for p in leftovers:
        os.utime(p, (old, old))
    path.unlink()
    _ledger_id(path)
    assert not any(p.exists() for p in leftovers)               # stale ones go with the next creation
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pddbatch-ledger.sqlite"]


def test_a_stop_while_creating_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pddbatch.ledger import sqlite_db

    def stopped(conn: object, path: Path) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(sqlite_db, "_migrate", stopped)
    with pytest.raises(KeyboardInterrupt):
        Ledger.open(tmp_path / "l.sqlite")
    assert list(tmp_path.iterdir()) == []


def test_processes_creating_the_same_ledger_at_once_share_one(tmp_path: Path) -> None:
    """Eight processes open a ledger that does not exist yet, together: one creation wins, all eight
    end up in the same ledger (same identity), and no temporary file is left."""
    path = tmp_path / "l.sqlite"
    go = tmp_path / "go"
    code = textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from pddbatch.ledger import Ledger
        go = Path(sys.argv[2])
        print("ready", flush=True)
        while not go.exists():
            time.sleep(0.001)
        with Ledger.open(Path(sys.argv[1])) as led:
            print(led.ledger_id)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]) for _ in range(8)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    go.touch()
    ids = set()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        ids.add(out.strip())
    assert ids == {_ledger_id(path)}
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == ["go", "l.sqlite"]

