"""The local end-to-end scenarios, run unchanged through API Gateway and the aws delivery.

The ``node``, ``http`` and ``sockets`` fixtures of ``tests/aws/conftest.py`` stand in
for a running node: REST calls become REST API events for the HTTP function, sockets
are API Gateway connections, and frames are what ``PostToConnection`` delivered.
"""

from tests.e2e.test_attendance import (
    test_attendance_follows_join_rename_leave_and_close,
    test_legacy_anonymous_names_are_numbered,
)
from tests.e2e.test_authz import (
    test_anonymous_posts_only_to_public_live_rooms,
    test_denied_callers_get_401_and_nothing_is_written,
    test_one_denied_entry_fails_the_whole_join,
)
from tests.e2e.test_live_chat import test_two_viewers_see_each_others_message_exactly_once
from tests.e2e.test_messages import (
    test_author_deletes_and_others_are_refused,
    test_catchup_is_oldest_first_and_after_returns_the_rest,
    test_conversation_activity_reaches_content_room_subscribers,
    test_edit_sends_the_edited_message,
)

__all__ = [
    "test_anonymous_posts_only_to_public_live_rooms",
    "test_attendance_follows_join_rename_leave_and_close",
    "test_author_deletes_and_others_are_refused",
    "test_catchup_is_oldest_first_and_after_returns_the_rest",
    "test_conversation_activity_reaches_content_room_subscribers",
    "test_denied_callers_get_401_and_nothing_is_written",
    "test_edit_sends_the_edited_message",
    "test_legacy_anonymous_names_are_numbered",
    "test_one_denied_entry_fails_the_whole_join",
    "test_two_viewers_see_each_others_message_exactly_once",
]
