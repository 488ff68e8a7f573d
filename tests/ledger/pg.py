"""A real PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, stopped after.

Debian's `postgresql` package puts the binaries in /usr/lib/postgresql/<major>/bin (or set
`PDDBATCH_PG_BIN`). As root the server runs as the `postgres` user (PostgreSQL refuses root).
Without the binaries the PostgreSQL tests are skipped with a reason, unless PDDBATCH_REQUIRE_PG=1
(CI), where a missing server is a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

SUPERUSER = "postgres"
APP_USER = "pddbatch"
APP_PASSWORD = "s3cret-Pw!d"   # a test password: tests assert it never appears in any output


def find_bin() -> Path | None:
    explicit = os.environ.get("PDDBATCH_PG_BIN")
    candidates = [explicit] if explicit else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and (Path(found).parent / "initdb").is_file() else None


def require_pg() -> bool:
    return os.environ.get("PDDBATCH_REQUIRE_PG", "") == "1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One throwaway cluster; `url(db)` gives the app user's URL for a database."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="pddbatch-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.host = "127.0.0.1"
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise RuntimeError("running as root and there is no 'postgres' user to run the server") from exc
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        self.root.chmod(0o755)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self._as, *args], capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        if not self.data.exists():
            pwfile = self.root / "pw"
            pwfile.write_text("superpw\n")
            if self._as:
                shutil.chown(pwfile, "postgres")
            self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--pwfile", str(pwfile),
                      "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
            pwfile.unlink()
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                           f"unix_socket_directories = '{self.root}'\nfsync = off\n"
                           "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 60\n")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w",
                  "-t", "60", "start")
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.psql("SELECT 1")
                return
            except subprocess.CalledProcessError:
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not come up")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-m", "fast",
                  "-w", "-t", "60", "restart")
        self.wait_ready()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run SQL as the superuser over the unix socket; its output."""
        out = self._run(str(self.bindir / "psql"), "-h", str(self.root), "-p", str(self.port), "-U", SUPERUSER,
                        "-d", db, "-v", "ON_ERROR_STOP=1", "-Atqc", sql)
        return out.stdout.strip()

    def setup_app_user(self) -> None:
        self.psql(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}'")

    def create_database(self, name: str | None = None) -> str:
        """A fresh database owned by the app user; its URL (TCP, password auth)."""
        name = name or "t" + uuid.uuid4().hex[:12]
        self.psql(f"CREATE DATABASE {name} OWNER {APP_USER} TEMPLATE template0")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def url(self, db: str, password: str = APP_PASSWORD, user: str = APP_USER) -> str:
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{db}"

    def terminate(self, db: str) -> int:
        """pg_terminate_backend every app connection to `db`; how many were cut."""
        out = self.psql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        f"WHERE datname = '{db}' AND usename = '{APP_USER}'")
        return int(out or 0)
