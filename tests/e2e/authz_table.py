"""Who may do what to which kind of room: PROTOCOL.md section 5 written as one table.

The authorization matrix (``test_authz_matrix.py``) walks every cell of this table
against a running node. The table is written from the protocol text, never from the
code under test: each entry names the callers section 5 (with 4 and 5.2) allows, and
every caller it does not name must be refused. A few cells are left open where the
protocol does not decide (``UNSETTLED``); those still run, and the matrix still checks
that they leak nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.nodes import auth

CHURCH = "CH1"
OTHER_CHURCH = "CH2"
GROUP = "G1"
SERVICE = "svc1"
NOTES_SUBJECT = "P3"  # the third person is who the notes are about


@dataclass(frozen=True)
class Caller:
    """One identity of the matrix; ``person`` is empty for the anonymous caller."""

    name: str
    church: str = ""
    person: str = ""
    permissions: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    leads: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def signed_in(self) -> bool:
        return bool(self.person)

    def headers(self) -> dict[str, str]:
        if not self.signed_in:
            return {}
        return auth(
            self.church,
            self.person,
            first_name=self.name,
            permissions=list(self.permissions),
            group_ids=list(self.groups),
            leader_group_ids=list(self.leads),
        )


CALLERS: dict[str, Caller] = {
    c.name: c
    for c in (
        Caller("anonymous"),
        Caller("member", CHURCH, "M1"),
        Caller("group_member", CHURCH, "GM", groups=(GROUP,)),
        Caller("group_leader", CHURCH, "GL", groups=(GROUP,), leads=(GROUP,)),
        Caller("thread_a", CHURCH, "PA"),
        Caller("thread_b", CHURCH, "PB"),
        Caller("third", CHURCH, NOTES_SUBJECT),
        Caller("editor", CHURCH, "CE", permissions=("Content__Edit",)),
        Caller("host", CHURCH, "HO", permissions=("Chat__Host",)),
        Caller("people_editor", CHURCH, "PE", permissions=("People__Edit",)),
        Caller("confidential", CHURCH, "PC", permissions=("People__View Confidential Notes",)),
        # Every permission and the group, in its own church, and the personId of one of
        # the thread's people: none of it may count in CH1.
        Caller(
            "other_church",
            OTHER_CHURCH,
            "PA",
            permissions=(
                "Content__Edit",
                "Chat__Host",
                "People__Edit",
                "People__View Confidential Notes",
            ),
            groups=(GROUP,),
            leads=(GROUP,),
        ),
    )
}

EVERYONE = frozenset(CALLERS)
SIGNED_IN = EVERYONE - {"anonymous"}
CHURCH_MEMBERS = SIGNED_IN - {"other_church"}
GROUP_READERS = frozenset({"group_member", "group_leader", "editor"})
GROUP_LEADERS = frozenset({"group_leader", "editor"})
NOBODY: frozenset[str] = frozenset()

# Conversation kinds, then the two rooms that are not conversations.
CONVERSATION_KINDS = ("live", "host", "group", "announcement", "notes", "confidential", "pm")
ROOM_KINDS = ("synthetic", "alerts")

# (contentType, contentId) of each conversation kind; the host room's contentId is the
# service id its encrypted room id decrypts to.
CONTENT = {
    "live": ("streamingLive", SERVICE),
    "host": ("streamingLiveHost", SERVICE),
    "group": ("group", GROUP),
    "announcement": ("groupAnnouncement", GROUP),
    "notes": ("person", NOTES_SUBJECT),
    "confidential": ("personConfidential", NOTES_SUBJECT),
    "pm": ("privateMessage", "PB"),
}

# Who writes the kind's messages (and so is their author).
AUTHOR = {
    "live": "member",
    "host": "host",
    "group": "group_member",
    "announcement": "group_leader",
    "notes": "people_editor",
    "confidential": "confidential",
    "pm": "thread_a",
}

# Section 5.2: who may read each kind of room.
READERS: dict[str, frozenset[str]] = {
    "live": EVERYONE,  # anonymous-public: everyone, anonymous and other churches included
    "host": frozenset({"host", "editor"}),
    "group": GROUP_READERS,
    "announcement": GROUP_READERS,
    "notes": frozenset({"people_editor"}),  # Content__Edit does not unlock notes
    "confidential": frozenset({"confidential"}),
    "pm": frozenset({"thread_a", "thread_b"}),  # whatever else the caller holds
    "synthetic": GROUP_READERS,  # content-group-G1: readers of that content
    "alerts": NOBODY,  # who is online in a church is not public
}

# Section 5.3: who may post a new message (reading is necessary; announcements need a
# leader; anonymous callers only where the room is anonymous-public).
POSTERS: dict[str, frozenset[str]] = {
    **{kind: READERS[kind] for kind in CONVERSATION_KINDS},
    "announcement": GROUP_LEADERS,
}

# Section 4 ``POST /messages`` with ``id``: the author or Content__Edit, and section 5.2:
# only where the caller may read (notes and private messages shut Content__Edit out).
EDITORS: dict[str, frozenset[str]] = {
    "live": frozenset({"member", "editor"}),
    "host": frozenset({"host", "editor"}),
    "group": frozenset({"group_member", "editor"}),
    "announcement": frozenset({"group_leader", "editor"}),  # the author is the leader
    "notes": frozenset({"people_editor"}),
    "confidential": frozenset({"confidential"}),
    "pm": frozenset({"thread_a"}),
}

# ``DELETE /messages/:id``: the editors, plus leaders of the group for group rooms.
DELETERS: dict[str, frozenset[str]] = {
    **EDITORS,
    "group": frozenset({"group_member", "group_leader", "editor"}),
}

# Section 4 ``POST /conversations`` with ``id``: the notes permission of a notes
# conversation, a leader of that group, or Content__Edit (which does not unlock notes
# or private messages); nobody changes a private-message conversation.
UPDATERS: dict[str, frozenset[str]] = {
    "live": frozenset({"editor"}),
    "host": frozenset({"editor"}),
    "group": GROUP_LEADERS,
    "announcement": GROUP_LEADERS,
    "notes": frozenset({"people_editor"}),
    "confidential": frozenset({"confidential"}),
    "pm": NOBODY,
}

# Section 4 ``POST /conversations`` without ``id``, following 5.3 for group rooms.
CREATORS: dict[str, frozenset[str]] = {
    "group": GROUP_READERS,
    # 5.3: announcements need a leader; Content__Edit's bypass is of the feed
    # switches, not of the leader rule, so an editor who does not lead may not.
    "announcement": frozenset({"group_leader"}),
}

# Which table each route follows, and the kinds the route applies to.
READ_ROUTES = (
    "catchup",
    "history",
    "one_message",
    "one_conversation",
    "by_content",
    "pages",
    "timeline",
    "current",
)
CONVERSATION_ROUTES = (
    *READ_ROUTES,
    "send",
    "post",
    "join",
    "list_connections",
    "leave",
    "react",
    "edit",
    "delete",
    "rename",
    "retype",
)
ROOM_ROUTES = {
    "synthetic": ("join", "list_connections", "leave"),
    "alerts": ("join", "list_connections"),
}
EXTRA_ROUTES = {"pm": ("pm_thread",), "group": ("create",), "announcement": ("create",)}
# Routes that change what later cells see: they run after every other cell.
MUTATING_ROUTES = ("edit", "delete", "rename", "retype", "create")

# (route, kind, caller) cells the protocol leaves open.
UNSETTLED = {
    # /messages/conversation/:id has no church in its path; clients use catchup when
    # signed out, and section 4 does not say whether it serves a conversation outside
    # the caller's church (none, for an anonymous caller) to anyone who may read it.
    ("history", "live", "anonymous"),
    ("history", "live", "other_church"),
    # Listings of another church's (or no church's) live-room content: "a caller who
    # may not read that content" vs "everyone reads anonymous-public rooms".
    ("by_content", "live", "anonymous"),
    ("by_content", "live", "other_church"),
    ("pages", "live", "anonymous"),
    ("timeline", "live", "other_church"),
    ("current", "live", "other_church"),
    # Posting to CH1's live room with a CH2 token through the anonymous-ok route.
    ("send", "live", "other_church"),
    # "Content__Edit bypasses both switches" (5.3) speaks of the feed toggles, not of
    # the leader an announcement post needs.
    ("send", "announcement", "editor"),
    ("post", "announcement", "editor"),
    ("react", "announcement", "editor"),
    # A reaction needs a person; one from another church names a message outside it.
    ("react", "live", "anonymous"),
    ("react", "live", "other_church"),
    # "Members may react where they cannot post" (5.3) vs reactions by "participant".
    ("react", "announcement", "group_member"),
    # Alerts: a CH2 caller joins its own church's alerts room whatever the body says.
    ("join", "alerts", "other_church"),
    # A CH2 caller creating a G1 conversation creates it in CH2 (churchId from token).
    ("create", "group", "other_church"),
    ("create", "announcement", "other_church"),
}


def allowed_callers(route: str, kind: str) -> frozenset[str]:
    """The callers PROTOCOL section 5 lets through ``route`` on a room of ``kind``."""
    if route in READ_ROUTES or route in ("join", "list_connections", "leave", "pm_thread"):
        if kind == "alerts":
            return SIGNED_IN if route == "join" else NOBODY
        if route == "timeline" and kind == "live":
            return SIGNED_IN  # an authenticated route
        if route == "pages" and kind == "live":
            return CHURCH_MEMBERS  # "the caller church's conversations"
        return READERS[kind]
    if route == "send":
        return POSTERS[kind]
    if route == "post":
        return POSTERS[kind] & CHURCH_MEMBERS  # authenticated, the caller's church
    if route == "react":
        return READERS[kind] & CHURCH_MEMBERS
    tables = {"edit": EDITORS, "delete": DELETERS, "rename": UPDATERS, "retype": UPDATERS}
    if route in tables:
        return tables[route][kind]
    if route == "create":
        return CREATORS[kind]
    raise KeyError(route)


def expected(route: str, kind: str, caller: str) -> bool | None:
    """True: allowed; False: refused; None: the protocol leaves this cell open."""
    if (route, kind, caller) in UNSETTLED:
        return None
    return caller in allowed_callers(route, kind)


def cells() -> list[tuple[str, str, str]]:
    """Every (kind, route, caller); cells that change shared rows come last."""
    routes: list[tuple[str, str]] = []
    for kind in CONVERSATION_KINDS:
        routes += [(kind, route) for route in (*CONVERSATION_ROUTES, *EXTRA_ROUTES.get(kind, ()))]
    for kind in ROOM_KINDS:
        routes += [(kind, route) for route in ROOM_ROUTES[kind]]
    routes.sort(key=lambda pair: pair[1] in MUTATING_ROUTES)
    return [(kind, route, caller) for kind, route in routes for caller in CALLERS]
