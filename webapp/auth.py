"""Sign-in: only Telegram's signed initData, checked on every API call.

The page sends ``Authorization: tma <initData>`` with each request; there is no cookie and no
token of our own, so every call proves again who is asking (signature and age, by init-data-py)
and is checked again against the database (registered, active, a cockpit role), exactly as a
chat update is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import init_data_py
from init_data_py import errors as init_errors
from sqlmodel.ext.asyncio.session import AsyncSession

from core.i18n import person_language
from models.common import Role
from services import users
from services.users import Actor
from webapp.context import WebDeps

log = logging.getLogger(__name__)

COCKPIT_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})
# initData is a query string of a few hundred bytes; anything far longer is not Telegram's.
MAX_INIT_DATA = 4096


@dataclass(frozen=True)
class Viewer:
    """The person behind an API call, as the chat's turn would see them."""

    actor: Actor
    lang: str


class Refused(Exception):
    """The call is refused; ``key`` names the text shown, ``status`` the HTTP status."""

    def __init__(self, status: int, key: str, lang: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.lang = lang


def _client_language(deps: WebDeps, raw: str) -> str:
    """The language to refuse in before anyone is known: the client's, else the default."""
    try:
        user = init_data_py.parse(raw).user
    except init_errors.InitDataError:
        user = None
    return person_language(
        chosen=None,
        client_code=user.language_code if user is not None else None,
        default=deps.settings.language_default(),
    )


async def sign_in(deps: WebDeps, session: AsyncSession, header: str) -> Viewer:
    """The viewer proven by ``header``, or :class:`Refused` (401: no valid or a too old
    sign-in; 403: not a registered, active manager, director or admin)."""
    raw = header[4:].strip() if header[:4].lower() == "tma " else ""
    default = deps.settings.language_default()
    if not raw or len(raw) > MAX_INIT_DATA:
        raise Refused(401, "webapp.sign_in_missing", default)
    lang = _client_language(deps, raw)
    try:
        data = init_data_py.validate_by_hash(
            raw,
            deps.token.get_secret_value(),
            expires_in=deps.settings.webapp.max_age_seconds,
            now=deps.clock.now(),
        )
    except init_errors.ExpiredError:
        raise Refused(401, "webapp.sign_in_expired", lang) from None
    except init_errors.InitDataError as exc:
        # The reason, never the data: it carries the person's identity and the hash.
        log.warning("cockpit sign-in refused: %s", type(exc).__name__)
        raise Refused(401, "webapp.sign_in_invalid", lang) from None
    if data.user is None:
        raise Refused(401, "webapp.sign_in_invalid", lang)
    user = await users.by_telegram_id(session, data.user.id)
    if user is None or not user.active or Role(user.role) not in COCKPIT_ROLES:
        raise Refused(403, "webapp.not_allowed", lang)
    chosen = person_language(
        chosen=user.language, client_code=data.user.language_code, default=default
    )
    return Viewer(Actor.of(user), chosen)
