"""``/messaging/conversations``."""

from __future__ import annotations

from typing import Any

from steeple import validation
from steeple.errors import BadRequest, Unauthorized
from steeple.protocol.content_types import ContentType
from steeple.services.conversation_views import ConversationViews
from steeple.services.conversations import ConversationService, parse_new_conversation
from steeple.services.messages import MessageService
from steeple.services.room_settings import RoomSettingsService
from steeple.types import ID_LENGTH
from steeple.validation import path_id
from steeple.web.call import Call
from steeple.web.router import Router

BASE = "/messaging/conversations"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def page_limit(raw: str | None) -> int:
    """``limit`` clamped to 1..100; anything that is not a number means the default
    (PROTOCOL.md 4): ChurchApps clients send what they have and expect a page back."""
    try:
        wanted = int(raw or "")
    except ValueError:
        return DEFAULT_LIMIT
    return max(1, min(wanted, MAX_LIMIT))


def register(
    router: Router,
    conversations: ConversationService,
    views: ConversationViews,
    messages: MessageService,
    settings: RoomSettingsService,
) -> None:
    @router.route("GET", BASE + "/current/:churchId/:contentType/:contentId")
    async def current(call: Call) -> Any:
        found = await conversations.current(
            call.principal,
            call.path_id("churchId"),
            call.path_id("contentType"),
            call.params["contentId"],
            call.address,
        )
        return await settings.reported(found)

    @router.route("POST", BASE + "/ensure")
    async def ensure(call: Call) -> Any:
        if not call.principal.authenticated:
            raise Unauthorized()
        entry = validation.an_object(call.json())
        content_type = validation.text(entry, "contentType")
        if content_type != ContentType.STREAMING_LIVE:
            raise BadRequest(f"'contentType' must be {ContentType.STREAMING_LIVE}")
        content_id = validation.identifier(entry, "contentId", max_length=ID_LENGTH)
        found = await conversations.current(
            call.principal, call.principal.church_id, content_type, content_id, call.address
        )
        return await settings.reported(found)

    @router.route("GET", BASE + "/messages/:contentType/:contentId", returns_list=True)
    async def pages(call: Call) -> Any:
        return await views.pages(
            call.principal,
            call.path_id("contentType"),
            call.path_id("contentId"),
            validation.positive_int(call.query("page"), "page", 1, 100_000),
            page_limit(call.query("limit")),
        )

    @router.route("GET", BASE + "/timeline/ids", returns_list=True)
    async def timeline(call: Call) -> Any:
        ids = [i for i in (call.query("ids") or "").split(",") if i]
        for value in ids:
            path_id(value, "ids")
        return await views.timeline(call.principal, ids[:200])

    @router.route("GET", BASE + "/posts", returns_list=True)
    async def posts(call: Call) -> Any:
        return await views.posts(call.principal)

    @router.route("GET", BASE + "/posts/group/:groupId", returns_list=True)
    async def group_posts(call: Call) -> Any:
        return await views.posts(call.principal, call.path_id("groupId"))

    @router.route("GET", BASE + "/:churchId/:id")
    async def one(call: Call) -> Any:
        found = await conversations.readable(
            call.principal, call.path_id("churchId"), call.path_id("id"), fresh=True
        )
        return await settings.reported(found)

    @router.route("GET", BASE + "/:churchId/:contentType/:contentId", returns_list=True)
    async def for_content(call: Call) -> Any:
        return await conversations.for_content(
            call.principal,
            call.path_id("churchId"),
            call.path_id("contentType"),
            call.path_id("contentId"),
        )

    @router.route("POST", BASE)
    async def create(call: Call) -> Any:
        entries = [parse_new_conversation(e) for e in validation.array_of_objects(call.json())]
        return await conversations.save_all(call.principal, entries, call.address)

    @router.route("POST", BASE + "/start")
    async def start(call: Call) -> Any:
        return await messages.start_conversation(call.principal, call.json(), call.address)

    @router.route("DELETE", BASE + "/:churchId/:id")
    async def delete(call: Call) -> Any:
        await conversations.delete(call.principal, call.path_id("churchId"), call.path_id("id"))
        return {}
