"""The demo shows what arrives by itself: a request reaches the manager, then the director."""

from __future__ import annotations

from pathlib import Path

from sandbox.demo import run_demo

SCRIPT = [
    "/expense", "¥3000", "1", "1", "Taxi to Huafeng", ":photo", "1", "1",
    ":as Chen Jing", "1",
    ":as Zhou Min", "1",
    ":as Wang Wei",
]  # fmt: skip


async def test_an_approval_in_the_demo(tmp_path: Path) -> None:
    lines: list[str] = []
    await run_demo(SCRIPT, data_dir=tmp_path, out=lines.append)
    out = "\n".join(lines)
    assert "申请 #2026-0001 已提交给 Chen Jing（经理）" in out
    assert out.count("📨") >= 3  # the manager's card, the director's card, the rep's notices
    assert "您已批准 #2026-0001，现交由总监（Zhou Min）审批" in out
    assert "您已批准 #2026-0001，审批完成" in out
    assert "<b>批准</b>" not in out and "已由 Zhou Min 批准" in out
