"""The scheduled jobs of every area; importing this package registers them all."""

from scheduler.jobs import summary, visits

__all__ = ["summary", "visits"]
