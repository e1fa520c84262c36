"""Every module that declares a view a notice may name; ``views.render.renderer`` imports it, so
whoever renders (a turn, a job, the outbox sender, the CLI) knows every view."""

from views import (  # noqa: F401
    alerts,
    approval_cards,
    collection_notices,
    delegations,
    plans,
    report_pages,
    reports,
    summary,
    visit_review,
    visits,
)
