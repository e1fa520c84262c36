"""The scheduled jobs of every area; importing this package registers them in ``JOBS``."""

from scheduler.jobs import approvals, backup, collections, housekeeping, reports, summary, visits

__all__ = ["approvals", "backup", "collections", "housekeeping", "reports", "summary", "visits"]
