"""Storage of half-filled forms: one open form per person, with an expiry.

Every form step reads and writes this row, so it goes through SQLAlchemy Core, one statement
each, never through ORM objects: the FormState a caller gets is a plain copy of the row, not
attached to the session. The read is usually done already: the update-id INSERT returns the
sender's form row (``open_form_columns``), kept for this turn by ``remember_read``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, column, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from models.common import loaded_copy
from models.form import FormState
from services import sql

_TABLE: Table = FormState.__table__  # type: ignore[attr-defined]
_COLUMNS = ("form", "step", "token", "data", "prompt_message_id", "updated_at", "expires_at")
# session.info key: (telegram_id, the row's values or None) read in this turn, for one load
# before any write.
_READ = "salesbot.form_read"
# session.info key: (telegram_id, token) of a form opened in this turn and not written yet.
_NEW = "salesbot.form_new"
# Per dialect, the first write of a new form: it replaces the person's old form row, if any.
_REPLACE: dict[str, Any] = {}


def _replace_statement(dialect: str) -> Any:
    statement = _REPLACE.get(dialect)
    if statement is None:
        values: dict[str, Any] = {
            "form": bindparam("new_form"), "step": bindparam("new_step"),
            "token": bindparam("new_token"), "data": bindparam("new_data"),
            "prompt_message_id": None, "updated_at": bindparam("now"),
            "expires_at": bindparam("until"),
        }  # fmt: skip
        statement = _REPLACE[dialect] = (
            sql.insert_for(dialect, _TABLE)
            .values(telegram_id=bindparam("person"), **values)
            .on_conflict_do_update(index_elements=["telegram_id"], set_=values)
        )
    return statement


# A form step's one write, built once (building it cost more than sending it). A new question
# has no message of its own yet: ``remember_prompt`` records it once it is out.
_SAVE = (
    update(_TABLE)
    .where(_TABLE.c.telegram_id == bindparam("person"))
    .values(
        step=bindparam("new_step"), data=bindparam("new_data"), updated_at=bindparam("now"),
        expires_at=bindparam("until"), prompt_message_id=None,
    )
)  # fmt: skip

_REMEMBER = (
    update(_TABLE)
    .where(
        _TABLE.c.telegram_id == bindparam("person"), _TABLE.c.token == bindparam("form_token"),
        _TABLE.c.updated_at == bindparam("saved_at"),
    )
    .values(prompt_message_id=bindparam("sent_id"))
)  # fmt: skip


def open_form_columns(telegram_id: Any) -> list[Any]:
    """The person's form row, column by column, as scalar subqueries for another statement's
    RETURNING (``services.updates.first_delivery_of``); all NULL when no form is open."""
    return [
        select(_TABLE.c[name]).where(_TABLE.c.telegram_id == telegram_id).scalar_subquery()
        for name in _COLUMNS
    ]


def open_form_types() -> list[Any]:
    """``open_form_columns`` as typed result columns of a text statement, in the same order."""
    return [column(name, _TABLE.c[name].type) for name in _COLUMNS]


def remember_read(session: AsyncSession, telegram_id: int, values: Sequence[Any]) -> None:
    """Keep the row ``open_form_columns`` returned (in this transaction, after the person's
    lock) for this turn's ``load``. Any write below forgets it."""
    session.info[_READ] = (telegram_id, values if values[0] is not None else None)


def _state(telegram_id: int, values: Sequence[Any]) -> FormState:
    return loaded_copy(
        FormState, {"telegram_id": telegram_id, **dict(zip(_COLUMNS, values, strict=True))}
    )


async def load(session: AsyncSession, telegram_id: int, now: datetime) -> FormState | None:
    """The person's open form, or None; an expired form is dropped on the way."""
    read = session.info.pop(_READ, None)
    if read is not None and read[0] == telegram_id:
        values = read[1]
    else:
        query = select(*(_TABLE.c[name] for name in _COLUMNS))
        row = (
            await session.exec(query.where(_TABLE.c.telegram_id == telegram_id))  # type: ignore[call-overload]
        ).first()
        values = tuple(row) if row is not None else None
    if values is None:
        return None
    state = _state(telegram_id, values)
    if state.expires_at <= now:
        await discard(session, telegram_id)
        return None
    return state


async def open_form(
    session: AsyncSession,
    *,
    telegram_id: int,
    form: str,
    step: str,
    data: dict[str, Any],
    now: datetime,
    ttl: timedelta,
) -> FormState:
    """Start a form, replacing any other open form of the same person. The row is written by
    the form's first ``save`` (its first question is always asked), in one statement that
    replaces the old row: a form start costs one write, not a delete, an insert and an update."""
    session.info.pop(_READ, None)
    state = loaded_copy(FormState, {
        "telegram_id": telegram_id, "form": form, "step": step, "token": secrets.token_hex(3),
        "data": data, "prompt_message_id": None, "updated_at": now, "expires_at": now + ttl,
    })  # fmt: skip
    session.info[_NEW] = (telegram_id, state.token)
    return state


async def save(
    session: AsyncSession, state: FormState, *, step: str, data: dict[str, Any], now: datetime,
    ttl: timedelta,
) -> None:  # fmt: skip
    session.info.pop(_READ, None)
    state.step, state.data = step, dict(data)
    state.updated_at, state.expires_at = now, now + ttl
    if session.info.get(_NEW) == (state.telegram_id, state.token):
        del session.info[_NEW]
        await session.exec(
            _replace_statement(session.get_bind().dialect.name),
            params={
                "person": state.telegram_id, "new_form": state.form, "new_step": step,
                "new_token": state.token, "new_data": state.data, "now": now,
                "until": state.expires_at,
            },
        )  # fmt: skip
        return
    await session.exec(
        _SAVE,  # type: ignore[call-overload]
        params={
            "person": state.telegram_id, "new_step": step, "new_data": state.data, "now": now,
            "until": state.expires_at,
        },
    )  # fmt: skip


async def remember_prompt(
    session: AsyncSession, telegram_id: int, token: str, saved_at: datetime, message_id: int
) -> None:
    """Record the message that carries the current question's buttons, once Telegram accepted
    it, when the form is still at that question (the same form, not saved since): an answer
    that is not a tap on it (a shared location, a typed text) then retires it."""
    await session.exec(
        _REMEMBER,  # type: ignore[call-overload]
        params={
            "person": telegram_id, "form_token": token, "saved_at": saved_at,
            "sent_id": message_id,
        },
    )  # fmt: skip


async def discard(session: AsyncSession, telegram_id: int, token: str | None = None) -> bool:
    """Drop the person's open form; with ``token``, only that form (not one opened since)."""
    session.info.pop(_READ, None)
    session.info.pop(_NEW, None)
    query = delete(_TABLE).where(_TABLE.c.telegram_id == telegram_id)
    if token is not None:
        query = query.where(_TABLE.c.token == token)
    result = await session.exec(query)
    return bool(result.rowcount)
