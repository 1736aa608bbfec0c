"""The storage facade: one engine, one repository per table family."""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from steeple.storage.blocked_ips import BlockedIpRepository
from steeple.storage.connections import ConnectionRepository
from steeple.storage.conversations import ConversationRepository
from steeple.storage.delivery_logs import DeliveryLogRepository
from steeple.storage.devices import DeviceRepository
from steeple.storage.engine import create_engine, migrate
from steeple.storage.group_commit import GroupCommit
from steeple.storage.held_pushes import HeldPushRepository
from steeple.storage.message_writes import MessageWrites
from steeple.storage.messages import MessageRepository
from steeple.storage.notifications import NotificationRepository
from steeple.storage.outage import DatabaseOutage
from steeple.storage.preferences import PreferenceRepository
from steeple.storage.private_messages import PrivateMessageRepository
from steeple.storage.reactions import ReactionRepository
from steeple.storage.room_settings import RoomSettingsRepository
from steeple.storage.transactions import Transactions
from steeple.storage.wal_checkpoints import WalCheckpoints


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.checkpoints = WalCheckpoints(engine)
        event.listen(engine.sync_engine, "commit", lambda _db: self.checkpoints.committed())
        self.transactions = Transactions(engine, self.checkpoints.committed)
        self.connections = ConnectionRepository(engine, self.transactions)
        self.new_connections = GroupCommit(self.connections.replace)
        self.message_writes = MessageWrites()
        """Told after every write to messages; what keeps copies of them listens."""
        self.conversations = ConversationRepository(engine, self.message_writes)
        self.messages = MessageRepository(engine, self.transactions, self.message_writes)
        self.new_messages = GroupCommit(self.messages.add)
        self.blocked_ips = BlockedIpRepository(engine)
        self.private_messages = PrivateMessageRepository(engine, self.message_writes)
        self.reactions = ReactionRepository(engine)
        self.notifications = NotificationRepository(engine)
        self.room_settings = RoomSettingsRepository(engine)
        self.devices = DeviceRepository(engine)
        self.preferences = PreferenceRepository(engine)
        self.delivery_logs = DeliveryLogRepository(engine)
        self.held_pushes = HeldPushRepository(engine)
        self.outage = DatabaseOutage(self.ping)

    @classmethod
    def open(cls, url: str) -> Store:
        return cls(create_engine(url))

    async def migrate(self) -> None:
        await migrate(self.engine)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as db:
                await db.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.outage.close()
        await self.transactions.close()
        await self.checkpoints.close()
        await self.engine.dispose()
