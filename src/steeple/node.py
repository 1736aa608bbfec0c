"""The composition root: one Steeple node, built from Settings, with no globals.

Two nodes can live side by side in one process (tests do this).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, Gauge
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from steeple.auth.hostchat import HostChatCipher
from steeple.auth.pseudonym import Pseudonymizer
from steeple.clock import Clock
from steeple.delivery.backends import Wiring, create_delivery
from steeple.delivery.base import Delivery
from steeple.heartbeat import StaggeredHeartbeat
from steeple.hub import Hub
from steeple.joiner_snapshot import SnapshotsCollector
from steeple.presence import Attendance
from steeple.protocol.frames import Action
from steeple.push.channels import push_client, push_routes
from steeple.push.vapid import web_push_keys
from steeple.services.alerts import Alerts, NotificationSink, SocketSink
from steeple.services.connections import ConnectionService
from steeple.services.context import Context
from steeple.services.conversation_views import ConversationViews
from steeple.services.conversations import ConversationService
from steeple.services.devices import DeviceService
from steeple.services.group_feeds import GroupFeeds
from steeple.services.host_chat import HostChatService
from steeple.services.messages import MessageService
from steeple.services.moderation import ModerationService
from steeple.services.newest_pages import NewestPages, NewestPagesCollector
from steeple.services.notifications import NotificationService
from steeple.services.person_notifications import PersonNotifications
from steeple.services.post_ledger import ledger_for
from steeple.services.preferences import PreferenceService
from steeple.services.private_messages import PrivateMessageService
from steeple.services.push_dispatcher import PushDispatcher
from steeple.services.rate_buckets import buckets_for
from steeple.services.rate_limits import RateLimits
from steeple.services.reach import SocketReach
from steeple.services.reactions import ReactionService
from steeple.services.room_settings import RoomSettingsService
from steeple.services.signed_in_names import SignedInNames
from steeple.services.web_push import WebPushService
from steeple.settings import Settings
from steeple.socket_lifecycle import SocketLifecycle
from steeple.socket_policy import INBOUND_LIMIT
from steeple.stopping import STEP_LIMIT, Step, cancel_and_wait, run_steps
from steeple.storage.store import Store
from steeple.web.app import WebApp
from steeple.web.asgi_socket import AsgiSocketServer
from steeple.web.call import ClientAddress
from steeple.web.flood_hold import FloodHold
from steeple.web.http_protocol import RefusingWebSocketProtocol, TimedHttpProtocol
from steeple.web.router import Router
from steeple.web.routes import (
    connections,
    content,
    conversations,
    devices,
    messages,
    moderation,
    notifications,
    pages,
    person_notifications,
    preferences,
    private_messages,
    reactions,
    room_settings,
    system,
    web_push,
)
from steeple.web.security_headers import SecurityHeaders
from steeple.web.socket_cap import SocketCap
from steeple.web.socket_edge import SocketEdge

log = logging.getLogger(__name__)


class Services:
    """The use cases of one node, wired to one context."""

    def __init__(self, ctx: Context, registry: CollectorRegistry) -> None:
        self.ctx = ctx
        self.group_feeds = GroupFeeds.from_settings(ctx.settings, ctx.clock)
        self.limits = RateLimits(ctx, buckets_for(ctx.settings), registry)
        self.conversations = ConversationService(ctx, self.group_feeds, self.limits)
        self.views = ConversationViews(ctx, self.conversations)
        self.signed_in_names = SignedInNames(ctx.store.connections.signed_in_names)
        self.newest_pages = _newest_pages(ctx)
        self.messages = MessageService(
            ctx, self.conversations, self.signed_in_names, self.newest_pages
        )
        self.connections = ConnectionService(
            ctx, self.conversations, self.signed_in_names, self.limits
        )
        self.reach = SocketReach(ctx.store, ctx.delivery)
        self.push = _push_dispatcher(ctx, self.reach)
        # Push goes last: it runs after the socket frames are handed to delivery.
        sinks: list[NotificationSink] = [SocketSink(ctx.delivery)]
        if self.push is not None:
            sinks.append(self.push)
        self.alerts = Alerts(ctx.store, sinks)
        self.private_messages = PrivateMessageService(ctx, self.alerts, self.limits)
        self.notifications = NotificationService(ctx, self.alerts)
        self.reactions = ReactionService(ctx, self.conversations, self.limits)
        self.moderation = ModerationService(ctx)
        self.host_chat = HostChatService(ctx)
        self.room_settings = RoomSettingsService(ctx, self.conversations, ledger_for(ctx.settings))
        # Rate limits and slow mode record the post they let through, so they go after
        # the guards that refuse; slow mode last, so a refused post starts no wait.
        self.messages.guards += [
            self.moderation.guard,
            self.limits.post,
            self.room_settings.guard,
        ]
        # An edit is a new frame to the whole room: it spends the post allowance (slow
        # mode paces new posts only).
        self.messages.edit_guards.append(self.limits.post)
        self.person_notifications = PersonNotifications(ctx, self.alerts, self.reach, self.push)
        self.preferences = PreferenceService(ctx)
        self.devices = DeviceService(ctx)
        self.web_push = WebPushService(
            ctx, self.devices, web_push_keys(ctx.settings.vapid_private_key)
        )

        self.messages.listeners += [
            self.private_messages.after_message,
            self.notifications.after_message,
        ]


def _push_dispatcher(ctx: Context, reach: SocketReach) -> PushDispatcher | None:
    """The push dispatcher over the channels the settings switch on; None without any."""
    client = push_client(ctx.settings)
    routes = push_routes(ctx.settings, client)
    if not routes:
        return None
    return PushDispatcher(ctx, reach, routes, client.aclose)


class Node:
    """Storage, delivery, hub, services and both edges of one server process."""

    def __init__(
        self, settings: Settings, delivery: Delivery | None = None, clock: Clock | None = None
    ) -> None:
        self.settings = settings
        self.hub = Hub()
        self.store = Store.open(settings.database_url)
        self.delivery = delivery or create_delivery(
            settings, Wiring(self.hub, self.store, self._socket_gone, self._sweep_stale)
        )
        ctx = Context(
            settings=settings,
            store=self.store,
            delivery=self.delivery,
            attendance=Attendance(
                self.store.connections.viewers,
                self._publish,
                settings.attendance_interval,
                settings.attendance_viewer_limit,
                settle=self.delivery.spans_nodes,
                blocked=self.store.blocked_ips.for_room,
                outage=self.store.outage.absorb,
                send=self._send_to,
                snapshot_spacing=settings.attendance_snapshot_spacing,
            ),
            clock=clock or Clock(),
            pseudonyms=Pseudonymizer(settings.pseudonym_secret),
            cipher=HostChatCipher(settings.encryption_key),
        )
        self.ctx = ctx
        self.registry = CollectorRegistry()
        self.services = Services(ctx, self.registry)
        self.lifecycle = SocketLifecycle(self.hub, self.services.connections)
        self.heartbeat = StaggeredHeartbeat(self.hub, settings.ping_interval)
        self.router = Router()
        client_address = ClientAddress(settings.trusted_proxies)
        self.socket_cap = SocketCap(settings.max_sockets_per_address, client_address)
        self.flood_hold = FloodHold(
            settings.refused_address,
            settings.flood_hold_seconds,
            client_address.is_proxy,
            ctx.clock,
            self.registry,
        )
        web = WebApp(
            self.router,
            settings.jwt_secret,
            client_address,
            websocket=self._single_port_sockets() if settings.self_hosted else None,
            outage=self.store.outage.absorb,
            refused=self.flood_hold.refused,
        )
        # ChurchApps web apps call the API from their own origin, with a bearer token
        # (no cookies), as they do upstream.
        self.app: ASGIApp = SecurityHeaders(
            CORSMiddleware(
                web,
                allow_origins=list(settings.cors_origins),
                allow_headers=["*"],
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                max_age=86400,
            )
        )
        self._register_routes()
        self._edge: SocketEdge | None = None
        self._http: uvicorn.Server | None = None
        self._http_socket: socket.socket | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[None]] = []
        self.http_port = 0
        self.socket_port = 0

    async def _publish(self, room: tuple[str, str], action: Action, data: object) -> None:
        await self.ctx.publish(room, action, data)

    async def _send_to(
        self, room: tuple[str, str], socket_ids: list[str], action: Action, data: object
    ) -> None:
        await self.ctx.send_to(room, socket_ids, action, data)

    async def _socket_gone(self, socket_id: str) -> None:
        await self.services.connections.forget_socket(socket_id)

    async def _sweep_stale(self) -> int:
        return await self.services.connections.sweep_stale()

    def _register_routes(self) -> None:
        s = self.services
        connections.register(self.router, s.connections)
        messages.register(self.router, s.messages)
        conversations.register(self.router, s.conversations, s.views, s.messages, s.room_settings)
        room_settings.register(self.router, s.room_settings)
        system.register(self.router, self.health, self.registry)
        pages.register(self.router, lambda: self.socket_port, self.settings.self_hosted)
        private_messages.register(self.router, s.private_messages)
        notifications.register(self.router, s.notifications)
        reactions.register(self.router, s.reactions)
        moderation.register(self.router, s.moderation)
        content.register(self.router, s.host_chat)
        person_notifications.register(self.router, s.person_notifications)
        preferences.register(self.router, s.preferences)
        web_push.register(self.router, s.web_push)
        devices.register(self.router, s.devices)
        Gauge("steeple_sockets", "Open sockets on this node", registry=self.registry).set_function(
            lambda: len(self.hub)
        )
        Gauge(
            "steeple_database_up",
            "1 while the database answers, 0 during an outage",
            registry=self.registry,
        ).set_function(lambda: 0 if self.store.outage.down else 1)
        Gauge(
            "steeple_rooms", "Rooms with a member on this node", registry=self.registry
        ).set_function(lambda: len(self.hub.rooms()))
        push = self.services.push
        if push is not None:
            Gauge(
                "steeple_push_dropped",
                "Pushes dropped because the queue was full",
                registry=self.registry,
            ).set_function(lambda: push.dropped)
            Gauge(
                "steeple_push_queued", "Pushes waiting for a worker", registry=self.registry
            ).set_function(lambda: push.queued)
        if self.services.newest_pages is not None:
            self.registry.register(NewestPagesCollector(self.services.newest_pages))
        if (snapshots := self.ctx.attendance.snapshots) is not None:
            self.registry.register(SnapshotsCollector(snapshots))
        self.delivery.register_metrics(self.registry)

    def _single_port_sockets(self) -> AsgiSocketServer:
        return AsgiSocketServer(
            self.lifecycle,
            self.settings.socket_buffer_limit,
            self.socket_cap,
            self.settings.socket_send_buffer,
        )

    async def health(self) -> dict[str, Any]:
        """``ok``: this node can serve its sockets and its database (send traffic here).
        A delivery backend that is only degraded (Redis away) shows in ``status``."""
        database = await self.store.ping()
        self.store.outage.reported(database)
        delivery = self.delivery.health()
        report: dict[str, Any] = {
            "ok": database,
            "status": _status(database, bool(delivery.get("ok"))),
            "database": database,
            "delivery": delivery,
            "sockets": len(self.hub),
        }
        if "redis" in delivery:
            report["redis"] = delivery["redis"]
        return report

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self.settings.migrate_on_start:
            await self.store.migrate()
        await self.delivery.start()
        await self.services.connections.sweep_stale()
        # HTTP first: a client whose socket reconnects re-joins its rooms over HTTP at
        # once, so the socket port must not accept before the HTTP port does.
        await self._start_http()
        if self.settings.self_hosted:
            self.socket_port = self.http_port
        else:
            self._edge = SocketEdge(
                self.lifecycle,
                self.settings.socket_buffer_limit,
                self.socket_cap,
                self.settings.handshake_timeout,
                self.settings.socket_send_buffer,
            )
            self.socket_port = await self._edge.listen(
                self.settings.host, self.settings.socket_port
            )
        if self.services.push is not None:
            self.services.push.start()
        self._background = [
            asyncio.create_task(self._every(self.heartbeat.period, self.heartbeat.tick)),
            asyncio.create_task(
                self._every(
                    self.settings.stale_sweep_interval, self.services.connections.sweep_stale
                )
            ),
        ]

    async def _start_http(self) -> None:
        read_timeout = self.settings.http_read_timeout
        if self.settings.self_hosted:  # any request head may be a WebSocket handshake
            read_timeout = min(read_timeout, self.settings.handshake_timeout)
        config = uvicorn.Config(
            self.app,
            host=self.settings.host,
            port=self.settings.port,
            lifespan="off",
            # h11 (not httptools, even if installed): TimedHttpProtocol adds read deadlines.
            http=TimedHttpProtocol.bound(read_timeout, self.flood_hold),
            ws=RefusingWebSocketProtocol if self.settings.self_hosted else "none",
            ws_max_size=INBOUND_LIMIT,
            ws_per_message_deflate=False,
            backlog=4096,
            log_level="warning",
            # Single-port sockets get uvicorn's keepalive at the protocol's interval.
            ws_ping_interval=self.settings.ping_interval,
            ws_ping_timeout=self.settings.ping_interval,
            access_log=False,
            timeout_graceful_shutdown=10,
            # Client addresses are ClientAddress's job (TRUSTED_PROXIES); uvicorn's own
            # proxy handling would trust X-Forwarded-For from any loopback peer.
            proxy_headers=False,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        sock = config.bind_socket()
        # uvicorn's socket has proto 0, so asyncio skips TCP_NODELAY on accepted
        # connections; without it every response waits ~40 ms (Nagle + delayed ACK).
        # Linux copies the option from the listener to each accepted socket.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # uvicorn marks it inheritable (for its worker processes; a node has none), and
        # uvloop's subprocesses do not close inherited fds: a child would keep the port
        # listening after the node stops, so a restart on that port fails.
        sock.set_inheritable(False)
        self.flood_hold.guard(sock)
        await server.startup(sockets=[sock])
        self._http, self._http_socket = server, sock
        self.http_port = int(sock.getsockname()[1])
        self._http_task = asyncio.create_task(server.main_loop())

    async def _every(self, seconds: float, work: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                result = work()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("periodic %s failed", getattr(work, "__name__", work))

    async def stop(self) -> None:
        """Close sockets (going away), finish in-flight requests, release everything;
        each step bounded in time (a step that overruns is logged and left behind)."""
        for task in self._background:
            task.cancel()
        self.hub.close_all()
        await run_steps(self._stop_steps())

    def _stop_steps(self) -> list[Step]:
        services = self.services
        steps: list[Step] = []
        if self._edge is not None:
            steps.append(("the socket listener", self._edge.stop))
        steps.append(("the HTTP server", self._stop_http))
        steps.append(("frames still pending", self.ctx.drain))
        if services.push is not None:
            steps.append(("push", services.push.stop))
        steps += [
            ("room settings", services.room_settings.close),
            ("group feeds", services.group_feeds.close),
            ("rate limits", services.limits.close),
            ("held addresses", self._release_held),
            ("delivery", self.delivery.stop),
            ("the store", self.store.close),
        ]
        return steps

    async def _stop_http(self) -> None:
        if self._http is None or self._http_task is None:
            return
        self._http.should_exit = True
        await cancel_and_wait(self._http_task, "the HTTP server's main loop", STEP_LIMIT)
        await self._http.shutdown(sockets=[self._http_socket] if self._http_socket else None)

    async def _release_held(self) -> None:
        self.flood_hold.release_all()

    @property
    def http_url(self) -> str:
        return f"http://{_connect_host(self.settings.host)}:{self.http_port}"

    @property
    def socket_url(self) -> str:
        return f"ws://{_connect_host(self.settings.host)}:{self.socket_port}"


def _newest_pages(ctx: Context) -> NewestPages | None:
    """Newest pages are kept by a node that is its database's one writer: SQLite with
    local delivery (several nodes, or API Gateway's functions, share a database)."""
    single_writer = ctx.settings.delivery_provider == "local"
    if not single_writer or ctx.store.engine.dialect.name != "sqlite":
        return None
    pages = NewestPages(ctx.settings.history_limit)
    ctx.store.message_writes.watchers.append(pages)
    return pages


def _status(database: bool, delivery: bool) -> str:
    if not database:
        return "down"
    return "ok" if delivery else "degraded"


def _connect_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


__all__ = ["Node"]
