"""The house, guarded: each layer imports only what it may (ARCHITECTURE.md draws the arrows),
services render nothing, and every callback prefix is declared in exactly one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = {"core", "models", "services", "views", "handlers", "scheduler", "webapp", "bot",
           "sandbox"}  # fmt: skip
# What each package may NOT import (besides itself).
FORBIDDEN = {
    "core": PROJECT - {"core"} | {"telegram"},
    "models": PROJECT - {"core", "models"} | {"telegram"},
    "services": {"telegram", "handlers", "views", "bot", "scheduler", "webapp", "sandbox"},
    "views": {"telegram", "handlers", "bot", "scheduler", "webapp", "sandbox"},
    "scheduler": {"handlers", "telegram", "webapp", "sandbox"},
    "handlers": {"scheduler", "webapp", "sandbox"},
    # The cockpit is glue like handlers, over HTTP instead of Telegram: services and views.
    "webapp": {"telegram", "handlers", "bot", "scheduler", "sandbox"},
}


def imports_of(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_import(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, name in imports_of(path)
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert wrong == []


def test_services_render_nothing() -> None:
    rendering = re.compile(r"html\.escape|\bCatalogs\b|\btexts\.t\(|\.t\(lang")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "services").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if rendering.search(line)
    ]
    assert found == []


def test_every_callback_prefix_is_declared_once_and_nowhere_else() -> None:
    import bot.app  # noqa: F401  (imports every area, so every codec is declared)
    from views.callbacks import PREFIXES

    declared = re.compile(r"Callback\(\s*\"([a-z0-9]+)\"")
    places: dict[str, list[str]] = {}
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.parts[len(ROOT.parts)] in ("tests", ".venv", "bench"):
            continue
        for prefix in declared.findall(path.read_text(encoding="utf-8")):
            places.setdefault(prefix, []).append(str(path.relative_to(ROOT)))
    assert {p: where for p, where in places.items() if len(where) > 1} == {}
    product = {
        p for p, codec in PREFIXES.items() if not codec.schema.__module__.startswith("tests")
    }
    assert set(places) == product
    # No module writes another's data by hand ("ap|", "cu|"...): only the codecs pack it.
    alternatives = "|".join(map(re.escape, product))
    literal = re.compile(rf"[\"']({alternatives})\|")
    by_hand = [
        str(path.relative_to(ROOT))
        for package in ("handlers", "services", "views", "scheduler", "bot")
        for path in sorted((ROOT / package).rglob("*.py"))
        if literal.search(path.read_text(encoding="utf-8"))
    ]
    assert by_hand == []
