"""Ledger fixtures: every ledger test runs on an SQLite file and on a real PostgreSQL database.

The PostgreSQL server is started once per session in a temporary folder (tests/ledger/pg.py) and
stopped after; each test gets a database of its own. Without PostgreSQL's binaries those runs are
skipped with a reason, unless PDDBATCH_REQUIRE_PG=1 (CI), where that is a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pddbatch.ledger import Ledger, LedgerLocation
from tests.ledger.pg import PgServer, find_bin, require_pg

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = find_bin()
    if bindir is None:
        reason = ("PostgreSQL server binaries not found (Debian: apt-get install postgresql; or set "
                  "PDDBATCH_PG_BIN): the PostgreSQL ledger tests did not run")
        if require_pg():
            pytest.fail("PDDBATCH_REQUIRE_PG=1 but " + reason)
        pytest.skip(reason)
    server = PgServer(bindir)
    try:
        server.start()
        server.setup_app_user()
    except Exception as exc:
        server.destroy()
        if require_pg():
            pytest.fail(f"PDDBATCH_REQUIRE_PG=1 but PostgreSQL did not start: {exc}")
        pytest.skip(f"PostgreSQL did not start: {exc}")
    yield server
    server.destroy()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], LedgerLocation]:
    """Makes a fresh, empty ledger location of this test's backend each time it is called."""
    made = iter(range(10**6))
    if backend == "sqlite":
        return lambda: tmp_path / f"data{next(made)}" / "ledger.sqlite"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database


@pytest.fixture
def ledger_target(new_target: Callable[[], LedgerLocation]) -> LedgerLocation:
    return new_target()


@pytest.fixture
def ledger_path(ledger_target: LedgerLocation) -> LedgerLocation:
    return ledger_target


@pytest.fixture
def ledger(ledger_target: LedgerLocation) -> Iterator[Ledger]:
    with Ledger.open(ledger_target) as led:
        yield led
