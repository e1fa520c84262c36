"""How people read in the chat: /users with its pages, pending invites, /me and /lang, and the
buttons of those screens."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from core.i18n import LANGUAGE_NAMES, LANGUAGES, Catalogs
from models.team import Team
from models.user import User
from services.timefmt import format_local
from views.buttons import Button, Keyboard
from views.callbacks import Callback

USERS_PAGE_SIZE = 8


@dataclass(frozen=True)
class UserAction:
    """``p`` shows a page (number), ``d`` asks to deactivate a user (id), ``D`` does it."""

    action: str
    number: int


@dataclass(frozen=True)
class InviteAction:
    """``r`` revokes an invite (id), ``new`` starts the invite form."""

    action: str
    invite_id: int | None


@dataclass(frozen=True)
class LanguageChoice:
    code: str


USER = Callback("usr", UserAction)
INVITE = Callback("inv", InviteAction)
LANGUAGE = Callback("lang", LanguageChoice)
PAGE, ASK_DEACTIVATE, DEACTIVATE = "p", "d", "D"
REVOKE, NEW_INVITE = "r", "new"


def _user_button(label: str, action: str, number: int) -> Button:
    return Button(label, data=USER.pack(UserAction(action, number)))


@dataclass(frozen=True)
class UsersPage:
    people: list[tuple[User, Team | None]]
    # Ids of the listed people the reader may deactivate.
    deactivatable: set[int]
    page: int


def users_page(texts: Catalogs, lang: str, data: UsersPage) -> tuple[str, Keyboard]:
    """One page of /users: a line per person, a Deactivate button where allowed, ◀ ▶."""
    t = texts.t
    pages = max(1, (len(data.people) + USERS_PAGE_SIZE - 1) // USERS_PAGE_SIZE)
    page = min(max(data.page, 0), pages - 1)
    lines = [t(lang, "users.header", count=len(data.people), page=page + 1, pages=pages)]
    buttons: Keyboard = []
    for user, team in data.people[page * USERS_PAGE_SIZE : (page + 1) * USERS_PAGE_SIZE]:
        status = t(lang, "users.active" if user.active else "users.inactive")
        lines.append(
            t(
                lang, "users.line", name=html.escape(user.display_name),
                role=t(lang, f"roles.{user.role}"),
                team=html.escape(team.name) if team else "—", status=status,
            )
        )  # fmt: skip
        if user.id in data.deactivatable:
            label = t(lang, "users.deactivate_button", name=user.display_name[:40])
            buttons.append([_user_button(label, ASK_DEACTIVATE, user.id or 0)])
    nav = []
    if page > 0:
        nav.append(_user_button("◀", PAGE, page - 1))
    if page < pages - 1:
        nav.append(_user_button("▶", PAGE, page + 1))
    if nav:
        buttons.append(nav)
    return "\n".join(lines), buttons


def ask_deactivate(texts: Catalogs, lang: str, user: User) -> tuple[str, Keyboard]:
    confirm = [[
        _user_button(texts.t(lang, "users.confirm_deactivate"), DEACTIVATE, user.id or 0),
        _user_button(texts.t(lang, "forms.cancel"), PAGE, 0),
    ]]  # fmt: skip
    name = html.escape(user.display_name)
    return texts.t(lang, "users.ask_deactivate", name=name), confirm


def deactivated(texts: Catalogs, lang: str, user: User) -> str:
    return texts.t(lang, "users.deactivated", name=html.escape(user.display_name))


@dataclass(frozen=True)
class PendingLine:
    """An invite not used yet, as the list shows it."""

    invite_id: int
    label: str
    role: str
    team: str | None
    expires_at: datetime
    timezone: str
    # Who made it when not the reader: their name, or "" for the command line; None: the reader.
    made_by: str | None


def pending_invites(
    texts: Catalogs, lang: str, pending: list[PendingLine]
) -> tuple[str, Keyboard]:
    """The invites not used yet, a Revoke button each and one for a new invite."""
    t = texts.t
    lines = [t(lang, "invite.pending_title", count=len(pending)) if pending
             else t(lang, "invite.none_pending")]  # fmt: skip
    buttons: Keyboard = []
    for item in pending:
        by = ""
        if item.made_by is not None:
            name = html.escape(item.made_by) if item.made_by else t(lang, "invite.by_command_line")
            by = t(lang, "invite.pending_by", name=name)
        lines.append(
            t(
                lang, "invite.pending_line", label=item.label, role=t(lang, f"roles.{item.role}"),
                team=html.escape(item.team) if item.team else t(lang, "profile.no_team"),
                expires=format_local(item.expires_at, item.timezone, lang), by=by,
            )
        )  # fmt: skip
        label = t(lang, "invite.revoke_button", number=item.invite_id)
        buttons.append([Button(label, data=INVITE.pack(InviteAction(REVOKE, item.invite_id)))])
    new = INVITE.pack(InviteAction(NEW_INVITE, None))
    buttons.append([Button(t(lang, "invite.new_button"), data=new)])
    return "\n".join(lines), buttons


def invite_created(
    texts: Catalogs, lang: str, role: str, team: str | None, link: str, expires: str
) -> str:
    t = texts.t
    return t(
        lang, "invite.created", role=t(lang, f"roles.{role}"),
        team=html.escape(team) if team else t(lang, "profile.no_team"), link=link, expires=expires,
    )  # fmt: skip


def profile_card(texts: Catalogs, lang: str, user: User, team: str | None) -> str:
    t = texts.t
    return t(
        lang, "profile.card", name=html.escape(user.display_name),
        role=t(lang, f"roles.{user.role}"),
        team=html.escape(team) if team else t(lang, "profile.no_team"),
        language=LANGUAGE_NAMES[user.language], telegram_id=user.telegram_id,
    )  # fmt: skip


def language_picker(texts: Catalogs, lang: str) -> tuple[str, Keyboard]:
    row = [Button(LANGUAGE_NAMES[c], data=LANGUAGE.pack(LanguageChoice(c))) for c in LANGUAGES]
    return texts.t(lang, "lang.choose"), [row]
