"""One probe per route: try it as a caller, say whether the server allowed it.

A probe answers True (allowed) or False (refused) and fails outright when the answer
is neither a clean success nor a clean denial, or when what was stored disagrees with
what the server answered: a refused write must leave every row as it was, an allowed
one must have happened. Section 4 of PROTOCOL.md: a denial is 401 ``Unauthorized``
with ``{}`` (``[]`` on GET routes that return a list); a caller from another church
addressing a row by id may also be told it is missing (404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from steeple.storage.rows import ConnectionRow
from tests.e2e.authz_table import CALLERS, CHURCH, CONTENT, OTHER_CHURCH, Caller
from tests.e2e.authz_world import RESIDENT, World, headers

Probe = Callable[[World, Caller, str], Awaitable[bool]]
SEE_PERSON_IDS = ("editor", "host")  # Content__Edit or Chat__Host of CH1
CONVERSATION_FIELDS = ("contentType", "contentId", "title", "visibility", "allowAnonymousPosts")


def refused(response: httpx.Response, empty: Any, caller: Caller) -> bool:
    if response.status_code == 404 and caller.church == OTHER_CHURCH:
        return isinstance(response.json(), dict | list)
    return (response.status_code, response.reason_phrase, response.json()) == (
        401,
        "Unauthorized",
        empty,
    )


def verdict(response: httpx.Response, empty: Any, caller: Caller, allowed: bool) -> bool:
    """``allowed`` when the answer was a success; fails on anything but a clean denial."""
    if response.status_code == 200:
        assert allowed, f"200 without the expected effect: {response.text[:300]}"
        return True
    assert refused(response, empty, caller), (
        f"neither allowed nor a clean denial: {response.status_code} "
        f"{response.reason_phrase} {response.text[:300]}"
    )
    return False


def ids(body: Any) -> list[str]:
    return [row.get("id") for row in body] if isinstance(body, list) else []


# --- reads ------------------------------------------------------------------------------


async def catchup(w: World, c: Caller, kind: str) -> bool:
    response = await w.call(c, "GET", f"/messages/catchup/{CHURCH}/{w.room_id(kind)}")
    return verdict(response, [], c, w.secret[kind]["id"] in ids(response.json()))


async def history(w: World, c: Caller, kind: str) -> bool:
    response = await w.call(c, "GET", f"/messages/conversation/{w.room_id(kind)}")
    return verdict(response, [], c, w.secret[kind]["id"] in ids(response.json()))


async def one_message(w: World, c: Caller, kind: str) -> bool:
    response = await w.call(c, "GET", f"/messages/{CHURCH}/{w.secret[kind]['id']}")
    body = response.json()
    return verdict(
        response, {}, c, isinstance(body, dict) and body.get("id") == w.secret[kind]["id"]
    )


async def one_conversation(w: World, c: Caller, kind: str) -> bool:
    response = await w.call(c, "GET", f"/conversations/{CHURCH}/{w.room_id(kind)}")
    body = response.json()
    return verdict(response, {}, c, isinstance(body, dict) and body.get("id") == w.room_id(kind))


async def by_content(w: World, c: Caller, kind: str) -> bool:
    content_type, content_id = CONTENT[kind]
    response = await w.call(c, "GET", f"/conversations/{CHURCH}/{content_type}/{content_id}")
    listed = w.room_id(kind) in ids(response.json())
    if response.status_code == 200 and not listed and kind == "pm":
        return False  # who reads "privateMessage content" is a thread question, not a list's
    return verdict(response, [], c, listed)


async def pages(w: World, c: Caller, kind: str) -> bool:
    content_type, content_id = CONTENT[kind]
    response = await w.call(c, "GET", f"/conversations/messages/{content_type}/{content_id}")
    return _listed_or_refused(response, c, w.room_id(kind))


async def timeline(w: World, c: Caller, kind: str) -> bool:
    response = await w.call(c, "GET", f"/conversations/timeline/ids?ids={w.room_id(kind)}")
    return _listed_or_refused(response, c, w.room_id(kind))


def _listed_or_refused(response: httpx.Response, c: Caller, conversation_id: str) -> bool:
    """Routes that filter: an unreadable conversation is left out, or the call refused."""
    if response.status_code == 200:
        return conversation_id in ids(response.json())
    return verdict(response, [], c, False)


async def current(w: World, c: Caller, kind: str) -> bool:
    content_type, content_id = CONTENT[kind]
    before = await w.node.store.conversations.for_content(CHURCH, content_type, content_id)
    response = await w.call(c, "GET", f"/conversations/current/{CHURCH}/{w.content_path(kind)}")
    after = await w.node.store.conversations.for_content(CHURCH, content_type, content_id)
    body = response.json()
    if kind == "pm":
        assert ids(after) == ids(before), "current created a private-message conversation"
        matches = isinstance(body, dict) and body.get("id") == w.room_id("pm")
    else:
        want = (content_type, content_id)
        matches = (
            isinstance(body, dict) and (body.get("contentType"), body.get("contentId")) == want
        )
    allowed = verdict(response, {}, c, matches)
    if not allowed:
        assert ids(after) == ids(before), "a refused current created a conversation"
    return allowed


async def pm_thread(w: World, c: Caller, kind: str) -> bool:
    response = await w.call(c, "GET", f"/privateMessages/{w.thread['id']}")
    body = response.json()
    return verdict(response, {}, c, isinstance(body, dict) and body.get("id") == w.thread["id"])


# --- posts ------------------------------------------------------------------------------


async def send(w: World, c: Caller, kind: str) -> bool:
    content = f"sent by {c.name}"
    entry = {"churchId": CHURCH, "conversationId": w.room_id(kind), "content": content}
    response = await w.call(c, "POST", "/messages/send", [{**entry, "displayName": c.name}])
    return await _posted(w, c, kind, response, content)


async def post(w: World, c: Caller, kind: str) -> bool:
    content = f"posted by {c.name}"
    body = [{"conversationId": w.room_id(kind), "content": content}]
    response = await w.call(c, "POST", "/messages", body)
    return await _posted(w, c, kind, response, content)


async def _posted(w: World, c: Caller, kind: str, response: httpx.Response, content: str) -> bool:
    stored = [
        m
        for m in await w.node.store.messages.in_conversation(w.room_id(kind))
        if m["content"] == content
    ]
    body = response.json()
    saved = isinstance(body, list) and ids(body) == ids(stored) and len(stored) == 1
    allowed = verdict(response, {}, c, saved)
    assert allowed or not stored, "a refused post was stored"
    return allowed


# --- rooms ------------------------------------------------------------------------------


def join_entry(w: World, socket_id: str, kind: str, name: str) -> dict[str, Any]:
    return {
        "churchId": CHURCH,
        "conversationId": w.room_id(kind),
        "socketId": socket_id,
        "displayName": name,
    }


async def rows_in(w: World, socket_id: str, kind: str) -> list[ConnectionRow]:
    rows = await w.node.store.connections.socket_rows(socket_id)
    return [r for r in rows if r["conversationId"] == w.room_id(kind)]


async def join(w: World, c: Caller, kind: str) -> bool:
    socket_id = w.socket[c.name].socket_id
    response = await w.call(c, "POST", "/connections", [join_entry(w, socket_id, kind, c.name)])
    rows = await rows_in(w, socket_id, kind)
    if kind == "alerts":
        # The server forces church and person from the token.
        want = [(c.church, c.person)] if response.status_code == 200 else []
    else:
        # The row's church is the room's; its person only for a caller of that church.
        person = c.person if c.church == CHURCH and c.signed_in else None
        want = [(CHURCH, person)] if response.status_code == 200 else []
    assert [(r["churchId"], r["personId"]) for r in rows] == want, rows
    if response.status_code != 200:
        await no_attendance_for(w, c, kind)
    return verdict(response, {}, c, bool(rows))


async def no_attendance_for(w: World, c: Caller, kind: str) -> None:
    """A refused joiner's socket got no snapshot of the room: neither its viewers nor its
    blocked addresses (every snapshot asked for has gone out, then a getId answer
    follows them on the socket)."""
    await w.node.ctx.attendance.drain()
    socket = w.socket[c.name]
    await socket.ws.send("getId")
    await socket.next("socketId")
    leaked = [
        frame
        for action in ("attendance", "blockedIp")
        for frame in socket.pending(action)
        if frame["conversationId"] == w.room_id(kind)
    ]
    assert leaked == [], f"a refused joiner was sent {leaked}"


async def list_connections(w: World, c: Caller, kind: str) -> bool:
    response = await w.call(c, "GET", f"/connections/{CHURCH}/{w.room_id(kind)}")
    body = response.json()
    if response.status_code == 200:
        assert isinstance(body, list) and body, body
        assert all("socketId" not in row for row in body), f"socketIds listed: {body}"
        persons = {row.get("personId") for row in body} - {None}
        if c.name in SEE_PERSON_IDS:
            assert CALLERS[RESIDENT[kind]].person in persons, body
        else:
            assert not persons, f"personIds listed to {c.name}: {body}"
    return verdict(response, [], c, True)


async def leave(w: World, c: Caller, kind: str) -> bool:
    """The caller's socket is in the room (put there by a reader); may the caller leave?"""
    socket_id = w.socket[c.name].socket_id
    reader = RESIDENT[kind]
    entry = join_entry(w, socket_id, kind, c.name)
    joined = await w.http.post("/connections", json=[entry], headers=headers(reader))
    assert joined.status_code == 200, joined.text
    path = f"/connections/{CHURCH}/{w.room_id(kind)}/{socket_id}"
    response = await w.call(c, "DELETE", path)
    remaining = await rows_in(w, socket_id, kind)
    allowed = verdict(response, {}, c, response.json() == {"success": True} and not remaining)
    assert allowed or remaining, "a refused leave removed the row"
    await w.http.delete(path, headers=headers(reader))
    return allowed


# --- message changes --------------------------------------------------------------------


async def react(w: World, c: Caller, kind: str) -> bool:
    message_id = w.secret[kind]["id"]
    response = await w.call(c, "POST", f"/messages/{message_id}/reactions", {"emoji": "+1"})
    body = response.json()
    return verdict(response, {}, c, isinstance(body, dict) and body.get("messageId") == message_id)


async def edit(w: World, c: Caller, kind: str) -> bool:
    target = w.edit_target[kind]
    before = await w.node.store.messages.get(target["id"])
    assert before is not None
    content = f"{w.marker[kind]} edited by {c.name}"
    body = [{"id": target["id"], "conversationId": w.room_id(kind), "content": content}]
    response = await w.call(c, "POST", "/messages", body)
    after = await w.node.store.messages.get(target["id"])
    assert after is not None
    allowed = verdict(response, {}, c, after["content"] == content)
    if allowed:
        assert (after["personId"], after["displayName"]) == (
            before["personId"],
            before["displayName"],
        ), "an edit changed the author"
    else:
        assert after == before, "a refused edit changed the message"
    return allowed


async def delete(w: World, c: Caller, kind: str) -> bool:
    target = w.delete_target[(kind, c.name)]
    response = await w.call(c, "DELETE", f"/messages/{target['id']}")
    stored = await w.node.store.messages.get(target["id"])
    allowed = verdict(response, {}, c, stored is None)
    assert allowed or stored is not None, "a refused delete removed the message"
    return allowed


# --- conversation updates ---------------------------------------------------------------


async def rename(w: World, c: Caller, kind: str) -> bool:
    title = f"{w.marker[kind]} renamed by {c.name}"
    return await _update(w, c, kind, {"title": title})


# Switch the Sunday room off (no anonymous reading or posting, a group room), or make
# any other room an anonymous-public live room: the two takeovers of issue 8.
SWITCH_OFF = {
    "contentType": "group",
    "contentId": "G1",
    "visibility": "hidden",
    "allowAnonymousPosts": False,
}
OPEN_UP = {
    "contentType": "streamingLive",
    "contentId": "x",
    "visibility": "public",
    "allowAnonymousPosts": True,
}


async def retype(w: World, c: Caller, kind: str) -> bool:
    return await _update(w, c, kind, SWITCH_OFF if kind == "live" else OPEN_UP)


async def _update(w: World, c: Caller, kind: str, change: dict[str, Any]) -> bool:
    target_id = str(w.update_target[kind]["id"])
    before = await _stored(w, target_id)
    entry = {"id": target_id, **before, **change}
    response = await w.call(c, "POST", "/conversations", [entry])
    after = await _stored(w, target_id)
    want = {**before, **change, "contentType": before["contentType"]}
    want["contentId"] = before["contentId"]  # the stored ones are kept
    if kind == "pm":
        for name in ("contentType", "visibility", "allowAnonymousPosts"):
            want[name] = before[name]  # a private-message conversation never changes them
    allowed = verdict(response, {}, c, after == want)
    if not allowed:
        assert after == before, f"a refused update changed {before} to {after}"
    await _served_as_stored(w, kind, target_id, after)
    return allowed


async def _stored(w: World, conversation_id: str) -> dict[str, Any]:
    row = await w.node.store.conversations.get(conversation_id)
    assert row is not None
    columns: dict[str, Any] = dict(row)
    return {name: columns[name] for name in CONVERSATION_FIELDS}


async def _served_as_stored(w: World, kind: str, target_id: str, stored: dict[str, Any]) -> None:
    """Readers see the stored row, and anonymous callers read only anonymous-public rooms."""
    response = await w.http.get(
        f"/conversations/{CHURCH}/{target_id}", headers=headers(RESIDENT[kind])
    )
    served = await _fields(response)
    assert served == stored, f"served {served}, stored {stored}"
    anonymous_public = (stored["contentType"], stored["visibility"]) == ("streamingLive", "public")
    anonymous_public = anonymous_public and bool(stored["allowAnonymousPosts"])
    catchup = await w.http.get(f"/messages/catchup/{CHURCH}/{target_id}")
    assert catchup.status_code == (200 if anonymous_public else 401), catchup.text


async def _fields(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    return {name: body[name] for name in CONVERSATION_FIELDS}


async def create(w: World, c: Caller, kind: str) -> bool:
    content_type, content_id = CONTENT[kind]
    title = f"created by {c.name}"
    entry = {"contentType": content_type, "contentId": content_id, "groupId": content_id}
    response = await w.call(c, "POST", "/conversations", [{**entry, "title": title}])
    here = [
        row
        for row in await w.node.store.conversations.for_content(CHURCH, content_type, content_id)
        if row["title"] == title
    ]
    body = response.json()
    if response.status_code == 200 and c.church != CHURCH:
        # churchId comes from the token: created in the caller's own church, not CH1.
        assert not here and ids(body), body
        return True
    allowed = verdict(response, {}, c, len(here) == 1 and ids(body) == ids(here))
    assert allowed or not here, "a refused create stored a conversation"
    return allowed


PROBES: dict[str, Probe] = {
    "catchup": catchup,
    "history": history,
    "one_message": one_message,
    "one_conversation": one_conversation,
    "by_content": by_content,
    "pages": pages,
    "timeline": timeline,
    "current": current,
    "pm_thread": pm_thread,
    "send": send,
    "post": post,
    "join": join,
    "list_connections": list_connections,
    "leave": leave,
    "react": react,
    "edit": edit,
    "delete": delete,
    "rename": rename,
    "retype": retype,
    "create": create,
}
