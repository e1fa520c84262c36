"""The scheduled jobs of every area; importing this package registers them all."""

from scheduler.jobs import reports, visits

__all__ = ["reports", "visits"]
