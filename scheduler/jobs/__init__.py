"""The scheduled jobs of every area; importing this package registers them in ``JOBS``."""

from scheduler.jobs import approvals, summary, visits

__all__ = ["approvals", "summary", "visits"]
