"""Delivery problems as admins and managers read them."""

from __future__ import annotations

import html

from core.i18n import Catalogs
from services.alerts import BackupFailed, DeliveryFailed, JobFailing, OutboxBacklog, Unreachable
from views.buttons import Keyboard
from views.registry import view

# An error as Telegram words it can be long; the alert shows its start.
MAX_ERROR = 300


@view("alerts.delivery_failed")
def delivery_failed(
    texts: Catalogs, lang: str, failed: DeliveryFailed
) -> tuple[str, Keyboard | None]:
    text = texts.t(
        lang, "delivery.failed", kind=html.escape(failed.kind), chat=failed.chat_id,
        error=html.escape(failed.error[:MAX_ERROR]),
    )  # fmt: skip
    return text, None


@view("alerts.user_blocked")
def user_blocked(texts: Catalogs, lang: str, who: Unreachable) -> tuple[str, Keyboard | None]:
    return texts.t(lang, "delivery.user_blocked_bot", name=html.escape(who.name)), None


@view("alerts.backup_failed")
def backup_failed(texts: Catalogs, lang: str, failed: BackupFailed) -> tuple[str, Keyboard | None]:
    return texts.t(lang, "ops.backup_failed", error=html.escape(failed.error[:MAX_ERROR])), None


@view("alerts.job_failing")
def job_failing(texts: Catalogs, lang: str, failing: JobFailing) -> tuple[str, Keyboard | None]:
    text = texts.t(
        lang, "ops.job_failing", job=html.escape(failing.job), team=html.escape(failing.team),
        times=failing.times, error=html.escape(failing.error[:MAX_ERROR]),
    )  # fmt: skip
    return text, None


@view("alerts.outbox_backlog")
def outbox_backlog(
    texts: Catalogs, lang: str, backlog: OutboxBacklog
) -> tuple[str, Keyboard | None]:
    text = texts.tn(
        lang, "ops.outbox_backlog", backlog.minutes, waiting=backlog.waiting, limit=backlog.limit,
        minutes=backlog.minutes,
    )  # fmt: skip
    return text, None
