"""The wire words: close codes, content types and the alerts room names each defined once."""

from __future__ import annotations

from websockets.frames import CloseCode as WebsocketsCloseCode

from steeple import access
from steeple.protocol import Action, CloseCode, ContentType
from steeple.protocol.content_types import ANONYMOUS_PUBLIC_TYPES, GROUP_TYPES, NOTES_TYPES
from steeple.protocol.rooms import ALERTS_ROOM, NOTIFICATION_CONVERSATION_ID


def test_standard_close_codes_are_rfc_6455s() -> None:
    for code in CloseCode:
        if code < 4000:  # 4000-4999 are for applications
            assert WebsocketsCloseCode(code).name == code.name


def test_the_slow_consumer_code_is_an_application_code() -> None:
    assert 4000 <= CloseCode.SLOW_CONSUMER <= 4999
    assert CloseCode.SLOW_CONSUMER == 4008


def test_content_types_equal_the_strings_stored_in_rows() -> None:
    row = {"contentType": "groupAnnouncement"}
    assert row["contentType"] == ContentType.GROUP_ANNOUNCEMENT
    assert row["contentType"] in GROUP_TYPES
    assert {ContentType.PRIVATE_MESSAGE: 1}["privateMessage"] == 1
    assert f"{ContentType.STREAMING_LIVE}" == "streamingLive"


def test_the_type_groups_are_made_of_content_types() -> None:
    assert set(ANONYMOUS_PUBLIC_TYPES) == {"streamingLive", "freeshow"}
    assert set(GROUP_TYPES) == {"group", "groupAnnouncement"}
    assert set(NOTES_TYPES) == {"person", "personConfidential"}


def test_a_private_message_is_both_an_action_and_a_content_type() -> None:
    assert Action.PRIVATE_MESSAGE == ContentType.PRIVATE_MESSAGE == "privateMessage"


def test_the_alerts_room_and_the_notification_conversation_are_different_words() -> None:
    assert (ALERTS_ROOM, NOTIFICATION_CONVERSATION_ID) == ("alerts", "alert")
    assert access.is_alerts("alerts") and not access.is_alerts("alert")
