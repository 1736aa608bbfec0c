"""The real services the tests use, and what to do when one is missing.

In CI (``CI=true``) a missing service fails the test; elsewhere it skips with a reason.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "STEEPLE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MARIADB_ADMIN_URL = os.environ.get("STEEPLE_TEST_MARIADB", "mysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("STEEPLE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def missing(message: str) -> NoReturn:
    """Fail in CI (``.ci/run`` provides everything), skip with the reason elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: required)")
    pytest.skip(message)


def require(name: str, host: str, port: int) -> None:
    if not reachable(host, port):
        missing(f"{name} is not reachable on {host}:{port}")
