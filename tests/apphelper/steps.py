"""Client steps the apphelper tests share."""

from __future__ import annotations

from tests.apphelper.driver import AppHelperClient, Event


def names(event: Event) -> list[str]:
    return [v["displayName"] for v in event["data"]["viewers"]]


async def joined_viewer(
    client: AppHelperClient, service: str = "svc1", name: str = "Ann Viewer"
) -> Event:
    await client.do("connect")
    await client.next("connected")
    await client.do("joinLive", churchId="CH1", serviceId=service, displayName=name)
    return await client.next("joined")
