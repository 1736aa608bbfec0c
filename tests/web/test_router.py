"""Routing: whole-path case-insensitive, decode after split, literals before parameters."""

from __future__ import annotations

from typing import Any

import pytest

from steeple.web.router import Route, Router


def named(name: str) -> Any:
    async def handler(call: Any) -> str:
        return name

    handler.__name__ = name
    return handler


@pytest.fixture
def router() -> Router:
    r = Router()
    r.add(
        "GET",
        "/messaging/conversations/:churchId/:contentType/:contentId",
        named("content"),
        returns_list=True,
    )
    r.add("GET", "/messaging/conversations/posts/group/:groupId", named("group_posts"))
    r.add(
        "GET",
        "/messaging/conversations/current/:churchId/:contentType/:contentId",
        named("current"),
    )
    r.add("GET", "/messaging/conversations/:churchId/:id", named("one"))
    r.add("GET", "/messaging/conversations/timeline/ids", named("timeline"))
    r.add("POST", "/messaging/connections/setName", named("set_name"))
    r.add("GET", "/messaging/connections/:churchId/:conversationId", named("in_room"))
    r.add("DELETE", "/messaging/messages/:id", named("delete"))
    r.add("POST", "/messaging/messages/send", named("send"))
    return r


def resolve(router: Router, method: str, path: str) -> tuple[str, dict[str, str]]:
    found = router.resolve(method, path)
    assert isinstance(found, tuple), f"{method} {path} did not resolve: {found!r}"
    route, params = found
    assert isinstance(route, Route)
    return route.handler.__name__, params


def test_whole_path_matches_case_insensitively_and_params_keep_case(router: Router) -> None:
    assert resolve(router, "POST", "/MESSAGING/Connections/SETNAME") == ("set_name", {})
    assert resolve(router, "POST", "/messaging/connections/setname") == ("set_name", {})
    assert resolve(router, "GET", "/Messaging/CONVERSATIONS/AbC/XyZ") == (
        "one",
        {"churchId": "AbC", "id": "XyZ"},
    )


def test_percent_decoding_happens_after_the_split(router: Router) -> None:
    name, params = resolve(
        router,
        "GET",
        "/messaging/conversations/current/CH1/streamingLiveHost/q%2BaB%2Fc%3D%3D%7CZm9v%2F",
    )
    assert name == "current"
    assert params["contentId"] == "q+aB/c==|Zm9v/"
    name, params = resolve(router, "GET", "/messaging/connections/CH1/a%2Fb")
    assert (name, params["conversationId"]) == ("in_room", "a/b")
    assert router.resolve("GET", "/messaging/connections/CH1/a/b") is None


def test_literal_segments_beat_parameters(router: Router) -> None:
    assert resolve(router, "GET", "/messaging/conversations/posts/group/G1") == (
        "group_posts",
        {"groupId": "G1"},
    )
    assert resolve(router, "GET", "/messaging/conversations/timeline/ids")[0] == "timeline"
    assert resolve(router, "GET", "/messaging/conversations/Timeline/IDS")[0] == "timeline"
    assert resolve(router, "GET", "/messaging/conversations/CH1/sermon/S1")[0] == "content"
    assert resolve(router, "GET", "/messaging/conversations/CH1/c1")[0] == "one"


def test_literal_wins_whatever_order_routes_were_added() -> None:
    r = Router()
    r.add("GET", "/a/:x/:y", named("params"))
    r.add("GET", "/a/:x/fixed", named("late_literal"))
    r.add("GET", "/a/fixed/:y", named("early_literal"))
    assert resolve(r, "GET", "/a/fixed/fixed")[0] == "early_literal"
    assert resolve(r, "GET", "/a/other/fixed")[0] == "late_literal"
    assert resolve(r, "GET", "/a/other/thing") == ("params", {"x": "other", "y": "thing"})


def test_unknown_paths_and_wrong_methods(router: Router) -> None:
    assert router.resolve("GET", "/messaging/nothing/here") is None
    assert router.resolve("GET", "/messaging") is None
    assert router.resolve("PUT", "/messaging/messages/send") is False
    assert router.resolve("GET", "/messaging/messages/abc") is False
    assert resolve(router, "HEAD", "/messaging/connections/CH1/c1")[0] == "in_room"


def test_empty_segments_and_trailing_slashes_are_ignored(router: Router) -> None:
    assert resolve(router, "POST", "//messaging//messages/send/")[0] == "send"


def test_list_routes_are_marked(router: Router) -> None:
    found = router.resolve("GET", "/messaging/conversations/CH1/sermon/S1")
    assert isinstance(found, tuple) and found[0].returns_list
    found = router.resolve("GET", "/messaging/conversations/CH1/c1")
    assert isinstance(found, tuple) and not found[0].returns_list
