"""The figures at the top of a report: each area contributes a section for a day or a week.

An area registers a *contributor*, ``async def fn(session, rep, scope) -> Section | None``, with
``@contributor("area", order=N)``. A draft lists the sections of every registered area in order;
an area with nothing to say returns None, and an area that is not built has no contributor, so
nothing at all appears for it. The contributors live in ``services/contributors/<area>.py``;
importing ``services.contributors`` registers them all.

Sections hold text keys and plain parameters, not rendered text, so that the reader's language
decides the words (a manager may read in English what a rep wrote in Chinese). They are stored
with the report as JSON: the manager reads the figures the rep saw when submitting.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from core.periods import Period
from core.registry import Registry
from core.settings import TeamSettings
from models.user import User

log = logging.getLogger(__name__)

ScopeKind = Literal["day", "week"]
# A parameter: text (escaped when shown), a number, a list of texts (joined in the reader's
# language), or one of the typed values made by day_param / money_param.
Param = str | int | float | list[str] | dict[str, str]


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: one local day or one ISO week of the rep's team."""

    kind: ScopeKind
    period: Period
    rules: TeamSettings
    now: datetime


@dataclass(frozen=True)
class Line:
    key: str
    params: dict[str, Param] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    area: str
    # Text key of the section's heading.
    title: str
    lines: list[Line]

    def to_json(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "title": self.title,
            "lines": [[line.key, line.params] for line in self.lines],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Section:
        lines = [Line(str(key), dict(params or {})) for key, params in raw.get("lines") or []]
        return cls(area=str(raw.get("area", "")), title=str(raw.get("title", "")), lines=lines)


def stored_sections(raw: Sequence[dict[str, Any]]) -> list[Section]:
    """Sections as stored with a report (or a form's draft)."""
    return [Section.from_json(item) for item in raw]


def day_param(day: date) -> dict[str, str]:
    """A date, shown as a short day in the reader's language."""
    return {"day": day.isoformat()}


def money_param(amount: Decimal, currency: str) -> dict[str, str]:
    """An amount of money, shown with the currency in the reader's language."""
    return {"money": str(amount), "currency": currency}


Contributor = Callable[[AsyncSession, User, ReportScope], Awaitable[Section | None]]


@dataclass(frozen=True)
class Registered:
    area: str
    order: int
    kinds: frozenset[ScopeKind]
    fn: Contributor


CONTRIBUTORS: Registry[Registered] = Registry("report contributor")


def contributor(
    area: str, *, order: int, kinds: Iterable[ScopeKind] = ("day", "week")
) -> Callable[[Contributor], Contributor]:
    """Register ``fn`` as the section of ``area`` (lower ``order`` first) in daily and/or
    weekly reports. An area registers once (core.registry)."""

    def register(fn: Contributor) -> Contributor:
        CONTRIBUTORS.add(area, Registered(area, order, frozenset(kinds), fn))
        return fn

    return register


async def collect(session: AsyncSession, rep: User, scope: ReportScope) -> list[Section]:
    """The sections of every area for the scope, in order.

    One area failing (a bug, a missing table) must not stop reps from reporting: its section is
    left out and the error is logged; a savepoint keeps the transaction usable.
    """
    sections: list[Section] = []
    for registered in sorted(CONTRIBUTORS.values(), key=lambda r: (r.order, r.area)):
        if scope.kind not in registered.kinds:
            continue
        try:
            async with session.begin_nested():
                section = await registered.fn(session, rep, scope)
        except Exception:
            log.exception("report section %s failed for user %s", registered.area, rep.id)
            continue
        if section is not None and section.lines:
            sections.append(section)
    return sections
