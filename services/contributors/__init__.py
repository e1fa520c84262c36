"""Each area's section of the daily and weekly report drafts; importing this package registers
them all (see services/report_sections.py). An area not imported here shows nothing.

To add an area: write services/contributors/<area>.py with an ``@contributor("<area>", order=N)``
function and import it below. Orders: visits 10, plans 20; 30 and 40 are kept for approvals and
collections, whose texts (reports.section_approvals, reports.approvals_*,
reports.section_collections, reports.collections_*) are already in locales/*/reports.po.
"""

from services.contributors import approvals, collections, plans, visits

__all__ = ["approvals", "collections", "plans", "visits"]
