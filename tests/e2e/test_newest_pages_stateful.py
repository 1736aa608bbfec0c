"""Sequences of posts, edits, deletions and reads nobody planned: the newest page a
single node hands out (kept, and updated in place by each post) is always the newest
``HISTORY_LIMIT`` messages of the whole history, as walked page by page with ``after``
(which is never kept)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.e2e.threaded_node import ThreadedNode, threaded_node
from tests.support.nodes import auth

LIMIT = 4
SETTINGS = settings(
    max_examples=12,
    stateful_step_count=25,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # each step talks to a live node
    suppress_health_check=[HealthCheck.too_slow],
)


class HistoryMachine(RuleBasedStateMachine):
    def __init__(self, running: ThreadedNode, groups: Iterator[int]) -> None:
        super().__init__()
        self.http = httpx.Client(base_url=running.node.http_url + "/messaging", timeout=10)
        group = f"G{next(groups)}"
        self.leader = auth("CH1", "P1", group_ids=[group], leader_group_ids=[group])
        entry = {"contentType": "group", "contentId": group, "groupId": group, "title": "t"}
        self.room = self._ok(self.http.post("/conversations", json=[entry], headers=self.leader))[
            0
        ]["id"]
        self.ids: list[str] = []
        self.written = 0

    def _ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json()

    def _post(self, **fields: Any) -> Any:
        self.written += 1
        body = [{"conversationId": self.room, "content": f"m{self.written}", **fields}]
        return self._ok(self.http.post("/messages", json=body, headers=self.leader))[0]

    @rule(times=st.integers(1, 3))
    def post(self, times: int) -> None:
        for _ in range(times):
            self.ids.append(self._post()["id"])

    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        if self.ids:
            self._post(id=data.draw(st.sampled_from(self.ids)))

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        if self.ids:
            message = data.draw(st.sampled_from(self.ids))
            self._ok(self.http.delete(f"/messages/{message}", headers=self.leader))
            self.ids.remove(message)

    def _page(self, after: str | None = None) -> list[dict[str, Any]]:
        params = {"after": after} if after else None
        url = f"/messages/catchup/CH1/{self.room}"
        return list(self._ok(self.http.get(url, params=params, headers=self.leader)))

    @invariant()
    def the_newest_page_is_the_end_of_the_history(self) -> None:
        history: list[dict[str, Any]] = []
        after = self.room  # the conversation's own id: from its first message
        while found := self._page(after):
            history += found
            after = found[-1]["id"]
        assert [m["id"] for m in history] == self.ids
        assert self._page() == history[-LIMIT:]
        assert self._page() == history[-LIMIT:]  # and the page kept is the same

    def teardown(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedNode]:
    database = tmp_path_factory.mktemp("newest") / "steeple.db"
    with threaded_node(database, history_limit=LIMIT) as node:
        yield node


def test_the_newest_page_is_always_the_end_of_the_history(running: ThreadedNode) -> None:
    groups = itertools.count(1)
    run_state_machine_as_test(lambda: HistoryMachine(running, groups), settings=SETTINGS)
