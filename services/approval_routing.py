"""Who decides a request: the chain of approver levels from the team's routing rules.

Level "manager" is the requester's own manager (or whoever that manager delegated to); level
"director" is any director. The first rule of the type whose conditions all hold gives the chain.
A manager's own request skips the manager level, and so does a request from a team that has no
manager: both go straight to the directors.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from core.settings import RouteRule

MANAGER = "manager"
DIRECTOR = "director"
DEFAULT_CHAIN = (MANAGER,)


def matches(rule: RouteRule, *, amount: Decimal | None, discount: Decimal | None) -> bool:
    if rule.amount_above is not None and (amount is None or amount <= rule.amount_above):
        return False
    return not (
        rule.discount_above is not None and (discount is None or discount <= rule.discount_above)
    )


def route(
    rules: Sequence[RouteRule], *, amount: Decimal | None, discount: Decimal | None
) -> list[str]:
    """The chain of the first matching rule (a type without rules goes to the manager)."""
    for rule in rules:
        if matches(rule, amount=amount, discount=discount):
            return list(rule.chain)
    return list(DEFAULT_CHAIN)


def chain_for(
    rules: Sequence[RouteRule],
    *,
    amount: Decimal | None,
    discount: Decimal | None,
    requester_is_manager: bool,
    team_has_manager: bool,
) -> list[str]:
    chain = route(rules, amount=amount, discount=discount)
    if requester_is_manager or not team_has_manager:
        chain = [level for level in chain if level != MANAGER] or [DIRECTOR]
    return chain
