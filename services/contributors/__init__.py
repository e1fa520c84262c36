"""Each area's section of the daily and weekly report drafts; importing this package registers
them all (see services/report_sections.py). An area not listed here shows nothing."""

from services.contributors import plans, visits

__all__ = ["plans", "visits"]
