"""Every text key the customer, visit, plan, team and report code asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

from core.i18n import load_catalogs

ROOT = Path(__file__).parent.parent.parent
SOURCES = [
    *ROOT.glob("handlers/customer*.py"),
    ROOT / "handlers/forms.py",
    ROOT / "handlers/visits.py",
    ROOT / "handlers/plans.py",
    ROOT / "handlers/team.py",
    *ROOT.glob("services/customer*.py"),
    ROOT / "services/visits.py",
    ROOT / "services/plans.py",
    *ROOT.glob("handlers/*report*.py"),
    *ROOT.glob("services/report*.py"),
    *ROOT.glob("services/contributors/*.py"),
    ROOT / "scheduler/jobs/reports.py",
    *ROOT.glob("views/report*.py"),
    *(ROOT / "views" / f"{area}.py" for area in ("visits", "plans", "customers", "team")),
]
LITERAL = re.compile(
    r"\"((?:customers|visits|plans|team|reports|forms|access|errors)\.[A-Za-z0-9_]+)\""
)
# A view's name ("reports.digest") is not a text key.
VIEW_NAME = re.compile(r"(?:view=|@view\()\"[a-z_.]+\"")
# Keys built from a prefix and a value: the values each prefix is used with.
FAMILIES = {
    "visits.kind_": ["in_person", "phone"],
    "visits.kind_icon_": ["in_person", "phone"],
    "visits.purpose_": ["new", "revisit", "demo", "collection", "after_sales"],
    "visits.source_": ["live", "current", "picked"],
    "visits.field_": ["customer", "kind", "purpose", "time", "notes", "location", "photos",
                      "next", "follow_up"],
    "customers.tier_": ["A", "B", "C"],
    "customers.status_": ["prospect", "active", "dormant"],
    "customers.ask_": ["name", "contact", "phone", "tier", "address", "region", "industry",
                       "status", "notes", "location", "owner", "query", "edit_field"],
    "customers.field_": ["name", "contact", "phone", "address", "region", "industry", "tier",
                         "status", "notes", "location", "owner"],
    "customers.duplicate_": ["name", "phone"],
    "reports.part_": ["summary", "problem", "tomorrow"],
    "reports.weekly_part_": ["summary", "feedback", "keys"],
}  # fmt: skip


def test_every_key_used_exists() -> None:
    catalogs = load_catalogs()
    # A view's registered name ("plans.morning") looks like a key but names a view, not a text.
    sources = [VIEW_NAME.sub("", path.read_text(encoding="utf-8")) for path in SOURCES]
    used = {key for source in sources for key in LITERAL.findall(source)}
    used |= {prefix + value for prefix, values in FAMILIES.items() for value in values}
    assert sorted(key for key in used if not catalogs.has(key)) == []
