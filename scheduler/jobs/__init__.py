"""The scheduled jobs of every area; importing this package registers them in ``JOBS``."""

from scheduler.jobs import approvals, collections, reports, summary, visits

__all__ = ["approvals", "collections", "reports", "summary", "visits"]
