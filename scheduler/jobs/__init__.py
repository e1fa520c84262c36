"""The timed jobs of every area; importing this package registers them."""

from scheduler.jobs import collections

__all__ = ["collections"]
