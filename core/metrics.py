"""Prometheus metrics: counted where things happen, exposed at GET /metrics.

One registry per process (not prometheus_client's global one, so nothing of the library's own
process collectors leaks host details); the gauges that describe the database (outbox backlog,
the newest backup) are set from a query just before each scrape (``bot/metrics.py``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter(
    "salesbot_updates",
    "Updates handled, by outcome: handled (incl. refusals and user errors) or failed "
    "(rolled back on an unexpected error).",
    ["outcome"],
    registry=REGISTRY,
)
REPLY_LATENCY = Histogram(
    "salesbot_reply_latency_seconds",
    "From the start of an update's turn to its last reply accepted by Telegram.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
    registry=REGISTRY,
)
OUTBOX_SENT = Counter(
    "salesbot_outbox_sent", "Outbox messages Telegram accepted.", registry=REGISTRY
)
OUTBOX_BACKLOG = Gauge(
    "salesbot_outbox_backlog",
    "Outbox messages waiting (pending or being sent).",
    registry=REGISTRY,
)
OUTBOX_OLDEST_PENDING = Gauge(
    "salesbot_outbox_oldest_pending_seconds",
    "How long the oldest due outbox message has been waiting (0 when none).",
    registry=REGISTRY,
)
TELEGRAM_429 = Counter(
    "salesbot_telegram_429",
    "Telegram's flood-control answers (429 retry_after), by where: outbox or reply.",
    ["source"],
    registry=REGISTRY,
)
RETRIES = Counter(
    "salesbot_telegram_retries",
    "Sends retried after a network error or a 5xx, by where: outbox or reply.",
    ["source"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "salesbot_job_runs",
    "Scheduled job runs by job and status (done, failed).",
    ["job", "status"],
    registry=REGISTRY,
)
BACKUPS = Counter(
    "salesbot_backups", "Backups made by this process, by status.", ["status"], registry=REGISTRY
)
LAST_BACKUP_AGE = Gauge(
    "salesbot_last_backup_age_seconds",
    "Age of the newest backup in the backup folder (-1 when there is none).",
    registry=REGISTRY,
)
