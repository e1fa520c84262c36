"""English says "1 day", "1 receipt", "1 working hour"; Chinese has one form for any number."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.errors import UserFacingError
from core.i18n import load_catalogs
from core.periods import format_short_day
from handlers.error_text import plural_count
from services.alerts import OutboxBacklog
from services.customer_import import ImportReport
from services.dunning import Digest, DigestLine
from services.receivable_import import ReceivableImportReport, RowNote
from services.report_sections import Line, Section
from views.alerts import outbox_backlog
from views.approval_cards import hour_count, reason_text
from views.collection_notices import digest, escalation_digest
from views.collections import reconcile_list, short_when, when_label
from views.imports import customer_import_lines, receivable_import_lines
from views.reports import section_lines

TEXTS = load_catalogs()
TODAY = date(2026, 11, 24)

# key, the parameter that counts, the other parameters, English for 1, English for 2.
SINGULARS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("approvals.discounts_before", "count",
     {"customer": "Acme", "average": "10", "latest": "10%"},
     "🏷 Acme: 1 earlier approved discount, on average 10%; latest: 10%",
     "🏷 Acme: 2 earlier approved discounts, on average 10%; latest: 10%"),
    ("approvals.header_escalated", "hours", {"names": "Chen"},
     "⏫ <b>Escalated to you</b>: no decision from Chen in 1 working hour.",
     "⏫ <b>Escalated to you</b>: no decision from Chen in 2 working hours."),
    ("approvals.header_reminder", "hours", {},
     "⏰ <b>Reminder</b>: this has waited 1 working hour for your decision.",
     "⏰ <b>Reminder</b>: this has waited 2 working hours for your decision."),
    ("approvals.notice_escalated_approver", "hours", {"request": "#7"},
     "⏫ #7 waited 1 working hour for your decision, so it went to the directors.",
     "⏫ #7 waited 2 working hours for your decision, so it went to the directors."),
    ("approvals.notice_escalated_requester", "hours", {"request": "#7"},
     "⏫ #7 had no decision in 1 working hour, so it went to the directors.",
     "⏫ #7 had no decision in 2 working hours, so it went to the directors."),
    ("approvals.receipts_sent", "count", {"id": "2026-0001"},
     "📎 Sending 1 receipt of #2026-0001.",
     "📎 Sending the 2 receipts of #2026-0001."),
    ("collections.in_days", "days", {"day": "Wed 25 Nov"},
     "In 1 day (Wed 25 Nov)", "In 2 days (Wed 25 Nov)"),
    ("collections.digest_more", "count", {},
     "…and 1 more customer in /collections", "…and 2 more customers in /collections"),
    ("plans.due_header", "count", {"a": 14, "b": 28, "c": 90},
     "<b>⏰ 1 customer due for a visit</b> (A every 14 days, B every 28, C every 90):",
     "<b>⏰ 2 customers due for a visit</b> (A every 14 days, B every 28, C every 90):"),
    ("plans.due_line", "days", {"name": "Bravo", "tier": "B", "last": "Mon 23 Nov"},
     "• Bravo (B) — 1 day overdue, last visit: Mon 23 Nov",
     "• Bravo (B) — 2 days overdue, last visit: Mon 23 Nov"),
    ("reports.ask_when", "count", {},
     "🗓 On which day next week? (1 customer)", "🗓 On which day next week? (2 customers)"),
    ("reports.next_week_planned", "count", {},
     "🗓 Next week's plan now has your 1 key visit:",
     "🗓 Next week's plan now has your 2 key visits:"),
    ("route.header", "count", {"total": "3 km", "app": "Amap"},
     "🧭 Today's route: 1 stop, 3 km in a straight line. Links open Amap.",
     "🧭 Today's route: 2 stops, 3 km in a straight line. Links open Amap."),
    ("summary.flag.approvals_waiting", "hours", {"items": "Wang"},
     "⏳ Requests waiting over 1 working hour: Wang",
     "⏳ Requests waiting over 2 working hours: Wang"),
    ("summary.rest_in_workbook", "count", {},
     "… 1 more rep: see the workbook.", "… 2 more reps: see the workbook."),
    ("summary.rollup_company", "count", {},
     "🏢 <b>Whole company</b> (1 rep)", "🏢 <b>Whole company</b> (2 reps)"),
    ("summary.rollup_team", "count", {"team": "North"},
     "<b>North</b> (1 rep)", "<b>North</b> (2 reps)"),
    ("summary.team_header", "count", {}, "<b>Team</b> (1 rep)", "<b>Team</b> (2 reps)"),
    ("team.rep_header", "count", {"name": "Wang"},
     "<b>Wang</b> — 1 visit this week:", "<b>Wang</b> — 2 visits this week:"),
    ("team.targets", "new", {"in_person": 15, "phone": 20},
     "Targets: 🤝 15 in person and 📞 20 phone a week, 🆕 1 new customer a month",
     "Targets: 🤝 15 in person and 📞 20 phone a week, 🆕 2 new customers a month"),
    ("visit_review.photos_pending", "count", {},
     "📷 1 photo still being stamped: open the visit again in a minute.",
     "📷 2 photos still being stamped: open the visit again in a minute."),
    ("visits.edit_window_over", "hours", {},
     "This visit was logged more than 1 hour ago and can no longer be changed.",
     "This visit was logged more than 2 hours ago and can no longer be changed."),
    ("visits.list_header", "hours", {},
     "<b>Your recent visits</b> (editable for 1 hour):",
     "<b>Your recent visits</b> (editable for 2 hours):"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "counted", "params", "one", "two"), SINGULARS)
def test_english_singular_and_plural(
    key: str, counted: str, params: dict[str, Any], one: str, two: str
) -> None:
    assert TEXTS.tn("en", key, 1, **{counted: 1}, **params) == one
    assert TEXTS.tn("en", key, 2, **{counted: 2}, **params) == two


@pytest.mark.parametrize(("key", "counted", "params"), [s[:3] for s in SINGULARS])
def test_chinese_reads_the_same_for_one(key: str, counted: str, params: dict[str, Any]) -> None:
    assert TEXTS.texts["zh"][f"{key}_one"] == TEXTS.texts["zh"][key]
    one = TEXTS.tn("zh", key, 1, **{counted: 1}, **params)
    assert one == TEXTS.t("zh", key, **{counted: 1}, **params)


def test_fractional_hours_stay_plural() -> None:
    assert hour_count("0.5") == 0.5 and hour_count("1") == 1 and hour_count("") == 0
    text = TEXTS.tn("en", "approvals.header_reminder", hour_count("0.5"), hours="0.5")
    assert text == "⏰ <b>Reminder</b>: this has waited 0.5 working hours for your decision."


def test_audited_escalation_reason() -> None:
    reason = "no decision in {} working hours"
    assert reason_text(TEXTS, "en", "approval.escalated", reason.format(1)) == (
        "no decision in 1 working hour"
    )
    assert reason_text(TEXTS, "en", "approval.escalated", reason.format(8)) == (
        "no decision in 8 working hours"
    )
    zh = reason_text(TEXTS, "zh", "approval.escalated", reason.format(1))
    assert zh == "1 个工作小时内无人审批"


def test_when_a_document_is_due() -> None:
    assert short_when(TEXTS, "en", 1) == "1 day overdue"
    assert short_when(TEXTS, "en", 2) == "2 days overdue"
    assert short_when(TEXTS, "en", -1) == "due in 1 day"
    assert short_when(TEXTS, "en", -2) == "due in 2 days"
    assert short_when(TEXTS, "zh", 1) == TEXTS.t("zh", "collections.digest_overdue", days=1)
    yesterday, tomorrow = TODAY - timedelta(days=1), TODAY + timedelta(days=1)
    assert when_label(TEXTS, "en", yesterday, TODAY) == (
        f"<b>1 day overdue</b> (due {format_short_day(yesterday, 'en')})"
    )
    assert when_label(TEXTS, "en", TODAY - timedelta(days=3), TODAY).startswith(
        "<b>3 days overdue</b>"
    )
    assert when_label(TEXTS, "en", tomorrow, TODAY) == (
        f"due in 1 day ({format_short_day(tomorrow, 'en')})"
    )


def _line(count: int, customer: str = "Acme") -> DigestLine:
    return DigestLine(1, customer, "due", count, {"CNY": Decimal(100)}, 3, "Wang Wei")


def test_digest_headers() -> None:
    def header(lines: list[DigestLine], lang: str = "en") -> str:
        return digest(TEXTS, lang, Digest(lines, TODAY))[0].splitlines()[0]

    start = "💼 <b>Collections today</b>: "
    assert header([_line(1)]).startswith(f"{start}1 customer, 1 document, ")
    assert header([_line(3)]).startswith(f"{start}1 customer, 3 documents, ")
    assert header([_line(1), _line(2, "Bravo")]).startswith(f"{start}2 customers, 3 documents, ")
    assert header([_line(1)], "zh").startswith("💼 <b>今日催款提醒</b>：1 个客户，1 张单据，")
    escalation = escalation_digest(TEXTS, "en", Digest([_line(2)], TODAY))[0]
    assert escalation.startswith("📣 <b>Escalation</b>: 1 customer overdue, ")


def test_balances_left_to_reconcile() -> None:
    one = [(1, "Acme", Decimal(100), "CNY")]
    assert reconcile_list(TEXTS, "en", one)[0] == "🧾 1 balance left to reconcile:"
    two = [*one, (2, "Bravo", Decimal(5), "CNY")]
    assert reconcile_list(TEXTS, "en", two)[0] == "🧾 2 balances left to reconcile:"


def test_report_lines_count_their_noun() -> None:
    def flagged(count: int) -> str:
        section = Section("visits", "reports.section_visits",
                          [Line("reports.visits_flagged", {"count": count})])  # fmt: skip
        return section_lines(TEXTS, "en", [section])[1]

    assert flagged(1) == "• ⚠️ 1 check-in far from the customer"
    assert flagged(2) == "• ⚠️ 2 check-ins far from the customer"


def test_import_reports() -> None:
    def summary(errors: int) -> str:
        notes = [RowNote(n, "collections.import_unknown_customer", {"name": "X"})
                 for n in range(errors)]  # fmt: skip
        return receivable_import_lines(TEXTS, "en", ReceivableImportReport(errors=notes))[0]

    assert summary(1).endswith("0 unchanged; 1 row with errors (not imported).")
    assert summary(2).endswith("0 unchanged; 2 rows with errors (not imported).")
    one = ImportReport(imported=[(2, "Acme")], errors=[(3, "no name")])
    assert customer_import_lines(one)[0] == (
        "Imported 1 customer; 0 already in salesbot (skipped); 1 row with errors (not imported)."
    )
    two = ImportReport(imported=[(2, "Acme"), (3, "Bravo")])
    assert customer_import_lines(two)[0].startswith("Imported 2 customers; ")
    assert customer_import_lines(two)[0].endswith("; 0 rows with errors (not imported).")


def test_outbox_backlog_alert() -> None:
    one = outbox_backlog(TEXTS, "en", OutboxBacklog(waiting=600, limit=500, minutes=1))[0]
    assert one.startswith("⚠️ 600 messages have been waiting more than 1 minute to be sent")
    ten = outbox_backlog(TEXTS, "en", OutboxBacklog(waiting=600, limit=500, minutes=10))[0]
    assert ten.startswith("⚠️ 600 messages have been waiting more than 10 minutes to be sent")


def test_a_refusal_counts_by_its_count_parameter() -> None:
    error = UserFacingError("visits.edit_window_over", hours=1, count=1)
    assert plural_count(error) == 1
    assert plural_count(UserFacingError("visits.still_open")) is None
    assert TEXTS.tn("en", error.key, 1, **error.params) == (
        "This visit was logged more than 1 hour ago and can no longer be changed."
    )
