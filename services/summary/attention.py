"""What needs the manager this period, read off a built summary: reps below their visit target,
days without a daily report, overdue money that grew, broken promises, requests waiting too
long, flagged check-ins, and reps (or a whole team) with no activity at all.

The summary message opens with these; the view only words them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from services.summary.approvals import waiting_limit
from services.summary.collections import BUCKETS
from services.summary.core import RepLine, TeamSummary, Value, metrics, working_days

Kind = Literal[
    "below_target", "missing_reports", "overdue_grew", "broken_promises", "approvals_waiting",
    "flagged", "silent",
]  # fmt: skip
# The order the kinds are shown in: what costs money or a customer first.
KINDS: tuple[Kind, ...] = (
    "overdue_grew", "broken_promises", "approvals_waiting", "below_target", "missing_reports",
    "flagged", "silent",
)  # fmt: skip
# A rep with any of these figures above zero did something this period.
ACTIVITY = ("in_person", "phone", "reports", "collected", "approvals_requested", "new_customers")
VISIT_TARGETS = ("in_person", "phone")


@dataclass(frozen=True)
class Flag:
    """One rep's problem of one kind, with the figures that show it."""

    kind: Kind
    rep_id: int
    name: str
    figures: dict[str, Value] = field(default_factory=dict)


@dataclass
class Attention:
    """The flags of a team's period, by kind, and whether the whole team was silent."""

    flags: dict[Kind, list[Flag]]
    silent_team: bool
    hours_limit: float

    @property
    def rep_ids(self) -> set[int]:
        return {flag.rep_id for flags in self.flags.values() for flag in flags}

    def __bool__(self) -> bool:
        return self.silent_team or any(self.flags.values())


def _number(values: dict[str, Value], key: str) -> Decimal:
    value = values.get(key, 0)
    return Decimal(value) if isinstance(value, int | Decimal) else Decimal(0)


def overdue(values: dict[str, Value]) -> Decimal:
    """The rep's money past its due date, all aging buckets together."""
    return sum((_number(values, f"overdue_{bucket}") for bucket in BUCKETS), Decimal(0))


def _share_elapsed(summary: TeamSummary) -> Decimal:
    """The part of the period's working days already behind (1 for a finished period): a
    Wednesday summary expects half a week's visits, not the whole week's."""
    window = summary.window
    rules = summary.rules
    total = sum(1 for day in window.period.days() if rules.is_working_day(day))
    if total == 0:
        return Decimal(0)
    return Decimal(working_days(rules, window)) / Decimal(total)


def _flags_of(summary: TeamSummary, rep: RepLine, share: Decimal) -> list[Flag]:
    values, flags = rep.values, []

    def flag(kind: Kind, **figures: Value) -> None:
        flags.append(Flag(kind, rep.rep_id, rep.name, figures))

    if not any(_number(values, key) for key in ACTIVITY):
        flag("silent")
        return flags
    by_key = {metric.key: metric for metric in metrics()}
    short: dict[str, Value] = {}
    for key in VISIT_TARGETS:
        target = summary.target(by_key[key]) if key in by_key else None
        done = int(_number(values, key))
        if target and done < int(target * share):
            short[key] = done
            short[f"{key}_target"] = target
    if short:
        flag("below_target", **short)
    reports_target = summary.target(by_key["reports"]) if "reports" in by_key else None
    missing = (reports_target or 0) - int(_number(values, "reports"))
    if missing > 0:
        flag("missing_reports", days=missing)
    now, before = overdue(values), overdue(summary.previous_reps.get(rep.rep_id, {}))
    if now > before:
        flag("overdue_grew", overdue=now, grew=now - before)
    for kind, key in (
        ("broken_promises", "broken_promises"),
        ("approvals_waiting", "approvals_waiting"),
        ("flagged", "flagged"),
    ):
        count = int(_number(values, key))
        if count:
            flag(kind, count=count)  # type: ignore[arg-type]
    return flags


def attention(summary: TeamSummary) -> Attention:
    """Every flag of the team's period, reps in the summary's order within each kind."""
    share = _share_elapsed(summary)
    found: dict[Kind, list[Flag]] = {kind: [] for kind in KINDS}
    for rep in summary.reps:
        for flag in _flags_of(summary, rep, share):
            found[flag.kind].append(flag)
    silent_team = bool(summary.reps) and len(found["silent"]) == len(summary.reps)
    return Attention(found, silent_team, waiting_limit(summary.rules))
