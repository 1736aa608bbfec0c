"""Web push and mobile push: keys, subscriptions, and (later) sending."""
