"""Readable structured logs that never contain the bot token or the webhook secret.

Secrets are removed from the finished line — message, exception text and traceback alike —
because PTB logs API parameters (``setWebhook``'s ``secret_token``) at DEBUG and Bot API URLs
carry the token, and an exception's text can quote either.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime

REDACTED = "<redacted>"


class Redactor:
    """Replaces each secret, as configured and as used (stripped of surrounding space)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        variants = {variant for s in secrets for variant in (s, s.strip()) if variant.strip()}
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted(variants, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner`` and redacts the whole result, traceback included."""

    def __init__(self, inner: logging.Formatter, redact: Redactor) -> None:
        super().__init__()
        self.inner = inner
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(self.inner.format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class EveryMinute:
    """Lets a repeated warning through once a minute and counts the ones held back, so that a
    flood of bad requests cannot flood the log."""

    def __init__(self, interval_seconds: float = 60.0) -> None:
        self.interval = interval_seconds
        self._next_at = 0.0
        self.suppressed = 0

    def allow(self) -> int | None:
        """The number suppressed since the last line when a line may be written, else None."""
        now = time.monotonic()
        if now < self._next_at:
            self.suppressed += 1
            return None
        held_back, self.suppressed = self.suppressed, 0
        self._next_at = now + self.interval
        return held_back


UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def route_uvicorn_logs() -> None:
    """uvicorn's loggers write through the root handler (which redacts), never their own:
    an earlier server in the process may have given them handlers of their own."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True


def setup_logging(
    level: str = "INFO", fmt: str = "text", secrets: Iterable[str] | None = None
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    inner = (
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    handler.setFormatter(RedactingFormatter(inner, Redactor(secrets or [])))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    route_uvicorn_logs()
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
