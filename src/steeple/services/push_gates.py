"""Whether a person wants this push now: their preferences, read as push gates.

PROTOCOL.md 7.1: ``allowPush`` and ``masterMute`` switch push off altogether; the
category's ``push`` channel switches it off for one kind of news; quiet hours in the
person's time zone hold it back until they end; ``maxPushPerDay`` caps a local day.
A person without a preference row has ChurchApps' defaults (push on, nothing muted).
Transactional categories (serving schedule, tasks) are not held by quiet hours nor
counted against the cap: they are about commitments the person made.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from steeple.services.preference_catalogue import BY_KEY, PUSH, channels
from steeple.storage.store import Store


@dataclass(frozen=True)
class PushGates:
    allow_push: bool
    master_mute: bool
    zone: tzinfo
    quiet_start: time | None
    quiet_end: time | None
    max_per_day: int | None
    opted: dict[str, dict[str, bool]]
    allow_sms: bool

    @classmethod
    async def load(cls, store: Store, church_id: str, person_id: str) -> PushGates:
        row = await store.preferences.get(church_id, person_id)
        opted: dict[str, dict[str, bool]] = {}
        if row is not None:
            for o in await store.preferences.overrides(church_id, person_id):
                opted.setdefault(o["categoryKey"], {})[o["channel"]] = bool(o["optedIn"])
        return cls.of(row or {}, opted)

    @classmethod
    def of(cls, row: Mapping[str, Any], opted: dict[str, dict[str, bool]]) -> PushGates:
        """From a preference row, or the columns of one that are known (none: defaults)."""
        return cls(
            allow_push=row.get("allowPush") is not False,
            master_mute=bool(row.get("masterMute")),
            zone=_zone(row.get("timeZone")),
            quiet_start=row.get("quietHoursStart"),
            quiet_end=row.get("quietHoursEnd"),
            max_per_day=row.get("maxPushPerDay"),
            opted=opted,
            allow_sms=bool(row.get("allowSms")),
        )

    def wants(self, category: str | None) -> bool:
        """Push is on for this person and this kind of news."""
        if not self.allow_push or self.master_mute:
            return False
        known = BY_KEY.get(category or "")
        return known is None or channels(known, self.opted.get(known.key, {}), self.allow_sms)[PUSH]

    def quiet_until(self, now: datetime) -> datetime | None:
        """When the quiet hours ``now`` (naive UTC) falls in end, or None if it does not."""
        start, end = self.quiet_start, self.quiet_end
        if start is None or end is None or start == end:
            return None
        local = now.replace(tzinfo=UTC).astimezone(self.zone)
        clock = local.time().replace(tzinfo=None)
        if start < end:
            quiet = start <= clock < end
            end_day = local.date()
        else:  # overnight, e.g. 22:00 to 07:00
            quiet = clock >= start or clock < end
            end_day = local.date() + timedelta(days=1 if clock >= start else 0)
        if not quiet:
            return None
        return _utc(datetime.combine(end_day, end, tzinfo=self.zone))

    def day_start(self, now: datetime) -> datetime:
        """The start (naive UTC) of the person's local day that holds ``now``."""
        local = now.replace(tzinfo=UTC).astimezone(self.zone)
        return _utc(datetime.combine(local.date(), time(0), tzinfo=self.zone))


def is_transactional(category: str | None) -> bool:
    known = BY_KEY.get(category or "")
    return known is not None and known.transactional


def _zone(name: object) -> tzinfo:
    if isinstance(name, str) and name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass  # an adopted database may hold a name this machine lacks: UTC then
    return UTC


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
