"""The Redis backend (``DELIVERY_PROVIDER=redis``): several nodes, one Redis between them.

:mod:`.delivery` is the backend itself; it reaches Redis through :mod:`.uplink` (kept up
with backoff, one :mod:`.session` per connection), asks the other nodes over
:mod:`.control`, watches them through :mod:`.registry`, and names every key and channel
with :mod:`.names`.
"""

from steeple.delivery.redis.delivery import RedisDelivery

__all__ = ["RedisDelivery"]
