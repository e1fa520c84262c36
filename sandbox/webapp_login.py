"""Signed initData, as Telegram hands it to a Mini App, for any person of the sandbox or the
demo: the cockpit can then be opened in a plain browser (the demo) or a headless one (tests)."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote

import init_data_py


def signed_init_data(
    token: str, *, telegram_id: int, first_name: str, language_code: str = "", at: datetime
) -> str:
    """The initData query string Telegram would sign with ``token`` for this person at ``at``."""
    user: dict[str, object] = {"id": telegram_id, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    payload = {"user": json.dumps(user, ensure_ascii=False, separators=(",", ":"))}
    return init_data_py.sign(payload, token, auth_date=at)


def page_url(base: str, init_data: str, theme: dict[str, str] | None = None) -> str:
    """The cockpit's address with the sign-in and theme in the fragment, as Telegram opens it
    (the fragment never reaches a server or its logs)."""
    fragment = "tgWebAppData=" + quote(init_data, safe="")
    if theme:
        fragment += "&tgWebAppThemeParams=" + quote(json.dumps(theme), safe="")
    return f"{base}#{fragment}"
