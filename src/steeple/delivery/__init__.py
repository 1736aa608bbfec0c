"""Delivery backends: how a frame reaches the sockets of a room, wherever they are held."""

from steeple.delivery.base import Delivery

__all__ = ["Delivery"]
