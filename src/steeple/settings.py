"""Typed settings, read from the environment (ChurchApps names) or ``steeple serve`` flags.

This module is the only reader of ``os.environ``.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

from steeple.delivery.backends import BACKENDS, DEFAULT_BACKEND
from steeple.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///steeple.db"
DEFAULT_EXPO_PUSH_URL = "https://exp.host/--/api/v2/push/send"
PUSH_POLICIES = ("absent", "always")
MAX_HISTORY_LIMIT = 10_000
"""A page is read and encoded in one go: past this it is no longer a bound worth having."""
LIMITS_BACKENDS = ("memory", "redis")


@dataclass(frozen=True)
class Rate:
    """A token bucket: ``burst`` at once, refilled at ``per_second``; 0 turns it off.

    Written ``RATE,BURST`` in the environment (``5,60``: 5 a second, 60 at once) or
    ``0`` for off. README "Rate limits" says why each default is what it is.
    """

    per_second: float
    burst: int

    @property
    def on(self) -> bool:
        return self.per_second > 0

    @classmethod
    def parse(cls, name: str, raw: str) -> Rate:
        text = raw.strip()
        if text == "0":
            return OFF
        rate, comma, burst = text.partition(",")
        try:
            parsed = cls(float(rate), int(burst)) if comma else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise ConfigError(f"{name} must be RATE,BURST (e.g. 5,60) or 0 (off), not {raw!r}")
        return parsed.validated(name)

    def validated(self, name: str) -> Rate:
        if self.per_second == 0:
            return OFF
        if not 0 < self.per_second <= 1_000_000 or not 1 <= self.burst <= 1_000_000:
            raise ConfigError(f"{name}: rate must be 0 (off) or positive, burst 1 to 1000000")
        return self


OFF = Rate(0.0, 0)

RATE_LIMITS = {
    "post_person": ("LIMIT_POST_PERSON", Rate(2, 20)),
    "post_address": ("LIMIT_POST_ADDRESS", Rate(5, 60)),
    "post_room": ("LIMIT_POST_ROOM", Rate(20, 100)),
    "join_person": ("LIMIT_JOIN_PERSON", Rate(2, 50)),
    "join_address": ("LIMIT_JOIN_ADDRESS", Rate(10, 150)),
    "join_room": ("LIMIT_JOIN_ROOM", Rate(50, 500)),
    "create_person": ("LIMIT_CREATE_PERSON", Rate(0.5, 30)),
    "create_address": ("LIMIT_CREATE_ADDRESS", Rate(0.1, 10)),
    "create_church": ("LIMIT_CREATE_CHURCH", Rate(1, 60)),
    "react_person": ("LIMIT_REACT_PERSON", Rate(2, 30)),
    "react_room": ("LIMIT_REACT_ROOM", Rate(20, 200)),
    "rename_person": ("LIMIT_RENAME_PERSON", Rate(0.5, 10)),
    "rename_address": ("LIMIT_RENAME_ADDRESS", Rate(10, 150)),
    "refused_address": ("LIMIT_REFUSED_ADDRESS", Rate(20, 200)),
}
"""Every rate limit: its settings field -> (environment variable, default)."""


@dataclass(frozen=True)
class Settings:
    """Everything a node needs; built once and passed to :class:`~steeple.node.Node`."""

    host: str = "0.0.0.0"
    port: int = 8084
    socket_port: int = 8087
    self_hosted: bool = False
    delivery_provider: str = DEFAULT_BACKEND
    jwt_secret: str = ""
    encryption_key: str = ""
    pseudonym_secret: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    # ChurchApps' membership database, read for the group feed switches (PROTOCOL 5.3).
    membership_database_url: str = field(default="", repr=False)
    membership_cache_seconds: float = 30.0
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "steeple"
    node_id: str = ""
    node_ttl: float = 10.0
    redis_buffer_bytes: int = 8 << 20
    redis_buffer_frames: int = 20_000
    trusted_proxies: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ("*",)
    ping_interval: float = 30.0
    socket_buffer_limit: int = 1 << 20
    # Transport limits (PROTOCOL.md 5.6; README "Transport limits" says why these values).
    max_sockets_per_address: int = 500
    handshake_timeout: float = 10.0
    http_read_timeout: float = 10.0
    socket_send_buffer: int = 64 * 1024
    attendance_interval: float = 0.25
    attendance_viewer_limit: int = 200
    attendance_snapshot_spacing: float = 0.02
    stale_sweep_interval: float = 300.0
    history_limit: int = 200
    expo_push_url: str = DEFAULT_EXPO_PUSH_URL
    expo_access_token: str = field(default="", repr=False)
    # Rate limits (PROTOCOL.md 5.6; README "Rate limits" sizes each default).
    post_person: Rate = RATE_LIMITS["post_person"][1]
    post_address: Rate = RATE_LIMITS["post_address"][1]
    post_room: Rate = RATE_LIMITS["post_room"][1]
    join_person: Rate = RATE_LIMITS["join_person"][1]
    join_address: Rate = RATE_LIMITS["join_address"][1]
    join_room: Rate = RATE_LIMITS["join_room"][1]
    create_person: Rate = RATE_LIMITS["create_person"][1]
    create_address: Rate = RATE_LIMITS["create_address"][1]
    create_church: Rate = RATE_LIMITS["create_church"][1]
    react_person: Rate = RATE_LIMITS["react_person"][1]
    react_room: Rate = RATE_LIMITS["react_room"][1]
    rename_person: Rate = RATE_LIMITS["rename_person"][1]
    rename_address: Rate = RATE_LIMITS["rename_address"][1]
    refused_address: Rate = RATE_LIMITS["refused_address"][1]
    """Refused requests an address may earn before it is held (web/flood_hold.py)."""
    flood_hold_seconds: float = 10.0
    anonymous_join_batch: int = 5
    limits_backend: str = ""
    """``memory`` or ``redis``; empty: redis with ``DELIVERY_PROVIDER=redis``, else memory."""
    aws_endpoint_url: str = ""
    aws_region: str = "us-east-1"
    aws_stage: str = ""
    aws_concurrency: int = 32
    aws_timeout: float = 5.0
    migrate_on_start: bool = True
    vapid_private_key: str = field(default="", repr=False)
    vapid_subject: str = "mailto:admin@localhost"
    # Push (PROTOCOL.md 7.1; README "Push notifications").
    push_policy: str = "absent"
    push_queue_size: int = 10_000
    push_workers: int = 4
    push_timeout: float = 10.0
    push_attempts: int = 3
    push_max_backoff: float = 60.0
    push_release_interval: float = 30.0
    ssl_cert_file: str = ""
    """A CA bundle that outgoing TLS (push services) trusts instead of the public CAs."""
    generated: tuple[str, ...] = field(default=(), compare=False)

    def override(self, **values: Any) -> Settings:
        """Return a copy with the given non-None values (CLI flags win over env)."""
        known = {f.name for f in fields(self)}
        chosen = {k: v for k, v in values.items() if v is not None and k in known}
        return replace(self, **chosen).validated()

    def validated(self) -> Settings:
        if self.delivery_provider not in BACKENDS:
            raise ConfigError(
                f"DELIVERY_PROVIDER must be one of {', '.join(BACKENDS)}, "
                f"not {self.delivery_provider!r}"
            )
        for name in ("port", "socket_port"):
            value = getattr(self, name)
            if not 0 <= value <= 65535:
                raise ConfigError(f"{name} must be a TCP port, not {value}")
        if not 1 <= self.history_limit <= MAX_HISTORY_LIMIT:
            raise ConfigError(f"HISTORY_LIMIT must be between 1 and {MAX_HISTORY_LIMIT}")
        if self.membership_cache_seconds < 0:
            raise ConfigError("MEMBERSHIP_CACHE_SECONDS must be 0 (no caching) or more seconds")
        self._validate_limits()
        self._validate_push()
        if len(self.encryption_key.encode()) != 32:
            raise ConfigError("ENCRYPTION_KEY must be exactly 32 bytes (AES-256)")
        if not self.vapid_subject.startswith(("mailto:", "https://")):
            raise ConfigError("VAPID_SUBJECT must be a mailto: or https:// URL (RFC 8292)")
        self._validate_expo()
        if self.delivery_provider == "aws":
            self._validate_aws()
        if self.delivery_provider == "redis":
            self._validate_redis()
        return self

    @property
    def shared_limits(self) -> bool:
        """Whether rate limits are counted in Redis (shared by every node)."""
        if self.limits_backend:
            return self.limits_backend == "redis"
        return self.delivery_provider == "redis"

    def _validate_rates(self) -> None:
        for name, (variable, _) in RATE_LIMITS.items():
            rate = getattr(self, name)
            if not isinstance(rate, Rate):
                raise ConfigError(f"{variable} must be a Rate, not {rate!r}")
            rate.validated(variable)
        if self.limits_backend not in ("", *LIMITS_BACKENDS):
            raise ConfigError(f"LIMITS_BACKEND must be one of {', '.join(LIMITS_BACKENDS)}")
        if not 0 <= self.flood_hold_seconds <= 86400:
            raise ConfigError("FLOOD_HOLD_SECONDS must be 0 (off) to 86400 seconds")
        if not 1 <= self.anonymous_join_batch <= 500:
            raise ConfigError("ANONYMOUS_JOIN_BATCH must be between 1 and 500")

    def _validate_limits(self) -> None:
        self._validate_rates()
        if self.max_sockets_per_address < 0:
            raise ConfigError("MAX_SOCKETS_PER_ADDRESS must be 0 (no cap) or more")
        if self.socket_buffer_limit <= 0 or self.socket_send_buffer < 0:
            raise ConfigError(
                "SOCKET_BUFFER_LIMIT must be positive, SOCKET_SEND_BUFFER not negative"
            )
        for name in ("handshake_timeout", "http_read_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} must be a positive number of seconds")

    def _validate_push(self) -> None:
        if self.push_policy not in PUSH_POLICIES:
            raise ConfigError(f"PUSH_POLICY must be one of {', '.join(PUSH_POLICIES)}")
        if self.push_queue_size < 1 or self.push_workers < 1 or self.push_attempts < 1:
            raise ConfigError("PUSH_QUEUE_SIZE, PUSH_WORKERS and PUSH_ATTEMPTS must be at least 1")
        for name in ("push_timeout", "push_max_backoff", "push_release_interval"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} must be a positive number of seconds")

    def _validate_redis(self) -> None:
        if self.node_ttl <= 0:
            raise ConfigError("NODE_TTL must be a positive number of seconds")
        if self.redis_buffer_bytes < 1 or self.redis_buffer_frames < 1:
            raise ConfigError("REDIS_BUFFER_BYTES and REDIS_BUFFER_FRAMES must be at least 1")
        if not self.redis_prefix or any(ch in self.redis_prefix for ch in " |\n"):
            raise ConfigError("REDIS_PREFIX must be a non-empty word (no spaces or '|')")

    def _validate_aws(self) -> None:
        if not self.aws_endpoint_url.startswith(("https://", "http://")):
            raise ConfigError(
                "DELIVERY_PROVIDER=aws needs APIGATEWAY_ENDPOINT, the WebSocket "
                "API's https:// URL (without the stage)"
            )
        if self.aws_concurrency < 1:
            raise ConfigError("APIGATEWAY_CONCURRENCY must be at least 1")
        if self.aws_timeout <= 0:
            raise ConfigError("APIGATEWAY_TIMEOUT must be a positive number of seconds")

    def _validate_expo(self) -> None:
        if not _https_url(self.expo_push_url):
            raise ConfigError(
                "EXPO_PUSH_URL must be an https:// URL (Expo's push/send endpoint), "
                "without credentials, query or fragment"
            )
        token = self.expo_access_token
        if not (token.isascii() and token.isprintable()) or " " in token:
            raise ConfigError("EXPO_ACCESS_TOKEN must be printable ASCII without spaces")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        generated: list[str] = []
        values: dict[str, Any] = {
            "host": env.get("HOST", "0.0.0.0"),
            "port": _int(env, "SERVER_PORT", _int(env, "PORT", 8084)),
            "socket_port": _int(env, "SOCKET_PORT", 8087),
            "socket_buffer_limit": _int(env, "SOCKET_BUFFER_LIMIT", 1 << 20),
            "socket_send_buffer": _int(env, "SOCKET_SEND_BUFFER", 64 * 1024),
            "self_hosted": _bool(env.get("SELF_HOSTED", "")),
            "delivery_provider": env.get("DELIVERY_PROVIDER", DEFAULT_BACKEND).strip().lower(),
            "database_url": env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            "membership_database_url": env.get("MEMBERSHIP_DATABASE_URL", "").strip(),
            "membership_cache_seconds": _float(env, "MEMBERSHIP_CACHE_SECONDS", 30.0),
            "redis_url": env.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            "redis_prefix": env.get("REDIS_PREFIX") or "steeple",
            "node_id": env.get("NODE_ID", ""),
            "node_ttl": _float(env, "NODE_TTL", 10.0),
            "redis_buffer_bytes": _int(env, "REDIS_BUFFER_BYTES", 8 << 20),
            "redis_buffer_frames": _int(env, "REDIS_BUFFER_FRAMES", 20_000),
            "trusted_proxies": _list(env.get("TRUSTED_PROXIES", "")),
            "cors_origins": _list(env.get("CORS_ORIGINS", "*")) or ("*",),
            "aws_endpoint_url": env.get("APIGATEWAY_ENDPOINT", ""),
            "aws_region": env.get("AWS_REGION", "us-east-1"),
            "aws_stage": env.get("STAGE", ""),
            "aws_concurrency": _int(env, "APIGATEWAY_CONCURRENCY", 32),
            "aws_timeout": _float(env, "APIGATEWAY_TIMEOUT", 5.0),
            "migrate_on_start": _bool(env.get("MIGRATE_ON_START") or "true"),
            "history_limit": _int(env, "HISTORY_LIMIT", 200),
            "expo_push_url": env.get("EXPO_PUSH_URL") or DEFAULT_EXPO_PUSH_URL,
            "expo_access_token": env.get("EXPO_ACCESS_TOKEN", "").strip(),
            "max_sockets_per_address": _int(env, "MAX_SOCKETS_PER_ADDRESS", 500),
            "handshake_timeout": _float(env, "HANDSHAKE_TIMEOUT", 10.0),
            "http_read_timeout": _float(env, "HTTP_READ_TIMEOUT", 10.0),
            "anonymous_join_batch": _int(env, "ANONYMOUS_JOIN_BATCH", 5),
            "limits_backend": env.get("LIMITS_BACKEND", "").strip().lower(),
            "flood_hold_seconds": _float(env, "FLOOD_HOLD_SECONDS", 10.0),
            **_rates(env),
            "vapid_private_key": env.get("VAPID_PRIVATE_KEY", ""),
            "vapid_subject": env.get("VAPID_SUBJECT") or "mailto:admin@localhost",
            "push_policy": env.get("PUSH_POLICY", "absent").strip().lower() or "absent",
            "push_queue_size": _int(env, "PUSH_QUEUE_SIZE", 10_000),
            "push_workers": _int(env, "PUSH_WORKERS", 4),
            "push_timeout": _float(env, "PUSH_TIMEOUT", 10.0),
            "push_attempts": _int(env, "PUSH_ATTEMPTS", 3),
            "push_max_backoff": _float(env, "PUSH_MAX_BACKOFF", 60.0),
            "push_release_interval": _float(env, "PUSH_RELEASE_INTERVAL", 30.0),
            "ssl_cert_file": env.get("SSL_CERT_FILE", ""),
        }
        values["jwt_secret"] = _secret(env, "JWT_SECRET", generated)
        values["encryption_key"] = _secret(env, "ENCRYPTION_KEY", generated, nbytes=16)
        values["pseudonym_secret"] = env.get("PSEUDONYM_SECRET") or values["jwt_secret"]
        return cls(**values, generated=tuple(generated)).validated()


def _https_url(value: str) -> bool:
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(host)
        and not (parts.username or parts.query or parts.fragment)
    )


def _rates(env: Mapping[str, str]) -> dict[str, Rate]:
    return {
        name: Rate.parse(variable, env[variable]) if env.get(variable, "").strip() else default
        for name, (variable, default) in RATE_LIMITS.items()
    }


def _secret(env: Mapping[str, str], name: str, generated: list[str], nbytes: int = 32) -> str:
    value = env.get(name, "")
    if value:
        return value
    generated.append(name)
    return secrets.token_hex(nbytes)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def _bool(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())
