"""The two fixed conversation ids of per-person news (PROTOCOL.md 3), side by side.

They look alike and are different words: a client *joins* ``alerts`` to hear its own
news, and the ``notification`` frames it then receives carry ``alert`` as their
conversationId.
"""

from __future__ import annotations

ALERTS_ROOM = "alerts"
"""The room a signed-in client joins for its own notifications and private messages."""

NOTIFICATION_CONVERSATION_ID = "alert"
"""The conversationId stamped on every ``notification`` frame."""
