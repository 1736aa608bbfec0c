"""Thin route modules: parse the call, ask a service, return what it gives."""
