"""The read and post rules of PROTOCOL.md 5.2-5.3 as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from steeple import access
from steeple.auth.principal import ANONYMOUS, CONTENT_EDIT, Principal
from steeple.feeds import ALL_ON, UNKNOWN_GROUP, FeedSwitches, switch_on


def person(
    church: str = "CH1",
    person_id: str = "P1",
    *,
    permissions: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    leads: tuple[str, ...] = (),
) -> Principal:
    return Principal(
        user_id="u-" + person_id,
        church_id=church,
        person_id=person_id,
        permissions=frozenset(permissions),
        group_ids=frozenset(groups),
        leader_group_ids=frozenset(leads),
    )


def room(
    content_type: str, content_id: str = "G1", church: str = "CH1", **fields: Any
) -> dict[str, Any]:
    row = {
        "id": "conv1",
        "churchId": church,
        "contentType": content_type,
        "contentId": content_id,
        "visibility": "public",
        "allowAnonymousPosts": False,
    }
    row.update(fields)
    return row


PUBLIC_LIVE = room("streamingLive", "svc1", allowAnonymousPosts=True)
EDITOR = person(permissions=("Content__Edit",))
MEMBER = person(groups=("G1",))
LEADER = person(leads=("G1",))
STRANGER = person(groups=("G2",))


def test_anonymous_public_live_room_is_open_to_everyone() -> None:
    for who in (ANONYMOUS, person("CH2"), MEMBER):
        assert access.can_read(who, PUBLIC_LIVE)
        assert access.can_post(who, PUBLIC_LIVE)


@pytest.mark.parametrize(
    "changed",
    [
        {"visibility": "private"},
        {"allowAnonymousPosts": False},
        {"contentType": "streamingLiveHost"},
    ],
)
def test_live_room_without_every_public_flag_is_closed_to_anonymous(
    changed: dict[str, Any],
) -> None:
    conversation = {**PUBLIC_LIVE, **changed}
    assert not access.can_read(ANONYMOUS, conversation)
    assert not access.can_post(ANONYMOUS, conversation)
    assert not access.can_read(person("CH2", permissions=("Chat__Host",)), conversation)


def test_anonymous_and_other_churches_read_nothing_else() -> None:
    for content_type in ("group", "groupAnnouncement", "person", "sermon", "streamingLive"):
        conversation = room(content_type)
        assert not access.can_read(ANONYMOUS, conversation)
        assert not access.can_post(ANONYMOUS, conversation)
        outsider = person(
            "CH2", permissions=("Content__Edit", "People__Edit"), groups=("G1",), leads=("G1",)
        )
        assert not access.can_read(outsider, conversation)


def test_group_rooms_need_membership_or_leadership_or_content_edit() -> None:
    group = room("group")
    for who in (MEMBER, LEADER, EDITOR):
        assert access.can_read(who, group) and access.can_post(who, group)
    assert not access.can_read(STRANGER, group)
    assert not access.can_post(STRANGER, group)


def test_group_announcements_are_read_by_members_and_posted_by_leaders() -> None:
    announcement = room("groupAnnouncement")
    assert access.can_read(MEMBER, announcement)
    assert not access.can_post(MEMBER, announcement)
    assert access.can_post(LEADER, announcement)
    assert not access.can_read(STRANGER, announcement)
    assert not access.can_post(person(leads=("G2",)), announcement)


def test_person_notes_need_people_edit_and_content_edit_does_not_unlock_them() -> None:
    notes = room("person", "PER1")
    assert access.can_read(person(permissions=("People__Edit",)), notes)
    assert not access.can_read(EDITOR, notes)
    assert not access.can_read(person(permissions=("People__View Confidential Notes",)), notes)
    assert not access.can_read(person("CH2", permissions=("People__Edit",)), notes)


def test_confidential_notes_need_the_confidential_permission() -> None:
    notes = room("personConfidential", "PER1")
    assert access.can_read(person(permissions=("People__View Confidential Notes",)), notes)
    assert not access.can_read(person(permissions=("People__Edit", "Content__Edit")), notes)
    assert not access.can_post(EDITOR, notes)


def test_host_chat_needs_chat_host() -> None:
    host = room("streamingLiveHost", "svc1")
    assert access.can_read(person(permissions=("Chat__Host",)), host)
    assert access.can_post(person(permissions=("Chat__Host",)), host)
    assert not access.can_read(MEMBER, host)
    assert not access.can_read(person("CH2", permissions=("Chat__Host",)), host)


def test_private_messages_belong_to_the_two_people_of_the_thread() -> None:
    dm = room("privateMessage", "whatever")
    thread = ("P1", "P2")
    assert access.can_read(person(person_id="P1"), dm, thread)
    assert access.can_post(person(person_id="P2"), dm, thread)
    assert not access.can_read(person(person_id="P3", permissions=("Content__Edit",)), dm, thread)
    assert not access.can_read(person(person_id="P1"), dm)  # no thread: nobody
    assert not access.can_read(person("CH2", "P1"), dm, thread)


def test_other_content_types_are_open_to_the_church() -> None:
    sermon = room("sermon", "S1")
    assert access.can_read(STRANGER, sermon) and access.can_post(STRANGER, sermon)
    assert access.can_read(person(), room("streamingLive", "svc1"))


def test_message_edit_and_delete_rights() -> None:
    mine = {"churchId": "CH1", "personId": "P1"}
    anonymous_message = {"churchId": "CH1", "personId": None}
    sermon = room("sermon", "S1")
    assert access.can_edit_message(person(person_id="P1"), mine, sermon)
    assert not access.can_edit_message(person(person_id="P2"), mine, sermon)
    assert access.can_edit_message(EDITOR, anonymous_message, sermon)
    assert not access.can_edit_message(person("CH2", "P1"), mine, sermon)
    assert not access.can_edit_message(ANONYMOUS, anonymous_message, sermon)
    assert not access.can_edit_message(person(person_id="P1"), mine, None)  # conversation gone
    group = room("group")
    leader = person(person_id="P9", leads=("G1",))
    assert access.can_delete_message(leader, mine, group)
    assert not access.can_delete_message(person(person_id="P9", groups=("G1",)), mine, group)
    assert not access.can_delete_message(leader, mine, sermon)
    assert access.can_delete_message(leader, mine, room("sermon", "S1", groupId="G1"))


def test_private_thread_messages_are_only_their_two_peoples_to_edit_or_delete() -> None:
    dm = room("privateMessage", "P2")
    thread = ("P1", "P2")
    by_p1 = {"churchId": "CH1", "personId": "P1"}
    for outsider in (
        person(person_id="P3"),
        person(person_id="P3", permissions=("Content__Edit",)),
    ):
        assert not access.can_edit_message(outsider, by_p1, dm, thread)
        assert not access.can_delete_message(outsider, by_p1, dm, thread)
    assert access.can_edit_message(person(person_id="P1"), by_p1, dm, thread)
    assert access.can_delete_message(person(person_id="P1"), by_p1, dm, thread)
    assert not access.can_edit_message(person(person_id="P2"), by_p1, dm, thread)


def test_notes_messages_need_the_notes_permission_even_for_content_editors() -> None:
    notes = room("person", "P7")
    entry = {"churchId": "CH1", "personId": "P5"}
    assert not access.can_edit_message(EDITOR, entry, notes)
    assert not access.can_delete_message(EDITOR, entry, notes)
    assert access.can_edit_message(
        person(permissions=("People__Edit", "Content__Edit")), entry, notes
    )


def test_conversation_updates_are_judged_on_the_stored_conversation() -> None:
    member, leader = person(person_id="P4", groups=("G1",)), person(leads=("G1",))
    assert not access.can_update_conversation(member, room("group"))
    assert access.can_update_conversation(leader, room("group"))
    assert access.can_update_conversation(EDITOR, room("streamingLive", "svc1"))
    assert not access.can_update_conversation(member, room("streamingLive", "svc1"))
    assert not access.can_update_conversation(person(), room("person", "P7"))
    assert access.can_update_conversation(person(permissions=("People__Edit",)), room("person"))
    dm, thread = room("privateMessage", "P2"), ("P1", "P2")
    assert not access.can_update_conversation(person(person_id="P3"), dm, thread)
    outside_editor = person(person_id="P3", permissions=("Content__Edit",))
    assert not access.can_update_conversation(outside_editor, dm, thread)
    assert not access.can_update_conversation(person(person_id="P1"), dm, thread)
    assert not access.can_update_conversation(person("CH2", "P1"), room("streamingLive", "s"))


def test_creating_a_group_feed_follows_the_posting_rule() -> None:
    assert access.can_create_conversation(person(groups=("G1",)), room("group"))
    assert not access.can_create_conversation(person(groups=("G2",)), room("group"))
    assert not access.can_create_conversation(person(groups=("G1",)), room("groupAnnouncement"))
    assert access.can_create_conversation(person(leads=("G1",)), room("groupAnnouncement"))
    assert not access.can_create_conversation(ANONYMOUS, room("streamingLive", "svc1"))


def test_content_rooms_follow_the_content_rule() -> None:
    assert access.parse_content_room("content-group-G1") == ("group", "G1")
    assert access.parse_content_room("content-sermon-a-b") == ("sermon", "a-b")
    for bad in ("content-", "content-group", "content--G1", "conv1", "alerts"):
        assert access.parse_content_room(bad) is None
    assert access.content_room("group", "G1") == "content-group-G1"
    assert access.can_read_content(ANONYMOUS, "CH1", "streamingLive", "svc1")
    assert access.can_read_content(MEMBER, "CH1", "group", "G1")
    assert not access.can_read_content(STRANGER, "CH1", "group", "G1")
    assert not access.can_read_content(ANONYMOUS, "CH1", "group", "G1")
    assert not access.can_read_content(MEMBER, "CH2", "group", "G1")
    assert not access.can_read_content(EDITOR, "CH1", "person", "PER1")


def test_alerts_belong_to_authenticated_people() -> None:
    assert access.is_alerts("alerts") and not access.is_alerts("alert")
    assert access.can_use_alerts(person())
    assert not access.can_use_alerts(ANONYMOUS)
    assert not access.can_use_alerts(Principal(user_id="u1", church_id="CH1"))


def test_moderation_and_mark_read() -> None:
    assert access.can_moderate(EDITOR, "CH1")
    assert not access.can_moderate(EDITOR, "CH2")
    assert not access.can_moderate(LEADER, "CH1")
    assert access.can_mark_read(person(person_id="P1"), "CH1", "P1")
    assert not access.can_mark_read(person(person_id="P1"), "CH1", "P2")
    assert access.can_mark_read(person(permissions=("Messaging__Admin",)), "CH1", "P2")


# --- group feed switches (PROTOCOL.md 5.3) ----------------------------------------------

DISCUSSIONS_OFF = FeedSwitches(discussions=False)
ANNOUNCEMENTS_OFF = FeedSwitches(announcements=False)


def test_a_discussion_that_is_off_refuses_new_posts_and_new_rooms_but_content_edit() -> None:
    member, leader = person(groups=("G1",)), person(leads=("G1",))
    editor = person(permissions=(CONTENT_EDIT,))
    chat = room("group")
    for caller in (member, leader):
        assert access.can_post(caller, chat)
        assert not access.can_post(caller, chat, None, DISCUSSIONS_OFF)
        assert not access.can_create_conversation(caller, chat, None, DISCUSSIONS_OFF)
        assert access.can_post(caller, chat, None, ANNOUNCEMENTS_OFF)
    assert access.can_post(editor, chat, None, DISCUSSIONS_OFF)
    assert access.can_create_conversation(editor, chat, None, DISCUSSIONS_OFF)


def test_announcements_that_are_off_refuse_leaders_and_still_need_one() -> None:
    feed = room("groupAnnouncement")
    leader = person(leads=("G1",))
    assert not access.can_post(leader, feed, None, ANNOUNCEMENTS_OFF)
    assert access.can_post(leader, feed, None, DISCUSSIONS_OFF)
    # Content__Edit overrides the switch, not the leader rule.
    leading_editor = person(leads=("G1",), permissions=(CONTENT_EDIT,))
    assert access.can_post(leading_editor, feed, None, ANNOUNCEMENTS_OFF)
    editor = person(permissions=(CONTENT_EDIT,))
    assert not access.can_post(editor, feed, None, ALL_ON)


def test_a_group_the_membership_database_lacks_has_no_feed_for_anyone() -> None:
    everyone = (person(leads=("G1",)), person(leads=("G1",), permissions=(CONTENT_EDIT,)))
    for caller in everyone:
        for content_type in ("group", "groupAnnouncement"):
            assert not access.can_post(caller, room(content_type), None, UNKNOWN_GROUP)
            assert access.can_read(caller, room(content_type))


def test_switches_never_touch_rooms_other_than_group_feeds() -> None:
    closed = FeedSwitches(discussions=False, announcements=False)
    for content_type in ("sermon", "streamingLive"):
        assert access.can_post(person(), room(content_type), None, closed)
        assert access.can_post(person(), room(content_type), None, UNKNOWN_GROUP)


@pytest.mark.parametrize(
    ("stored", "on"),
    [
        (b"\x01", True),
        (b"\x00", False),
        (bytearray(b"\x01"), True),
        (1, True),
        (0, False),
        (True, True),
        (False, False),
        (None, True),
        ("1", True),
        ("0", False),
        ("false", False),
        ("", True),
    ],
)
def test_a_stored_switch_reads_as_on_or_off(stored: object, on: bool) -> None:
    assert switch_on(stored) is on
