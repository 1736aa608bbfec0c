"""The notification categories a person can tune, and their defaults.

The keys and channels are ChurchApps'. What is Steeple's own choice:

* ``tier`` orders importance: 0 must reach the person (locked), 1 matters, 2 is
  ordinary chatter, 3 is background activity.
* ``serving_schedule`` is **mandatory** (locked): a church plans Sunday around who is
  serving, so "you are scheduled" and its changes always reach the person, on every
  channel the catalogue gives it. It and ``tasks`` are **transactional**: they are
  about a commitment the person made, so (for the push issue) quiet hours and digests
  do not hold them back.
* ``sms`` is never a person's switch here: texting needs the church's texting set-up
  and the person's consent (``allowSms``), which live outside messaging. It is offered
  only where churches text people (event reminders, serving), and it is on only when
  ``allowSms`` is.
* ``in_app`` is the bell (``/notifications/my``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PUSH, EMAIL, IN_APP, SMS = "push", "email", "in_app", "sms"
CHANNELS = (PUSH, EMAIL, IN_APP, SMS)


@dataclass(frozen=True)
class Category:
    key: str
    display_name: str
    tier: int
    default_channels: tuple[str, ...]
    allowed_channels: tuple[str, ...]
    mandatory: bool = False
    transactional: bool = False

    @property
    def locked(self) -> bool:
        return self.mandatory

    def as_catalogue_entry(self, sort_order: int) -> dict[str, Any]:
        return {
            "categoryKey": self.key,
            "displayName": self.display_name,
            "tier": self.tier,
            "mandatory": self.mandatory,
            "transactional": self.transactional,
            "defaultChannels": list(self.default_channels),
            "allowedChannels": list(self.allowed_channels),
            "sortOrder": sort_order,
        }


_EVERY_SCREEN = (PUSH, EMAIL, IN_APP)

CATEGORIES: tuple[Category, ...] = (
    Category("direct_messages", "Direct messages", 1, _EVERY_SCREEN, _EVERY_SCREEN),
    Category("group_messages", "Group messages", 2, (PUSH, IN_APP), _EVERY_SCREEN),
    Category("announcements", "Announcements", 1, _EVERY_SCREEN, _EVERY_SCREEN),
    Category("group_activity", "Group activity", 3, (IN_APP,), _EVERY_SCREEN),
    Category("event_reminders", "Event reminders", 2, _EVERY_SCREEN, (*_EVERY_SCREEN, SMS)),
    Category(
        "serving_schedule",
        "Serving schedule",
        0,
        _EVERY_SCREEN,
        (*_EVERY_SCREEN, SMS),
        mandatory=True,
        transactional=True,
    ),
    Category("tasks", "Tasks", 1, (PUSH, IN_APP), _EVERY_SCREEN, transactional=True),
)

BY_KEY = {category.key: category for category in CATEGORIES}


def catalogue() -> list[dict[str, Any]]:
    """``GET /notificationPreferences/categories``."""
    return [c.as_catalogue_entry(order) for order, c in enumerate(CATEGORIES, start=1)]


def channels(category: Category, opted: dict[str, bool], allow_sms: bool) -> dict[str, bool]:
    """The category's channels for one person: the defaults, then their own choices.

    A channel the category does not offer is off; a locked category and ``sms`` ignore
    choices (none can be stored, but an adopted ChurchApps database may hold some).
    """
    result: dict[str, bool] = {}
    for channel in CHANNELS:
        on = channel in category.default_channels
        if channel == SMS:
            on = allow_sms
        elif not category.locked and channel in opted:
            on = opted[channel]
        result[channel] = on and channel in category.allowed_channels
    return result
