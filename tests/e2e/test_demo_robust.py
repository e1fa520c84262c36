"""`salesbot demo` played through stdin as a person would: every button of the first screens,
a line Telegram refuses, every kind of media, edited messages, and the summary's chart and
workbook saved where the demo says. Nothing ends it early, nothing prints a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[2]
# Presses 1..MAX_BUTTONS after each first screen; a number beyond its buttons goes to the bot
# as text, which must not break anything either.
MAX_BUTTONS = 10
# A Wednesday morning in Shanghai: at a weekend (Saturday from 16:00 UTC on Friday) /report has
# no working day to report on, and the test read the wall clock.
WORKDAY_MORNING = "2026-11-25T10:00:00+08:00"
FIRST_SCREENS = ("/visit", "/customers", "/request", "/report", "/collections")
PROMPT = re.compile(r"^\[(?P<who>[^\]]+)\] > (?P<line>.*)$")
BUTTON = re.compile(r"\[(\d+)\] ")
SAVED = re.compile(r"^💾 .*?[：:] ?(?P<path>/.+)$")
MEDIA = (
    ":photo 出租车票",
    ":voice 4",
    ":doc",
    ":contact 王芳 +8613800138000",
    ":loc 30.276849 120.160030",
)


def script() -> list[str]:
    lines: list[str] = []
    # Wang Wei, a sales rep of the North team, is played first.
    for command in FIRST_SCREENS:
        for number in range(1, MAX_BUTTONS + 1):
            lines += [command, str(number)]
    lines.append("很长的一段话" * 1000)  # 6,000 characters: Telegram refuses it
    lines += ["/expense", "300", "1", "1", "Taxi to Huafeng", *MEDIA, "/cancel"]
    lines += [":as Chen Jing", "/users", "1", "2", "/reports", "2", "/summary", ":quit"]
    return lines


def blocks(out: str) -> list[tuple[str, list[str]]]:
    """The transcript as (typed line, what the demo printed after it)."""
    result: list[tuple[str, list[str]]] = []
    for line in out.splitlines():
        match = PROMPT.match(line)
        if match:
            result.append((match.group("line"), []))
        elif result:
            result[-1][1].append(line)
    return result


def buttons_in(lines: list[str]) -> int:
    return max((int(n) for line in lines for n in BUTTON.findall(line)), default=0)


def test_a_person_cannot_break_the_demo(tmp_path: Path) -> None:
    files = tmp_path / "saved"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESBOT_")}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bot", "demo", "--data-dir", str(tmp_path / "data"),
         "--files-dir", str(files), "--start", WORKDAY_MORNING],
        input="\n".join(script()) + "\n",
        capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in out + result.stderr, result.stderr[-3000:]
    assert str(files) in out.splitlines()[1]  # the folder is named at the start
    assert (tmp_path / "data" / "demo.db").is_file()
    assert not (tmp_path / "data" / "demo-errors.log").exists()
    transcript = blocks(out)
    assert transcript[-1][0] == ":quit"  # it read every line, to the end

    # Every button of every first screen was pressed, and each press showed something.
    for command in FIRST_SCREENS:
        screens = [i for i, (typed, _) in enumerate(transcript) if typed == command]
        count = buttons_in(transcript[screens[0]][1])
        assert 1 <= count <= MAX_BUTTONS, (command, count)
        for number, index in enumerate(screens[:count], start=1):
            typed, shown = transcript[index + 1]
            assert typed == str(number)
            assert shown, f"{command} → {number} showed nothing"
            assert not any(line.startswith("⚠️") for line in shown), (command, number, shown)

    # Telegram's limit is one line, and the demo goes on.
    refused = next(shown for typed, shown in transcript if typed.startswith("很长的一段话"))
    assert refused == ["⚠️ Telegram 会拒绝此操作：text longer than 4096 UTF-16 code units"]

    # Each kind of media reached the bot, which answered it.
    for command in MEDIA:
        shown = next(shown for typed, shown in transcript if typed == command)
        assert any(line.startswith("🤖") for line in shown), (command, shown)
    photo = next(shown for typed, shown in transcript if typed == MEDIA[0])
    assert any("已添加 1 张" in line for line in photo)  # the photo is the expense's receipt

    # A tap that edits a message shows its new text and its new, numbered buttons.
    users = next(i for i, (typed, _) in enumerate(transcript) if typed == "/users")
    confirm = transcript[users + 1][1]
    assert confirm[0].startswith("✎ ") and "Li Na" in confirm[0]
    assert "[1] " in confirm[1] and "[2] " in confirm[1]
    reports = next(i for i, (typed, _) in enumerate(transcript) if typed == "/reports")
    problems = transcript[reports + 1][1]
    assert problems[0].startswith("✎ 🆘") and "[1] " in problems[1]

    # The summary's chart and workbook are saved where the demo said.
    summary = next(shown for typed, shown in transcript if typed == "/summary")
    saved = [Path(m.group("path")) for line in summary if (m := SAVED.match(line))]
    assert sorted(p.suffix for p in saved) == [".png", ".xlsx"]
    for path in saved:
        assert path.parent == files and path.is_file()
    chart = next(p for p in saved if p.suffix == ".png")
    assert chart.read_bytes().startswith(b"\x89PNG")
    workbook = load_workbook(next(p for p in saved if p.suffix == ".xlsx"), read_only=True)
    assert workbook.sheetnames
