"""Every text key the collections code asks for exists in both catalogs."""

from __future__ import annotations

import re
from pathlib import Path

from core.i18n import load_catalogs
from core.settings import DunningTone
from models.receivable import ReceivableStatus
from services.receivables import BUCKETS
from views.collections import ACTIONS

ROOT = Path(__file__).parent.parent.parent
SOURCES = [
    ROOT / "handlers/collections.py",
    ROOT / "handlers/collection_forms.py",
    ROOT / "services/receivables.py",
    ROOT / "services/collection_actions.py",
    ROOT / "services/receivable_import.py",
    ROOT / "services/dunning.py",
    ROOT / "services/reconciliation.py",
    ROOT / "views/collections.py",
    ROOT / "views/collection_notices.py",
    ROOT / "views/imports.py",
]
LITERAL = re.compile(
    r"\"((?:collections|customers|forms|access|errors|fallback)\.[A-Za-z0-9_]+)\""
)
KIND = re.compile(r"kind=\"([a-z_.]+)\"")
# View names (``@view("collections.reminder")``, ``view="collections.reminder"``) are not texts.
VIEW = re.compile(r"view(?:=|\()\"([a-z_.]+)\"")


def test_every_key_used_exists() -> None:
    catalogs = load_catalogs()
    used: set[str] = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        used |= set(LITERAL.findall(text)) - set(KIND.findall(text)) - set(VIEW.findall(text))
    tones = DunningTone.__args__  # type: ignore[attr-defined]
    used |= {f"collections.tone_{tone}" for tone in tones}
    used |= {f"collections.hint_{tone}" for tone in tones}
    used |= {f"collections.action_{action}" for action, _ in ACTIONS}
    used |= {f"collections.status_{status}" for status in ReceivableStatus}
    used |= {f"collections.recon_status_{status}" for status in ("confirmed", "difference")}
    used |= {
        "collections.bucket_" + bucket.replace("-", "_").replace("+", "plus") for bucket in BUCKETS
    }
    assert sorted(key for key in used if not catalogs.has(key)) == []
