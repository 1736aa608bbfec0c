"""Steeple's exception hierarchy.

::

    SteepleError
    ├── ConfigError            bad settings; the process refuses to start
    └── RequestError           a client's request cannot be served (has an HTTP status)
        ├── BadRequest         400: malformed input; ``problem`` names it
        ├── Unauthorized       401: denied by the access rules
        ├── Forbidden          403: e.g. a blocked IP posting
        ├── NotFound           404
        ├── PayloadTooLarge    413
        ├── UnsupportedMediaType  415: a body that is not declared JSON
        └── RetryLater         nothing was done; try again in ``retry_after`` seconds
            ├── TooManyRequests     429: a limit (e.g. slow mode)
            └── ServiceUnavailable  503: a service Steeple needs (the database) is away
"""

from __future__ import annotations


class SteepleError(Exception):
    """Base of every error Steeple raises on purpose."""


class ConfigError(SteepleError):
    """The settings are unusable."""


class RequestError(SteepleError):
    status = 400

    def __init__(self, problem: str = "") -> None:
        super().__init__(problem)
        self.problem = problem


class BadRequest(RequestError):
    status = 400


class Unauthorized(RequestError):
    status = 401


class Forbidden(RequestError):
    status = 403


class NotFound(RequestError):
    status = 404


class PayloadTooLarge(RequestError):
    status = 413


class UnsupportedMediaType(RequestError):
    status = 415


class RetryLater(RequestError):
    """Nothing was done; the same request may succeed in ``retry_after`` whole seconds."""

    def __init__(self, problem: str, *, retry_after: int) -> None:
        super().__init__(problem)
        self.retry_after = max(1, retry_after)


class TooManyRequests(RetryLater):
    """Over a limit, named by ``limit``."""

    status = 429

    def __init__(self, problem: str, *, limit: str, retry_after: int) -> None:
        super().__init__(problem, retry_after=retry_after)
        self.limit = limit


class ServiceUnavailable(RetryLater):
    """Something Steeple needs (the database) cannot be reached right now."""

    status = 503
