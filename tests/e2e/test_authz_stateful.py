"""An attacker performs random call sequences; private messages and notes stay private.

A hypothesis state machine plays one attacker identity (anonymous, a third member of
the church, a ``Content__Edit`` holder of the church, or a fully privileged user of
another church who shares a victim's personId) against victims who keep writing
secrets: two people in a private thread, and person and confidential notes about one
of them. The attacker is handed every id of the victims' conversations and messages
("leaked") and learns more from whatever it reads: response bodies, frames on its own
sockets, connection listings. After every step (PROTOCOL.md sections 2, 4 and 5):

* no REST response and no frame the attacker received carries a victim's secret;
* the secrets are stored as written (not edited, not deleted by the attacker);
* the victims' sockets are still in their thread's room and the live room, under their
  own names (a socketId is a secret capability: nobody else may move or rename them);
* no conversation the step touched is readable by anonymous callers unless it was
  born anonymous-public (a ``streamingLive`` public room allowing anonymous posts,
  made by ``current`` or created as such), never turned into one later.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.e2e.threaded_node import SyncSocket, ThreadedNode, threaded_node
from tests.support.nodes import auth

ATTACKERS = ("anonymous", "member", "editor", "other_church")
CONTENT_TYPES = (
    "privateMessage",
    "person",
    "personConfidential",
    "streamingLive",
    "group",
    "groupAnnouncement",
    "sermon",
)
GROUP = "G1"
VICTIMS = ("V1", "V2")
EVERY_PERMISSION = [
    "Content__Edit",
    "Chat__Host",
    "People__Edit",
    "People__View Confidential Notes",
    "Messaging__Admin",
]
SETTINGS = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    database=None,
    # No shrinking: each step talks to a live node, so shrinking a failure takes minutes;
    # the report lists every step of the failing run (at most stateful_step_count).
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def _born_public(row: dict[str, Any]) -> bool:
    return (
        row.get("contentType") == "streamingLive"
        and row.get("visibility") == "public"
        and bool(row.get("allowAnonymousPosts"))
    )


class Victims:
    """One church's victims: a private thread, notes about V1, a group room, sockets."""

    def __init__(self, http: httpx.Client, socket_url: str, church: str, marker: str) -> None:
        self.http, self.church, self.marker = http, church, marker
        self.secrets: dict[str, str] = {}  # message id -> content as written
        self.sockets: dict[str, SyncSocket] = {}
        self.thread = self._open_thread()
        self.pm = str(self.thread["conversationId"])
        self.notes = self._create("person", "V1", "PE", permissions=["People__Edit"])
        self.confidential = self._create(
            "personConfidential", "V1", "PC", permissions=["People__View Confidential Notes"]
        )
        self.group = self._create("group", GROUP, "GL", group_ids=[GROUP], leader_group_ids=[GROUP])
        # The victims also watch the Sunday stream, where everyone may list the viewers.
        live = self._ok(self.http.get(f"/conversations/current/{church}/streamingLive/svc1"))
        self.live = str(live["id"])
        for person in VICTIMS:
            socket = self.sockets[person] = SyncSocket(socket_url)
            for room in (self.pm, self.live, "alerts"):
                self._ok(
                    self.http.post(
                        "/connections",
                        json=[self.entry(socket, room)],
                        headers=self.headers(person),
                    )
                )
        self.write_secrets()

    def headers(self, person: str, **claims: Any) -> dict[str, str]:
        return auth(self.church, person, **claims)

    def entry(self, socket: SyncSocket, room: str) -> dict[str, Any]:
        return {
            "churchId": self.church,
            "conversationId": room,
            "socketId": socket.socket_id,
            "displayName": self.name_of(socket),
        }

    def name_of(self, socket: SyncSocket) -> str:
        return next(f"Victim {p}" for p, s in self.sockets.items() if s is socket)

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        assert response.status_code == 200, f"{response.request.url}: {response.text}"
        return response.json()

    def _open_thread(self) -> dict[str, Any]:
        conversation = {
            "contentType": "privateMessage",
            "contentId": "V2",
            "title": "pm",
            "visibility": "hidden",
        }
        headers = self.headers("V1")
        saved = self._ok(self.http.post("/conversations", json=[conversation], headers=headers))
        body = [{"toPersonId": "V2", "conversationId": saved[0]["id"]}]
        return dict(self._ok(self.http.post("/privateMessages", json=body, headers=headers))[0])

    def _create(self, content_type: str, content_id: str, author: str, **claims: Any) -> str:
        entry = {"contentType": content_type, "contentId": content_id, "title": "private"}
        if content_type == "group":
            entry["groupId"] = content_id
        headers = self.headers(author, **claims)
        return str(
            self._ok(self.http.post("/conversations", json=[entry], headers=headers))[0]["id"]
        )

    def write_secrets(self) -> None:
        """Each victim writes one more secret where it belongs."""
        writers = [
            (self.pm, self.headers("V1")),
            (self.pm, self.headers("V2")),
            (self.notes, self.headers("PE", permissions=["People__Edit"])),
            (
                self.confidential,
                self.headers("PC", permissions=["People__View Confidential Notes"]),
            ),
        ]
        for conversation, headers in writers:
            content = f"{self.marker} #{len(self.secrets)}"
            body = [{"conversationId": conversation, "content": content}]
            saved = self._ok(self.http.post("/messages", json=body, headers=headers))
            self.secrets[saved[0]["id"]] = content

    def close(self) -> None:
        for socket in self.sockets.values():
            socket.close()


class AttackerMachine(RuleBasedStateMachine):
    def __init__(self, running: ThreadedNode, churches: Iterator[int]) -> None:
        super().__init__()
        self.running = running
        node = running.node
        self.socket_url = node.socket_url
        self.http = httpx.Client(base_url=node.http_url + "/messaging", timeout=10)
        number = next(churches)
        self.church, self.own_church = f"C{number}", f"X{number}"
        self.marker = f"SECRET{secrets.token_hex(8)}"
        self.victims = Victims(self.http, self.socket_url, self.church, self.marker)
        v = self.victims
        # The leak: every victim id, handed to the attacker.
        self.conversations: dict[str, str] = {
            c: self.church for c in (v.pm, v.notes, v.confidential, v.group, v.live)
        }
        # Insertion-ordered (dicts as ordered sets): draws must replay the same way.
        self.messages: dict[str, None] = dict.fromkeys(v.secrets)
        self.threads: dict[str, None] = {str(v.thread["id"]): None}
        self.learned_socket_ids: dict[str, None] = {}
        self.born_public: set[str] = {v.live}  # made by current, as a live room is
        self.touched: set[str] = set()
        self.sockets: list[SyncSocket] = []
        self.attacker = "anonymous"

    # --- identity and the attacker's view --------------------------------------------------

    @initialize(attacker=st.sampled_from(ATTACKERS))
    def choose(self, attacker: str) -> None:
        self.attacker = attacker

    def headers(self) -> dict[str, str]:
        if self.attacker == "member":
            return auth(self.church, "ATT")
        if self.attacker == "editor":
            return auth(self.church, "ATT", permissions=["Content__Edit"])
        if self.attacker == "other_church":
            return auth(
                self.own_church,
                "V1",
                permissions=EVERY_PERMISSION,
                group_ids=[GROUP],
                leader_group_ids=[GROUP],
            )
        return {}

    def attack(self, method: str, url: str, body: Any = None) -> Any:
        """One call as the attacker: never shows a secret; everything in it is learned."""
        response = self.http.request(method, url, json=body, headers=self.headers())
        assert self.marker not in response.text, f"{method} {url} -> {response.text[:500]}"
        assert response.status_code < 500, f"{method} {url} -> {response.status_code}"
        try:
            answer = response.json()
        except ValueError:
            return None
        self.learn(answer)
        return answer if response.status_code == 200 else None

    def learn(self, value: Any) -> None:
        for row in _walk(value):
            row_id = row.get("id")
            if isinstance(row.get("conversationId"), str) and row["conversationId"]:
                self.conversations.setdefault(
                    row["conversationId"], str(row.get("churchId") or self.church)
                )
            if not isinstance(row_id, str):
                continue
            if "contentType" in row:
                self.conversations.setdefault(row_id, str(row.get("churchId") or self.church))
            elif "content" in row:
                self.messages.setdefault(row_id)
            elif "fromPersonId" in row:
                self.threads.setdefault(row_id)
            if isinstance(row.get("socketId"), str):
                self.learned_socket_ids.setdefault(row["socketId"])

    def draw_conversation(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(list(self.conversations)), label="conversation")

    # --- rules: conversations ------------------------------------------------------------

    @rule(
        content_type=st.sampled_from(CONTENT_TYPES),
        content_id=st.sampled_from((*VICTIMS, GROUP, "svc1", "ATT")),
        public=st.booleans(),
        anonymous=st.booleans(),
    )
    def create(self, content_type: str, content_id: str, public: bool, anonymous: bool) -> None:
        entry = {
            "contentType": content_type,
            "contentId": content_id,
            "groupId": content_id,
            "title": "mine",
            "visibility": "public" if public else "hidden",
            "allowAnonymousPosts": anonymous,
        }
        saved = self.attack("POST", "/conversations", [entry])
        for row in saved or []:
            self.touched.add(row["id"])
            if _born_public(row):
                self.born_public.add(row["id"])

    @rule(
        data=st.data(),
        content_type=st.sampled_from(CONTENT_TYPES),
        content_id=st.sampled_from((*VICTIMS, GROUP, "x")),
        public=st.booleans(),
        anonymous=st.booleans(),
    )
    def update(
        self, data: st.DataObject, content_type: str, content_id: str, public: bool, anonymous: bool
    ) -> None:
        target = self.draw_conversation(data)
        entry = {
            "id": target,
            "contentType": content_type,
            "contentId": content_id,
            "title": "taken over",
            "visibility": "public" if public else "hidden",
            "allowAnonymousPosts": anonymous,
        }
        self.touched.add(target)
        self.attack("POST", "/conversations", [entry])

    @rule(
        content_type=st.sampled_from(CONTENT_TYPES),
        content_id=st.sampled_from((*VICTIMS, GROUP, "svc1", "ATT")),
        home=st.booleans(),
    )
    def current(self, content_type: str, content_id: str, home: bool) -> None:
        church = self.church if home else self.own_church
        row = self.attack("GET", f"/conversations/current/{church}/{content_type}/{content_id}")
        if isinstance(row, dict) and row.get("id"):
            self.touched.add(row["id"])
            if content_type == "streamingLive" and _born_public(row):
                self.born_public.add(row["id"])

    @rule(person=st.sampled_from(VICTIMS), data=st.data())
    def attach_thread(self, person: str, data: st.DataObject) -> None:
        """Claim a victim's conversation as the attacker's own thread with a victim."""
        target = self.draw_conversation(data)
        self.attack("POST", "/privateMessages", [{"toPersonId": person, "conversationId": target}])

    # --- rules: rooms ------------------------------------------------------------------------

    @precondition(lambda self: len(self.sockets) < 2)
    @rule()
    def open_socket(self) -> None:
        self.sockets.append(SyncSocket(self.socket_url))

    @precondition(lambda self: self.sockets)
    @rule(data=st.data(), room_kind=st.sampled_from(("conversation", "alerts", "content")))
    def join(self, data: st.DataObject, room_kind: str) -> None:
        socket = data.draw(st.sampled_from(self.sockets), label="socket")
        church, room = self.church, "alerts"
        if room_kind == "conversation":
            room = self.draw_conversation(data)
            church = self.conversations[room]
        elif room_kind == "content":
            content = data.draw(st.sampled_from(CONTENT_TYPES), label="content type")
            room = f"content-{content}-{data.draw(st.sampled_from((*VICTIMS, GROUP)))}"
        body = [{"churchId": church, "conversationId": room, "socketId": socket.socket_id}]
        self.attack("POST", "/connections", body)

    @rule(data=st.data())
    def list_connections(self, data: st.DataObject) -> None:
        room = self.draw_conversation(data)
        self.attack("GET", f"/connections/{self.conversations[room]}/{room}")

    @precondition(lambda self: self.foreign_socket_ids())
    @rule(data=st.data(), action=st.sampled_from(("remove", "rename", "move")))
    def hijack_socket(self, data: st.DataObject, action: str) -> None:
        """Act for a socket whose id a listing or frame gave away."""
        socket_id = data.draw(st.sampled_from(self.foreign_socket_ids()), label="socket id")
        room = self.draw_conversation(data)
        church = self.conversations[room]
        if action == "remove":
            self.attack("DELETE", f"/connections/{church}/{room}/{socket_id}")
        elif action == "rename":
            self.attack("POST", "/connections/setName", {"socketId": socket_id, "name": "pwned"})
        else:
            body = [{"churchId": church, "conversationId": room, "socketId": socket_id}]
            self.attack("POST", "/connections", body)

    def foreign_socket_ids(self) -> list[str]:
        own = {s.socket_id for s in self.sockets}
        return [i for i in self.learned_socket_ids if i not in own]

    # --- rules: messages ---------------------------------------------------------------------

    @rule(data=st.data(), route=st.sampled_from(("send", "messages")))
    def post(self, data: st.DataObject, route: str) -> None:
        room = self.draw_conversation(data)
        entry = {"conversationId": room, "content": "hello", "displayName": "Mallory"}
        if route == "send":
            self.attack("POST", "/messages/send", [{**entry, "churchId": self.conversations[room]}])
        else:
            self.attack("POST", "/messages", [entry])

    @rule(
        data=st.data(),
        route=st.sampled_from(
            ("catchup", "history", "conversation", "by_content", "pages", "timeline")
        ),
    )
    def read_conversation(self, data: st.DataObject, route: str) -> None:
        room = self.draw_conversation(data)
        church = self.conversations[room]
        content = data.draw(st.sampled_from(CONTENT_TYPES), label="content type")
        content_id = data.draw(st.sampled_from((*VICTIMS, GROUP, "ATT")), label="content id")
        paths = {
            "catchup": f"/messages/catchup/{church}/{room}",
            "history": f"/messages/conversation/{room}",
            "conversation": f"/conversations/{church}/{room}",
            "by_content": f"/conversations/{self.church}/{content}/{content_id}",
            "pages": f"/conversations/messages/{content}/{content_id}",
            "timeline": f"/conversations/timeline/ids?ids={room}",
        }
        self.attack("GET", paths[route])

    @rule(data=st.data(), route=st.sampled_from(("inbox", "thread", "existing")))
    def read_private(self, data: st.DataObject, route: str) -> None:
        if route == "inbox":
            self.attack("GET", "/privateMessages")
        elif route == "thread":
            thread = data.draw(st.sampled_from(list(self.threads)), label="thread")
            self.attack("GET", f"/privateMessages/{thread}")
        else:
            self.attack("GET", f"/privateMessages/existing/{data.draw(st.sampled_from(VICTIMS))}")

    @rule(data=st.data(), action=st.sampled_from(("read", "edit", "delete", "react")))
    def touch_message(self, data: st.DataObject, action: str) -> None:
        message = data.draw(st.sampled_from(list(self.messages)), label="message")
        if action == "read":
            self.attack("GET", f"/messages/{self.church}/{message}")
        elif action == "edit":
            room = self.draw_conversation(data)
            body = [{"id": message, "conversationId": room, "content": "pwned"}]
            self.attack("POST", "/messages", body)
        elif action == "delete":
            self.attack("DELETE", f"/messages/{message}")
        else:
            self.attack("POST", f"/messages/{message}/reactions", {"emoji": "+1"})

    @precondition(lambda self: self.sockets)
    @rule()
    def read_frames(self) -> None:
        """Learn ids from what the attacker's sockets heard (all of it: settled first)."""
        for socket in self.sockets:
            socket.settle()
            for frame in list(socket.frames):
                self.learn(frame)

    @rule()
    def victims_write(self) -> None:
        self.victims.write_secrets()

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def frames_carry_no_secret(self) -> None:
        for socket in self.sockets:
            for frame in list(socket.frames):
                text = orjson.dumps(frame).decode()
                assert self.marker not in text, f"the attacker's socket received {text[:500]}"

    @invariant()
    def secrets_are_intact(self) -> None:
        store = self.running.node.store
        for message_id, content in self.victims.secrets.items():
            stored = self.running.run(store.messages.get(message_id))
            assert stored is not None, f"secret {message_id} was deleted"
            assert stored["content"] == content, (
                f"secret {message_id} now reads {stored['content']!r}"
            )

    @invariant()
    def victims_keep_their_seats(self) -> None:
        """Still in their thread and the live room, under their own names."""
        store, v = self.running.node.store, self.victims
        for room in (v.pm, v.live):
            rows = self.running.run(store.connections.in_room((self.church, room)))
            seats = {r["socketId"]: r["displayName"] for r in rows}
            for socket in v.sockets.values():
                seat = seats.get(socket.socket_id)
                assert seat == v.name_of(socket), f"{v.name_of(socket)} in {room}: {seat!r}"

    @invariant()
    def only_born_public_rooms_are_open_to_anonymous(self) -> None:
        v = self.victims
        for room in {*self.touched, v.pm, v.notes, v.confidential, v.group, v.live}:
            church = self.conversations.get(room, self.church)
            response = self.http.get(f"/messages/catchup/{church}/{room}")
            if response.status_code == 200:
                assert room in self.born_public, f"{room} became readable by anonymous callers"
        self.touched.clear()

    def teardown(self) -> None:
        try:
            for socket in self.sockets:
                socket.settle()
            self.frames_carry_no_secret()
        finally:
            for socket in self.sockets:
                socket.close()
            self.victims.close()
            self.http.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedNode]:
    with threaded_node(tmp_path_factory.mktemp("attacker") / "steeple.db") as node:
        yield node


def test_an_attacker_never_reads_private_messages_or_notes(running: ThreadedNode) -> None:
    churches = itertools.count(1)
    run_state_machine_as_test(lambda: AttackerMachine(running, churches), settings=SETTINGS)
