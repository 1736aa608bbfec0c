"""``steeple serve | migrate | token | vapid | chat``: parse arguments, then delegate."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from steeple.auth.principal import issue_token
from steeple.delivery.backends import BACKENDS, DEFAULT_BACKEND
from steeple.errors import ConfigError
from steeple.settings import Settings

log = logging.getLogger("steeple")


def _settings_flags(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--host", help="address to listen on (HOST; default 0.0.0.0)")
    add("--port", type=int, help="HTTP port (SERVER_PORT or PORT; default 8084)")
    add("--socket-port", type=int, help="WebSocket port in local mode (SOCKET_PORT; 8087)")
    add(
        "--self-hosted",
        action="store_const",
        const=True,
        help="serve WebSockets on the HTTP port (SELF_HOSTED=1)",
    )
    add(
        "--delivery-provider",
        choices=tuple(BACKENDS),
        help=f"DELIVERY_PROVIDER (default {DEFAULT_BACKEND})",
    )
    add("--jwt-secret", help="HS256 secret shared with the ChurchApps API (JWT_SECRET)")
    add("--encryption-key", help="32-byte key for host-chat room ids (ENCRYPTION_KEY)")
    add("--database-url", help="DATABASE_URL (default sqlite: ./steeple.db)")
    add("--redis-url", help="REDIS_URL for DELIVERY_PROVIDER=redis")
    add(
        "--trusted-proxies",
        type=_csv,
        help="TRUSTED_PROXIES: addresses/CIDRs whose X-Forwarded-For is believed",
    )
    add("--cors-origins", type=_csv, help="CORS_ORIGINS: origins allowed to call (default *)")
    add(
        "--max-sockets-per-address",
        type=int,
        help="MAX_SOCKETS_PER_ADDRESS: open sockets one client address may hold (500; 0: no cap)",
    )


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _settings(args: argparse.Namespace) -> Settings:
    flags = {k: v for k, v in vars(args).items() if k not in ("command", "func")}
    return Settings.from_env().override(**flags)


def _warn_generated(settings: Settings) -> None:
    if len(settings.jwt_secret.encode()) < 32:
        log.warning("JWT_SECRET is shorter than 32 bytes: HS256 keys that short are weak.")
    for name in settings.generated:
        log.warning(
            "%s is not set: using a generated development secret. Tokens and host-chat "
            "ids will not survive a restart; set %s for real use.",
            name,
            name,
        )


def _run(main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())


def freeze_startup_heap() -> None:
    """Take what start-up built (modules, the app, ~100k objects) out of the collector's
    view: each full collection would otherwise walk all of them again, a pause of tens
    of ms that lands on a chat message (bench/probe_serve.py measured it). They live as
    long as the process, so nothing collectable is lost; later objects are collected as
    usual. Only ``steeple serve`` does it: a process holding several nodes (tests) is not
    one long-lived server."""
    gc.collect()
    gc.freeze()


def serve(args: argparse.Namespace) -> int:
    from steeple.node import Node

    settings = _settings(args)
    _warn_generated(settings)

    async def main() -> int:
        node = Node(settings)
        await node.start()
        freeze_startup_heap()
        log.info(
            "steeple: HTTP %s/messaging, sockets %s, database %s, delivery %s",
            node.http_url,
            node.socket_url,
            _safe_url(settings.database_url),
            settings.delivery_provider,
        )
        log.info("steeple: live chat page %s/", node.http_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("steeple: shutting down")
        await node.stop()
        return 0

    return _run(main)


def migrate(args: argparse.Namespace) -> int:
    from steeple.storage.store import Store

    settings = _settings(args)

    async def main() -> int:
        store = Store.open(settings.database_url)
        await store.migrate()
        await store.close()
        print(f"database {_safe_url(settings.database_url)} is at the latest schema")
        return 0

    return _run(main)


def token(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if "JWT_SECRET" in settings.generated:
        raise ConfigError(
            "steeple token needs JWT_SECRET (or --jwt-secret): the server must "
            "share it to accept the token"
        )
    print(
        issue_token(
            settings.jwt_secret,
            church_id=args.church,
            person_id=args.person,
            first_name=args.first_name,
            last_name=args.last_name,
            email=args.email,
            permissions=args.permission,
            group_ids=args.group,
            leader_group_ids=args.leader_group,
            ttl_seconds=args.hours * 3600,
        )
    )
    return 0


def vapid(args: argparse.Namespace) -> int:
    """A new VAPID key pair for web push; only the private key is configured."""
    from steeple.push.vapid import VapidKeys

    keys = VapidKeys.generate()
    print(f"public key:  {keys.public_key_b64}")
    print(f"private key: {keys.private_key_b64}")
    print("set on every node (the public key is derived from it):")
    print(f"VAPID_PRIVATE_KEY={keys.private_key_b64}")
    return 0


def chat(args: argparse.Namespace) -> int:
    from steeple.client.errors import ClientError
    from steeple.client.terminal import ChatOptions, run_chat

    logging.getLogger().setLevel(logging.WARNING)  # no request logs between chat lines
    logging.getLogger("steeple.client").setLevel(logging.ERROR)  # the chat prints its status
    options = ChatOptions(
        url=args.url,
        church=args.church,
        room=args.room,
        name=args.name,
        token=args.token,
        socket_url=args.socket_url,
    )
    try:
        return _run(lambda: run_chat(options, sys.stdin, sys.stdout))
    except ClientError as exc:
        print(f"steeple chat: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def _safe_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return scheme + sep + rest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="steeple", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("serve", help="run a node")
    _settings_flags(p)
    p.set_defaults(func=serve)
    p = commands.add_parser("migrate", help="apply database migrations")
    _settings_flags(p)
    p.set_defaults(func=migrate)
    p = commands.add_parser("token", help="print a signed development JWT")
    _settings_flags(p)
    p.add_argument("--church", required=True)
    p.add_argument("--person", required=True)
    p.add_argument("--first-name", default="")
    p.add_argument("--last-name", default="")
    p.add_argument("--email", default="")
    p.add_argument("--permission", action="append", default=[])
    p.add_argument("--group", action="append", default=[])
    p.add_argument("--leader-group", action="append", default=[])
    p.add_argument("--hours", type=int, default=24)
    p.set_defaults(func=token)
    p = commands.add_parser("vapid", help="print a new VAPID key pair for web push")
    p.set_defaults(func=vapid)
    p = commands.add_parser("chat", help="chat in a room from the terminal")
    p.add_argument("--url", default="http://localhost:8084", help="the node's HTTP URL")
    p.add_argument("--socket-url", help="WebSocket URL (default ws://<host of --url>:8087)")
    p.add_argument("--church", required=True, help="churchId of the room")
    p.add_argument(
        "--room",
        required=True,
        help="contentType:contentId (e.g. streamingLive:SERVICE, the current "
        "conversation of that content) or a conversation id",
    )
    p.add_argument("--name", default="", help="your display name")
    p.add_argument("--token", help="a JWT to chat signed in (default: anonymous)")
    p.set_defaults(func=chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)  # a line per socket otherwise
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"steeple: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
