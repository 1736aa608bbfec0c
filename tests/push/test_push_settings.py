"""The push settings, read from the environment and checked at start-up."""

from __future__ import annotations

import pytest

from steeple.errors import ConfigError
from steeple.settings import Settings

BASE = {"JWT_SECRET": "s" * 32, "ENCRYPTION_KEY": "k" * 32}


def test_defaults_push_only_where_no_socket_reaches() -> None:
    settings = Settings.from_env(BASE)
    assert settings.push_policy == "absent" and settings.ssl_cert_file == ""
    assert settings.push_queue_size > 0 and settings.push_attempts >= 1


def test_the_environment_names_are_read() -> None:
    env = {
        **BASE,
        "PUSH_POLICY": "Always",
        "PUSH_QUEUE_SIZE": "7",
        "PUSH_WORKERS": "2",
        "PUSH_TIMEOUT": "1.5",
        "PUSH_ATTEMPTS": "5",
        "PUSH_MAX_BACKOFF": "9",
        "PUSH_RELEASE_INTERVAL": "3",
        "SSL_CERT_FILE": "/etc/ssl/private-ca.pem",
    }
    settings = Settings.from_env(env)
    assert (settings.push_policy, settings.push_queue_size, settings.push_workers) == (
        "always",
        7,
        2,
    )
    assert (settings.push_timeout, settings.push_attempts, settings.push_max_backoff) == (
        1.5,
        5,
        9.0,
    )
    assert settings.push_release_interval == 3.0
    assert settings.ssl_cert_file == "/etc/ssl/private-ca.pem"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("PUSH_POLICY", "sometimes", "PUSH_POLICY"),
        ("PUSH_QUEUE_SIZE", "0", "PUSH_QUEUE_SIZE"),
        ("PUSH_WORKERS", "0", "PUSH_WORKERS"),
        ("PUSH_ATTEMPTS", "0", "PUSH_ATTEMPTS"),
        ("PUSH_TIMEOUT", "0", "PUSH_TIMEOUT"),
        ("PUSH_MAX_BACKOFF", "-1", "PUSH_MAX_BACKOFF"),
        ("PUSH_RELEASE_INTERVAL", "0", "PUSH_RELEASE_INTERVAL"),
        ("PUSH_TIMEOUT", "soon", "PUSH_TIMEOUT"),
    ],
)
def test_bad_values_stop_the_start_naming_the_setting(name: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env({**BASE, name: value})
