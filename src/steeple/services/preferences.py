"""A person's notification preferences: the catalogue, ``my`` and saving them.

The row is the person's own: church and person always come from the token, whatever
the body says. It is created on first read with ChurchApps' defaults (push allowed, a
daily email digest, not muted). Saving takes the object form B1App sends (scalar
fields plus per-category ``overrides``) or the legacy array of rows, and checks every
value before anything is written, so a bad field changes nothing.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import time
from typing import Any

from steeple import access, validation
from steeple.auth.principal import Principal
from steeple.errors import BadRequest, Unauthorized
from steeple.services.context import Context
from steeple.services.preference_catalogue import BY_KEY, CHANNELS, SMS, catalogue, channels
from steeple.storage.preferences import Choice
from steeple.storage.rows import PreferenceChanges, PreferenceRow
from steeple.types import new_id

EMAIL_FREQUENCIES = ("individual", "daily", "weekly", "never")
MAX_PUSH_PER_DAY = 10_000
MAX_OVERRIDES = 100
MAX_TIME_ZONE = 64
_TIME_OF_DAY = re.compile(r"(\d\d):(\d\d)(?::(\d\d))?")


class PreferenceService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._store = ctx.store
        self._zones: frozenset[str] | None = None

    def categories(self, principal: Principal) -> list[dict[str, Any]]:
        if not principal.authenticated:
            raise Unauthorized()
        return catalogue()

    async def mine(self, principal: Principal) -> dict[str, object]:
        church_id, person_id = _person(principal)
        return await self._view(await self._row(church_id, person_id))

    async def save(self, principal: Principal, body: Any) -> Any:
        """The object form -> the ``my`` shape; the legacy array -> the saved rows."""
        church_id, person_id = _person(principal)
        if isinstance(body, list):
            return await self._save_rows(church_id, person_id, body)
        entry = validation.an_object(body)
        changes = self._changes(entry)
        row = await self._row(church_id, person_id)
        choices = _choices(entry.get("overrides"), await self._opted(row), bool(row["allowSms"]))
        await self._store.preferences.update(row["id"], changes)
        await self._store.preferences.set_overrides(
            church_id, person_id, choices, self._ctx.clock.now()
        )
        return await self._view(await self._row(church_id, person_id))

    async def _save_rows(
        self, church_id: str, person_id: str, body: list[Any]
    ) -> list[dict[str, object]]:
        entries = validation.array_of_objects(body)
        if not entries:
            return []
        changes: PreferenceChanges = {}
        for entry in entries:  # one row per person: later entries win
            changes.update(self._changes(entry))
        row = await self._row(church_id, person_id)
        await self._store.preferences.update(row["id"], changes)
        return [_plain(await self._row(church_id, person_id))]

    # --- reading -------------------------------------------------------------------------

    async def _row(self, church_id: str, person_id: str) -> PreferenceRow:
        """The person's row, created with the defaults on first use."""
        row = await self._store.preferences.get(church_id, person_id)
        if row is None:
            await self._store.preferences.add(_default_row(church_id, person_id))
            row = await self._store.preferences.get(church_id, person_id)
        assert row is not None
        return row

    async def _opted(self, row: PreferenceRow) -> dict[str, dict[str, bool]]:
        """The person's stored choices: category -> channel -> optedIn."""
        found: dict[str, dict[str, bool]] = {}
        for o in await self._store.preferences.overrides(row["churchId"], row["personId"]):
            found.setdefault(o["categoryKey"], {})[o["channel"]] = bool(o["optedIn"])
        return found

    async def _view(self, row: PreferenceRow) -> dict[str, object]:
        opted = await self._opted(row)
        allow_sms = bool(row["allowSms"])
        categories = [
            {
                "categoryKey": c.key,
                "displayName": c.display_name,
                "tier": c.tier,
                "locked": c.locked,
                "allowedChannels": list(c.allowed_channels),
                "channels": channels(c, opted.get(c.key, {}), allow_sms),
            }
            for c in BY_KEY.values()
        ]
        return {**_plain(row), "categories": categories}

    # --- checking ------------------------------------------------------------------------

    def _changes(self, entry: dict[str, Any]) -> PreferenceChanges:
        """The scalar fields present in ``entry``, checked; unknown keys are ignored."""
        changes: PreferenceChanges = {}
        if entry.get("allowPush") is not None:
            changes["allowPush"] = validation.flag(entry, "allowPush", False)
        if entry.get("masterMute") is not None:
            changes["masterMute"] = validation.flag(entry, "masterMute", False)
        if entry.get("emailFrequency") is not None:
            changes["emailFrequency"] = _email_frequency(entry["emailFrequency"])
        if "quietHoursStart" in entry:
            changes["quietHoursStart"] = _time_of_day(entry["quietHoursStart"], "quietHoursStart")
        if "quietHoursEnd" in entry:
            changes["quietHoursEnd"] = _time_of_day(entry["quietHoursEnd"], "quietHoursEnd")
        if "timeZone" in entry:
            changes["timeZone"] = self._time_zone(entry["timeZone"])
        if "maxPushPerDay" in entry:
            changes["maxPushPerDay"] = _push_limit(entry["maxPushPerDay"])
        return changes

    def _time_zone(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > MAX_TIME_ZONE:
            raise BadRequest("'timeZone' must be an IANA time zone name such as America/Chicago")
        if self._zones is None:
            self._zones = frozenset(zoneinfo.available_timezones())
        if value not in self._zones:
            raise BadRequest(f"'timeZone' {value!r} is not a known time zone")
        return value


def _person(principal: Principal) -> tuple[str, str]:
    if not access.can_use_alerts(principal):
        raise Unauthorized()
    return principal.church_id, principal.person_id


def _default_row(church_id: str, person_id: str) -> PreferenceRow:
    return {
        "id": new_id(),
        "churchId": church_id,
        "personId": person_id,
        "allowPush": True,
        "emailFrequency": "daily",
        "masterMute": False,
        "quietHoursStart": None,
        "quietHoursEnd": None,
        "timeZone": None,
        "allowSms": None,
        "maxPushPerDay": None,
    }


def _plain(row: PreferenceRow) -> dict[str, object]:
    """The row as JSON: times of day as ``HH:MM:SS``, as a MySQL ``time`` column reads."""
    return {
        key: value.strftime("%H:%M:%S") if isinstance(value, time) else value
        for key, value in row.items()
    }


def _email_frequency(value: Any) -> str:
    if value not in EMAIL_FREQUENCIES:
        raise BadRequest(f"'emailFrequency' must be one of {', '.join(EMAIL_FREQUENCIES)}")
    return str(value)


def _time_of_day(value: Any, name: str) -> time | None:
    if value is None or value == "":
        return None
    match = _TIME_OF_DAY.fullmatch(value) if isinstance(value, str) else None
    hour, minute, second = (int(g or 0) for g in match.groups()) if match else (99, 0, 0)
    if hour > 23 or minute > 59 or second > 59:
        raise BadRequest(f"'{name}' must be a time of day HH:MM (00:00 to 23:59)")
    return time(hour, minute, second)


def _push_limit(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest("'maxPushPerDay' must be a whole number, 0 or more")
    if value > MAX_PUSH_PER_DAY:
        raise BadRequest(f"'maxPushPerDay' may be at most {MAX_PUSH_PER_DAY}")
    return value


def _choices(raw: Any, opted: dict[str, dict[str, bool]], allow_sms: bool) -> list[Choice]:
    """The overrides to store. Re-sending a value that cannot change (a locked category,
    ``sms``, a channel the category lacks, left off) is accepted and stores nothing, so
    a client may send its whole grid back."""
    if raw is None:
        return []
    entries = validation.array_of_objects(raw, "overrides")
    if len(entries) > MAX_OVERRIDES:
        raise BadRequest(f"'overrides' may hold at most {MAX_OVERRIDES} entries")
    found: dict[tuple[str, str], bool] = {}
    for index, entry in enumerate(entries):
        key, channel, opted_in = _choice(entry, f"overrides[{index}]")
        category = BY_KEY[key]
        current = channels(category, opted.get(key, {}), allow_sms)[channel]
        if category.locked or channel == SMS or channel not in category.allowed_channels:
            if opted_in != current:
                raise BadRequest(_fixed(key, channel, category.locked))
            continue
        found[(key, channel)] = opted_in
    return [(key, channel, value) for (key, channel), value in found.items()]


def _choice(entry: dict[str, Any], where: str) -> tuple[str, str, bool]:
    key, channel = entry.get("categoryKey"), entry.get("channel")
    if not isinstance(key, str) or key not in BY_KEY:
        raise BadRequest(f"{where}: 'categoryKey' must be one of {', '.join(BY_KEY)}")
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise BadRequest(f"{where}: 'channel' must be one of {', '.join(CHANNELS)}")
    if not isinstance(entry.get("optedIn"), bool):
        raise BadRequest(f"{where}: 'optedIn' must be true or false")
    return str(key), str(channel), bool(entry["optedIn"])


def _fixed(key: str, channel: str, locked: bool) -> str:
    if locked:
        return f"'{key}' is a required category: its channels cannot be switched"
    if channel == SMS:
        return "the 'sms' channel cannot be switched here (texting needs the church's consent)"
    return f"'{key}' has no '{channel}' channel"
