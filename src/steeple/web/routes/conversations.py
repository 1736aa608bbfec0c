"""``/messaging/conversations``."""

from __future__ import annotations

from typing import Any

from steeple.services.conversation_views import ConversationViews
from steeple.services.conversations import ConversationService
from steeple.services.messages import MessageService
from steeple.services.room_settings import RoomSettingsService
from steeple.web.call import Call
from steeple.web.router import Router

BASE = "/messaging/conversations"


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
        return await settings.reported(
            await conversations.ensure(call.principal, call.json, call.address)
        )

    @router.route("GET", BASE + "/messages/:contentType/:contentId", returns_list=True)
    async def pages(call: Call) -> Any:
        return await views.pages(
            call.principal,
            call.path_id("contentType"),
            call.path_id("contentId"),
            call.query("page"),
            call.query("limit"),
        )

    @router.route("GET", BASE + "/timeline/ids", returns_list=True)
    async def timeline(call: Call) -> Any:
        return await views.timeline(call.principal, call.query("ids"))

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
        return await conversations.save_all(call.principal, call.json(), call.address)

    @router.route("POST", BASE + "/start")
    async def start(call: Call) -> Any:
        return await messages.start_conversation(call.principal, call.json(), call.address)

    @router.route("DELETE", BASE + "/:churchId/:id")
    async def delete(call: Call) -> Any:
        await conversations.delete(call.principal, call.path_id("churchId"), call.path_id("id"))
        return {}
