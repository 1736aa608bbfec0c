"""A throw-away PostgreSQL server on its own port, for tests that stop and restart it.

The machine's shared PostgreSQL is never touched: this one lives in a temporary
folder, runs with fsync off, and is killed by the test that started it. PostgreSQL
refuses to run as root, so under root it runs as the ``postgres`` account, in a
folder of its own under the system's temporary directory (pytest's are root's alone).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.processes import ChildProcess, free_port, spawn

READY = re.compile("ready to accept connections")


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    if on_path is None:
        if os.environ.get("CI"):
            raise AssertionError("PostgreSQL's server binaries are not installed")
        pytest.skip("PostgreSQL's server binaries are not installed")
    return Path(on_path).parent


def _as_server_user(argv: list[str]) -> list[str]:
    """Under root, run as ``postgres``; setpriv execs in place, so signals reach the server."""
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *argv]


class PostgresServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="steeple-pg-"))
        self.data = self.folder / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._bin = _binaries()
        self._child: ChildProcess | None = None

    def create(self) -> None:
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        initdb = [str(self._bin / "initdb"), "-D", str(self.data), "-A", "trust"]
        subprocess.run(
            _as_server_user([*initdb, "-U", "postgres", "--no-sync"]),
            check=True,
            capture_output=True,
        )

    async def start(self) -> None:
        argv = [str(self._bin / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        argv += ["-k", str(self.folder), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        self._child = await spawn(*_as_server_user(argv))
        await self._child.wait_for_line(READY)

    async def stop(self) -> None:
        """SIGINT: PostgreSQL's "fast" shutdown, which ``pg_ctl restart`` uses: sessions
        are cut at once, as an operator's restart cuts them."""
        if self._child is not None:
            self._child.process.send_signal(signal.SIGINT)
            await self._child.stop()
            self._child = None

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
