"""Who may read, post and moderate: pure functions of a Principal and a conversation.

The rules are PROTOCOL.md section 5. A conversation is a row dict with at least
``churchId``, ``contentType``, ``contentId``, ``visibility`` and
``allowAnonymousPosts``. ``thread`` is the pair of person ids of the private-message
thread that owns the conversation, when it is one. ``switches`` are the feed switches of
a group conversation's group (PROTOCOL.md 5.3), looked up by the caller of a rule about
new posts; every other rule ignores them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from steeple.auth.principal import (
    CHAT_HOST,
    CONTENT_EDIT,
    MESSAGING_ADMIN,
    PEOPLE_CONFIDENTIAL,
    PEOPLE_EDIT,
    Principal,
)
from steeple.feeds import ALL_ON, FeedSwitches
from steeple.protocol.content_types import (
    ANONYMOUS_PUBLIC_TYPES,
    GROUP_TYPES,
    NOTES_TYPES,
    ContentType,
)
from steeple.protocol.rooms import ALERTS_ROOM

Conversation = Mapping[str, Any]
Thread = Collection[str] | None

TASKS_VIEW = "Tasks__View"
CONTENT_ROOM_PREFIX = "content-"


def is_anonymous_public(conversation: Conversation) -> bool:
    return (
        conversation.get("contentType") in ANONYMOUS_PUBLIC_TYPES
        and conversation.get("visibility") == "public"
        and bool(conversation.get("allowAnonymousPosts"))
    )


def can_read(principal: Principal, conversation: Conversation, thread: Thread = None) -> bool:
    if is_anonymous_public(conversation):
        return True
    if not principal.in_church(str(conversation.get("churchId") or "")):
        return False
    content_type = conversation.get("contentType")
    content_id = str(conversation.get("contentId") or "")
    if content_type == ContentType.PERSON:
        return principal.can(PEOPLE_EDIT)
    if content_type == ContentType.PERSON_CONFIDENTIAL:
        return principal.can(PEOPLE_CONFIDENTIAL)
    if content_type == ContentType.PRIVATE_MESSAGE or thread is not None:
        # Only the thread's two people, whatever else the caller may do.
        return thread is not None and bool(principal.person_id) and principal.person_id in thread
    if principal.can(CONTENT_EDIT):
        return True
    if content_type in GROUP_TYPES:
        return is_group_member(principal, content_id)
    if content_type == ContentType.STREAMING_LIVE_HOST:
        return principal.can(CHAT_HOST)
    if content_type == ContentType.WORKFLOW_CARD:
        # Steeple holds no task data: the permission is the only way in.
        return principal.can(TASKS_VIEW)
    return True


def can_post(
    principal: Principal,
    conversation: Conversation,
    thread: Thread = None,
    switches: FeedSwitches = ALL_ON,
) -> bool:
    """A participant (PROTOCOL.md 5.3). ``switches`` gate new posts only: reactions, which
    any participant may add where a switch is off, are judged with the default."""
    if not can_read(principal, conversation, thread):
        return False
    if not principal.authenticated:
        return is_anonymous_public(conversation)
    return _may_post_to_feed(principal, conversation) and feed_is_open(
        principal, conversation, switches
    )


def feed_is_open(principal: Principal, conversation: Conversation, switches: FeedSwitches) -> bool:
    """A group's switch for its kind of feed, which ``Content__Edit`` overrides; no one
    posts to the feed of a group the membership database does not hold."""
    content_type = conversation.get("contentType")
    if content_type not in GROUP_TYPES:
        return True
    if not switches.known:
        return False
    if principal.can(CONTENT_EDIT):
        return True
    if content_type == ContentType.GROUP_ANNOUNCEMENT:
        return switches.announcements
    return switches.discussions


def is_group_member(principal: Principal, group_id: str) -> bool:
    return group_id in principal.group_ids or group_id in principal.leader_group_ids


def can_edit_message(
    principal: Principal,
    message: Mapping[str, Any],
    conversation: Conversation | None,
    thread: Thread = None,
) -> bool:
    """The author or ``Content__Edit``, and only where the caller may read the
    conversation: a private thread stays its two people's whatever else one holds."""
    if not _may_touch(principal, message, conversation, thread):
        return False
    return _is_author(principal, message) or principal.can(CONTENT_EDIT)


def can_delete_message(
    principal: Principal,
    message: Mapping[str, Any],
    conversation: Conversation | None,
    thread: Thread = None,
) -> bool:
    """As editing, plus a leader of the group of a group conversation."""
    if can_edit_message(principal, message, conversation, thread):
        return True
    if conversation is None or not _may_touch(principal, message, conversation, thread):
        return False
    groups = {conversation.get("groupId")}
    if conversation.get("contentType") in GROUP_TYPES:
        groups.add(conversation.get("contentId"))
    return any(g in principal.leader_group_ids for g in groups if g)


def _may_touch(
    principal: Principal,
    message: Mapping[str, Any],
    conversation: Conversation | None,
    thread: Thread,
) -> bool:
    if conversation is None or not principal.in_church(str(message.get("churchId") or "")):
        return False
    return can_read(principal, conversation, thread)


def _is_author(principal: Principal, message: Mapping[str, Any]) -> bool:
    return bool(principal.person_id) and message.get("personId") == principal.person_id


def can_create_conversation(
    principal: Principal,
    conversation: Conversation,
    thread: Thread = None,
    switches: FeedSwitches = ALL_ON,
) -> bool:
    """A new conversation of the caller's church; group feeds follow the posting rule
    (PROTOCOL.md 5.3): a member of the group, a leader for announcements, the feed's
    switch on (or ``Content__Edit``)."""
    return principal.in_church(str(conversation.get("churchId") or "")) and can_post(
        principal, conversation, thread, switches
    )


def can_update_conversation(
    principal: Principal, stored: Conversation, thread: Thread = None
) -> bool:
    """Judged on the stored conversation (PROTOCOL.md 4, ``POST /conversations`` with id):
    notes by their notes permission, a group's by its leaders, anything by
    ``Content__Edit``; a private thread only by one of its people who also holds it."""
    if not principal.in_church(str(stored.get("churchId") or "")):
        return False
    if not can_read(principal, stored, thread):
        return False
    content_type = stored.get("contentType")
    if content_type in NOTES_TYPES:
        return True  # reading notes already took the notes permission
    if content_type in GROUP_TYPES and str(stored.get("contentId")) in principal.leader_group_ids:
        return True
    return principal.can(CONTENT_EDIT)


def _may_post_to_feed(principal: Principal, conversation: Conversation) -> bool:
    """Reading a group feed already took membership; announcements need a leader."""
    if conversation.get("contentType") == ContentType.GROUP_ANNOUNCEMENT:
        return str(conversation.get("contentId")) in principal.leader_group_ids
    return True


def can_see_people(principal: Principal, church_id: str) -> bool:
    """Who may see the personIds of a room's connections: the church's hosts."""
    return principal.in_church(church_id) and (
        principal.can(CONTENT_EDIT) or principal.can(CHAT_HOST)
    )


def can_host(principal: Principal, church_id: str) -> bool:
    """A church's hosts: exempt from slow mode and from a room's post limit."""
    return principal.in_church(church_id) and (
        principal.can(CHAT_HOST) or principal.can(CONTENT_EDIT)
    )


def can_moderate(principal: Principal, church_id: str) -> bool:
    return principal.in_church(church_id) and principal.can(CONTENT_EDIT)


def can_mark_read(principal: Principal, church_id: str, person_id: str) -> bool:
    if not principal.in_church(church_id):
        return False
    return principal.person_id == person_id or principal.can(MESSAGING_ADMIN)


def can_use_alerts(principal: Principal) -> bool:
    return principal.authenticated and bool(principal.person_id)


def content_room(content_type: str, content_id: str) -> str:
    return f"{CONTENT_ROOM_PREFIX}{content_type}-{content_id}"


def parse_content_room(conversation_id: str) -> tuple[str, str] | None:
    """``content-{type}-{id}`` -> (type, id); None for any other room name."""
    if not conversation_id.startswith(CONTENT_ROOM_PREFIX):
        return None
    content_type, sep, content_id = conversation_id[len(CONTENT_ROOM_PREFIX) :].partition("-")
    if not sep or not content_type or not content_id:
        return None
    return content_type, content_id


def can_read_content(
    principal: Principal, church_id: str, content_type: str, content_id: str
) -> bool:
    """May the caller read conversations of this content (the synthetic room rule)."""
    if content_type in ANONYMOUS_PUBLIC_TYPES:
        return True
    probe = {"churchId": church_id, "contentType": content_type, "contentId": content_id}
    return can_read(principal, probe)


def is_alerts(conversation_id: str) -> bool:
    return conversation_id == ALERTS_ROOM
