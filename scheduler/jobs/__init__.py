"""The scheduled jobs of every area; importing this package registers them in ``JOBS``."""

from scheduler.jobs import approvals

__all__ = ["approvals"]
