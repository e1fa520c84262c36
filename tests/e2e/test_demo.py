"""`salesbot demo` runs non-interactively from scripted input and the bot answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_scripted_demo_answers(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/help",
            "/me",
            "/collections",
            ":as 2",
            "/invite",
            "/collections",
            ":as Liu",
            "/lang",
            "1",
            "/help",
            # A typed number beyond the buttons is an answer (the amount), not a press.
            ":as 5",
            "/expense",
            "1280",
            ":say 2",
            ":quit",
        ]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESBOT_")}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bot", "demo", "--data-dir", str(tmp_path)],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "您可以使用" in out  # Wang Wei (a rep, Chinese) asked for /help
    assert "销售代表" in out  # ...and /me shows the role
    assert "您现在扮演 Chen Jing（销售经理）" in out  # the demo speaks as the person played
    assert "t.me/salesbot_demo_bot?start=inv_" in out  # the manager's invite link
    assert "Language: English" in out or "✅ Language" in out
    assert "What you can do" in out
    assert "我的未结清应收账款" in out  # Wang Wei's receivables, seeded from the sample export
    assert "Chen Jing" in out and "North 团队的应收账款" in out  # the manager's team view
    assert "What kind of expense?" in out  # 1280 was taken as the amount
    assert "Please use the buttons." in out  # ":say 2" reached the bot as the text "2"
    assert "Traceback" not in out + result.stderr
