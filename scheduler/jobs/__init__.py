"""The scheduled jobs of every area; importing this package registers them all."""

from scheduler.jobs import visits

__all__ = ["visits"]
