"""The repositories behind private messages, notifications, reactions and blocks,
over SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from typing import Any, cast

from steeple.storage.rows import BlockedIpRow, NotificationRow, PrivateMessageRow, ReactionRow
from steeple.storage.store import Store
from steeple.types import new_id
from tests.storage.rows import at, conversation, message


def thread(conversation_id: str, sender: str = "P1", recipient: str = "P2") -> PrivateMessageRow:
    return {
        "id": new_id(),
        "churchId": "CH1",
        "fromPersonId": sender,
        "toPersonId": recipient,
        "conversationId": conversation_id,
        "notifyPersonId": None,
    }


def notification(
    person: str, content_id: str, content_type: str = "group", **fields: Any
) -> NotificationRow:
    row = {
        "id": new_id(),
        "churchId": "CH1",
        "personId": person,
        "contentType": content_type,
        "contentId": content_id,
        "timeSent": at(),
        "isNew": True,
        "message": "New message",
        "link": None,
        "deliveryMethod": None,
        "triggeredByPersonId": "P9",
        "category": None,
    }
    return cast(NotificationRow, {**row, **fields})


async def test_threads_inbox_flags_and_delete(store: Store) -> None:
    quiet, busy = (
        conversation(content_type="privateMessage"),
        conversation(content_type="privateMessage", dateCreated=at(-5)),
    )
    first, second = thread(quiet["id"]), thread(busy["id"], "P3", "P1")
    await store.private_messages.create(first, quiet)
    await store.conversations.insert(busy)
    await store.private_messages.create(second)
    last = message(busy, at(10), "latest", personId="P3")
    await store.messages.add([last])
    assert await store.private_messages.between("CH1", "P2", "P1") == first
    assert await store.private_messages.between("CH2", "P2", "P1") is None
    inbox = await store.private_messages.inbox("CH1", "P1")
    assert [(t["id"], c["id"], c["lastPostId"]) for t, c in inbox] == [
        (second["id"], busy["id"], last["id"]),
        (first["id"], quiet["id"], None),
    ]

    await store.private_messages.flag(second["id"], "P1")
    await store.notifications.keep_shadow(notification("P1", second["id"], "privateMessage"))
    await store.notifications.keep_shadow(notification("P1", second["id"], "privateMessage"))
    assert await store.notifications.counts("CH1", "P1") == {"notificationCount": 0, "pmCount": 1}
    assert await store.private_messages.clear_flag(second, "P2") is False
    assert await store.private_messages.clear_flag(second, "P1") is True
    assert await store.notifications.counts("CH1", "P1") == {"notificationCount": 0, "pmCount": 0}
    await store.private_messages.delete_thread(second)
    assert await store.private_messages.get("CH1", second["id"]) is None
    assert await store.conversations.get(busy["id"]) is None
    assert await store.messages.get(last["id"]) is None
    assert [t["id"] for t, _ in await store.private_messages.inbox("CH1", "P1")] == [first["id"]]


async def test_notifications_list_count_and_leave_shadow_rows_alone(store: Store) -> None:
    await store.notifications.add(
        [
            notification("P1", "G1", timeSent=at(1)),
            notification("P1", "G2", timeSent=at(2)),
            notification("P1", "T1", "privateMessage"),
            notification("P2", "G1"),
        ]
    )
    assert await store.notifications.with_unread("CH1", "group", "G1", ["P1", "P3"]) == {"P1"}
    mine = await store.notifications.for_person("CH1", "P1")
    assert [n["contentId"] for n in mine] == ["G2", "G1"]
    assert await store.notifications.counts("CH1", "P1") == {"notificationCount": 2, "pmCount": 0}
    assert await store.notifications.mark_read("CH1", "P1") == 2
    assert await store.notifications.with_unread("CH1", "group", "G1", ["P1"]) == set()
    assert await store.notifications.delete_for("CH1", "P1") == 2
    assert await store.notifications.for_person("CH1", "P1") == []
    assert await store.notifications.with_unread("CH1", "privateMessage", "T1", ["P1"]) == {"P1"}


async def test_reactions_toggle_with_emoji(store: Store) -> None:
    room = conversation()
    await store.conversations.insert(room)
    text = message(room, at(1))
    await store.messages.add([text])

    def reaction(person: str, emoji: str) -> ReactionRow:
        return {
            "id": new_id(),
            "churchId": "CH1",
            "messageId": text["id"],
            "conversationId": room["id"],
            "personId": person,
            "emoji": emoji,
            "timeAdded": at(2),
        }

    assert await store.reactions.toggle(reaction("P1", "👍🏽")) is True
    assert await store.reactions.toggle(reaction("P2", "👍🏽")) is True
    assert await store.reactions.summary([text["id"]], "P2") == {
        text["id"]: [{"emoji": "👍🏽", "count": 2, "mine": True}]
    }
    assert await store.reactions.toggle(reaction("P1", "👍🏽")) is False
    assert await store.reactions.summary([text["id"]], "P1") == {
        text["id"]: [{"emoji": "👍🏽", "count": 1, "mine": False}]
    }


async def test_blocks_toggle_and_clear(store: Store) -> None:
    def block(room: str, ip: str, service: str = "svc1") -> BlockedIpRow:
        return {
            "id": new_id(),
            "churchId": "CH1",
            "conversationId": room,
            "serviceId": service,
            "ipAddress": ip,
        }

    assert await store.blocked_ips.toggle(
        [block("r1", "ip-a"), block("r1", "ip-b"), block("r2", "ip-a", "svc2")]
    ) == [True, True, True]
    assert await store.blocked_ips.for_room(("CH1", "r1")) == ["ip-a", "ip-b"]
    assert await store.blocked_ips.for_room(("CH1", "r2")) == ["ip-a"]
    assert await store.blocked_ips.for_room(("CH2", "r2")) == []
    assert await store.blocked_ips.toggle([block("r1", "ip-a")]) == [False]
    assert await store.blocked_ips.clear_services("CH1", ["svc1"]) == [("CH1", "r1")]
    assert await store.blocked_ips.for_room(("CH1", "r1")) == []
    assert await store.blocked_ips.for_room(("CH1", "r2")) == ["ip-a"]
