"""Every text the approval code asks for exists, for every type, field, choice, level, state
and history entry the registry and the services can produce."""

from __future__ import annotations

import re
from pathlib import Path

import views.approvals
import views.delegations  # noqa: F401
from core.i18n import load_catalogs
from handlers.commands import COMMANDS
from models.approval import RequestStatus, StepStatus
from services.approval_types import TYPES
from views.registry import VIEWS

ROOT = Path(__file__).parent.parent.parent
SOURCES = [
    *ROOT.glob("services/approval*.py"),
    ROOT / "services/delegations.py",
    ROOT / "services/money.py",
    *ROOT.glob("handlers/approval*.py"),
    ROOT / "handlers/delegation.py",
    *ROOT.glob("views/approval*.py"),
    ROOT / "views/delegations.py",
]
LITERAL = re.compile(r"\"((?:approvals|delegation|money|forms|customers)\.[A-Za-z0-9_]+)\"")
DECIDED = [StepStatus.APPROVED, StepStatus.REJECTED]


def used_keys() -> set[str]:
    keys = {key for path in SOURCES for key in LITERAL.findall(path.read_text(encoding="utf-8"))}
    keys -= set(VIEWS)  # view names ("approvals.card") look like keys but are not texts
    keys.discard("approvals.history_")  # a prefix; the entries are listed below
    for kind in TYPES.values():
        keys.add(kind.name_key)
        for spec in kind.fields:
            keys.add(spec.label_key)
            if not kind.requestable:
                continue  # made elsewhere (a credit note): no command, no form questions
            keys |= {f"commands.{kind.command}", f"approvals.ask_{spec.name}"}
            # A type may word a question its own way (approvals.ask_<type>_<field>).
            specific = f"approvals.ask_{kind.key}_{spec.name}"
            if load_catalogs().has(specific):
                keys.add(specific)
            keys |= {f"approvals.choice_{spec.name}_{choice}" for choice in spec.choices}
    keys |= {f"approvals.level_{level}" for level in ("manager", "director")}
    keys |= {f"approvals.state_{status}" for status in RequestStatus}
    keys |= {f"approvals.status_{s}" for s in ("approved", "rejected", "withdrawn")}
    keys |= {f"approvals.closed_{s}" for s in ("approved", "rejected", "withdrawn")}
    keys |= {f"approvals.already_{s}" for s in DECIDED}
    keys |= {f"approvals.already_{s}_by_you" for s in DECIDED}
    keys |= {f"approvals.done_{a}" for a in ("approve", "reject", "info")}
    keys |= {f"approvals.{p}_{level}" for p in ("done_next", "notice_next", "submitted")
             for level in ("manager", "director")}  # fmt: skip
    keys |= {f"approvals.history_{a}" for a in ("submitted", "approved", "rejected",
             "info_requested", "info_answered", "withdrawn", "escalated", "resubmitted",
             "resubmission", "transferred")}  # fmt: skip
    keys |= {f"delegation.notice_{r}_delegate" for r in ("expired", "ended", "replaced")}
    keys |= {"commands.request", "commands.myrequests", "commands.pending", "commands.delegate"}
    return keys


def test_every_key_used_exists() -> None:
    catalogs = load_catalogs()
    assert sorted(key for key in used_keys() if not catalogs.has(key)) == []


def test_no_approval_text_is_left_unused() -> None:
    catalogs = load_catalogs()
    ours = {
        k for k in catalogs.keys("en") if k.startswith(("approvals.", "delegation.", "money."))
    }
    used = used_keys()
    # A singular ("<key>_one") is picked by Catalogs.tn wherever its key is used.
    used |= {f"{key}_one" for key in used}
    assert sorted(ours - used) == []


def test_shortcut_commands_are_declared() -> None:
    import bot.app  # noqa: F401  (declares every area's commands)

    for kind in TYPES.values():
        assert kind.command in COMMANDS or not kind.requestable
