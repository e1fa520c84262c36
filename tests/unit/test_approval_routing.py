"""Routing rules: shipped defaults, first match wins, managers' own requests, config checks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import ApprovalSettings, RouteRule, TeamSettings, _default_routes, load_settings
from services.approval_routing import chain_for, route
from services.approval_types import TYPES, check_routes

ROUTES = _default_routes()
BOTH = ["manager", "director"]


def chain(
    kind: str, amount: str | None = None, discount: str | None = None, **kw: bool
) -> list[str]:
    return chain_for(
        ROUTES[kind],
        amount=Decimal(amount) if amount is not None else None,
        discount=Decimal(discount) if discount is not None else None,
        requester_is_manager=kw.get("manager", False),
        team_has_manager=kw.get("team_has_manager", True),
    )


@pytest.mark.parametrize(
    ("kind", "amount", "discount", "expected"),
    [
        ("expense", "2000", None, ["manager"]),
        ("expense", "2000.01", None, BOTH),
        ("expense", "0.01", None, ["manager"]),
        ("discount", "50000", "15", ["manager"]),
        ("discount", "10", "15.01", BOTH),
        ("special_fee", "5000", None, ["manager"]),
        ("special_fee", "5000.50", None, BOTH),
        ("bid", "500000", None, ["manager"]),
        ("bid", "500001", None, BOTH),
        ("return", None, None, ["manager"]),
        ("invoice", "100000.01", None, BOTH),
    ],
)  # fmt: skip
def test_shipped_rules(
    kind: str, amount: str | None, discount: str | None, expected: list[str]
) -> None:
    assert chain(kind, amount, discount) == expected


def test_a_managers_request_goes_straight_to_the_directors() -> None:
    assert chain("expense", "100", manager=True) == ["director"]
    assert chain("expense", "9000", manager=True) == ["director"]
    assert chain("expense", "100", team_has_manager=False) == ["director"]


def test_first_matching_rule_wins_and_conditions_all_hold() -> None:
    rules = [
        RouteRule(amount_above=Decimal(1000), discount_above=Decimal(5), chain=["director"]),
        RouteRule(amount_above=Decimal(1000), chain=BOTH),  # type: ignore[arg-type]
        RouteRule(chain=["manager"]),
    ]
    assert route(rules, amount=Decimal(2000), discount=Decimal(6)) == ["director"]
    assert route(rules, amount=Decimal(2000), discount=Decimal(5)) == BOTH
    assert route(rules, amount=None, discount=Decimal(50)) == ["manager"]
    assert route([], amount=None, discount=None) == ["manager"]


def test_every_type_has_a_shipped_route() -> None:
    assert set(ROUTES) == set(TYPES)


def test_config_toml_ships_the_same_rules_as_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SALESBOT_"):
            monkeypatch.delenv(name)
    config = Path(__file__).parent.parent.parent / "config.toml"
    settings = load_settings(config)
    for team in settings.team_settings.values():
        assert team.approvals.routes == ROUTES
        assert team.approvals.currency == "CNY"


def test_a_team_overrides_one_type_and_keeps_the_others() -> None:
    team = TeamSettings.model_validate(
        {"approvals": {"routes": {"expense": [{"amount_above": 500, "chain": BOTH},
                                              {"chain": ["manager"]}]}}}
    )  # fmt: skip
    assert team.approvals.routes["expense"][0].amount_above == Decimal(500)
    assert team.approvals.routes["discount"] == ROUTES["discount"]


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ({"expense": [{"amount_above": 1, "chain": ["manager"]}]}, "last rule must have no"),
        ({"expense": [{"chain": ["director", "manager"]}]}, "from manager to director"),
        ({"expense": [{"chain": ["manager", "manager"]}]}, "each once"),
        ({"expense": [{"chain": []}]}, "at least 1"),
        ({"expense": [{"chain": ["ceo"]}]}, "manager"),
        ({"bid": [{"discount_above": 150, "chain": ["manager"]}, {"chain": ["manager"]}]}, "100"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused(routes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ApprovalSettings.model_validate({"routes": routes})


def test_escalation_comes_after_the_reminder() -> None:
    with pytest.raises(ValidationError, match="escalate_after_hours"):
        ApprovalSettings.model_validate({"remind_after_hours": 8, "escalate_after_hours": 4})


def test_routes_for_unknown_types_are_refused() -> None:
    with pytest.raises(ValueError, match="no request type expence"):
        check_routes({"north": {"expence": [], "expense": []}})
    check_routes({"north": dict(ROUTES)})
