"""Storage of half-filled forms: one open form per person, with an expiry."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.form import FormState


async def load(session: AsyncSession, telegram_id: int, now: datetime) -> FormState | None:
    """The person's open form, or None; an expired form is dropped on the way."""
    state = (
        await session.exec(select(FormState).where(FormState.telegram_id == telegram_id))
    ).first()
    if state is not None and state.expires_at <= now:
        await session.delete(state)
        await session.flush()
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
    """Start a form, replacing any other open form of the same person."""
    await discard(session, telegram_id)
    state = FormState(
        telegram_id=telegram_id,
        form=form,
        step=step,
        token=secrets.token_hex(3),
        data=data,
        updated_at=now,
        expires_at=now + ttl,
    )
    session.add(state)
    await session.flush()
    return state


async def save(
    session: AsyncSession, state: FormState, *, step: str, data: dict[str, Any], now: datetime,
    ttl: timedelta,
) -> None:  # fmt: skip
    state.step, state.data = step, dict(data)
    # The caller may have mutated the very dict SQLAlchemy compares against, so equality would
    # hide the change: mark the JSON column dirty explicitly.
    flag_modified(state, "data")
    state.updated_at, state.expires_at = now, now + ttl
    session.add(state)
    await session.flush()


async def discard(session: AsyncSession, telegram_id: int, token: str | None = None) -> bool:
    """Drop the person's open form; with ``token``, only that form (not one opened since)."""
    query = delete(FormState).where(col(FormState.telegram_id) == telegram_id)
    if token is not None:
        query = query.where(col(FormState.token) == token)
    result = await session.exec(query)
    return bool(result.rowcount)
