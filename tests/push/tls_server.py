"""A Starlette app served over TLS by uvicorn on a free loopback port: how the fake
push services listen, so the node reaches them exactly as it reaches the real ones."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.types import ASGIApp

from tests.push.expo_ca import CertificateFiles


class TlsServer:
    def __init__(self, app: ASGIApp, certificates: CertificateFiles) -> None:
        self._config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            lifespan="off",
            log_level="warning",
            access_log=False,
            ssl_certfile=str(certificates.cert_file),
            ssl_keyfile=str(certificates.key_file),
            timeout_graceful_shutdown=1,
        )
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Listen; the port chosen."""
        config = self._config
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        sock = config.bind_socket()
        sock.set_inheritable(False)
        await server.startup(sockets=[sock])
        self._server, self._socket = server, sock
        self._task = asyncio.create_task(server.main_loop())
        return int(sock.getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            await self._server.shutdown(sockets=[self._socket] if self._socket else None)
        self._server = self._task = None
