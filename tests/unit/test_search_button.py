"""Only one helper may build a button that opens inline mode.

Telegram refuses such a button (400 BUTTON_TYPE_INVALID) when the bot's inline mode is off, so
``handlers.forms.search_button`` decides from getMe; a button built anywhere else would break
that screen on a bot without inline mode. The e2e tests catch it too (the sandbox's inline mode
is off by default), but only on screens they visit.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent
PACKAGES = ("bot", "handlers", "scheduler", "services", "webapp")
# Where a switch-inline button may be built: the helper, and the rendering of its Button.
ALLOWED = {("handlers/forms.py", "search_button"), ("handlers/replies.py", "button_json")}


def _opens_inline_mode(node: ast.AST) -> bool:
    """A call passing an inline-mode button argument, or a button written as Bot API JSON."""
    if isinstance(node, ast.Call):
        names = {keyword.arg or "" for keyword in node.keywords}
    elif isinstance(node, ast.Dict):
        names = {
            k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
        }
    else:
        return False
    return "inline_query" in names or any(n.startswith("switch_inline_query") for n in names)


def _builders(path: Path) -> set[tuple[str, str]]:
    """(file, enclosing function) of every call or JSON that makes an inline-mode button."""
    found: set[tuple[str, str]] = set()
    relative = path.relative_to(ROOT).as_posix()

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if _opens_inline_mode(node):
            found.add((relative, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_only_search_button_builds_an_inline_mode_button() -> None:
    sources = [
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "sandbox" not in path.relative_to(ROOT).parts
    ]
    builders = set().union(*(_builders(path) for path in sources))
    assert builders == ALLOWED
