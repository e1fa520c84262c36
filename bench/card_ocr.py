"""Business-card OCR: the time to read one card, and what reading cards adds to other people's
replies. Run: ``python -m bench.card_ocr``.

The second figure is the event loop's added delay: while one worker reads cards back to back,
a task standing for other people's updates wakes every 5 ms and records how late it wakes;
against the same task with no OCR running. Replies are answered on that loop, so a reply waits
at most that long for it; the database and Telegram's round trips are not part of it.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from services.card_reader import CardReader
from services.card_text import extract
from tests.cards import CARDS, cjk_font, draw_card

TICK = 0.005


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def lateness(seconds: float) -> list[float]:
    """How late (ms) a 5 ms sleep wakes, over ``seconds``."""
    late: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        await asyncio.sleep(TICK)
        late.append((time.perf_counter() - start - TICK) * 1000)
    return late


async def main() -> None:
    font = cjk_font()
    if font is None:
        sys.exit("no CJK font: apt-get install fonts-wqy-microhei")
    photos = [draw_card(card, Path(font)) for card in CARDS]
    reader = CardReader(time_limit=60)
    started = time.perf_counter()
    reader.warm_up()
    print(f"models loaded in {time.perf_counter() - started:.2f} s")

    times: list[float] = []
    right = 0
    for card, photo in zip(CARDS, photos, strict=True):
        started = time.perf_counter()
        found = extract(await reader.read(photo))
        times.append(time.perf_counter() - started)
        right += (found.company, found.person, found.mobiles[:1]) == (
            card.company, card.person, [card.mobile_digits],
        )  # fmt: skip
    median, worst = statistics.median(times), max(times)
    print(f"OCR per card ({len(times)} cards): median {median:.2f} s, max {worst:.2f} s; "
          f"company, person and mobile right on {right}/{len(CARDS)}")  # fmt: skip

    idle = await lateness(5)
    reading = True

    async def read_cards() -> int:
        count = 0
        while reading:
            await reader.read(photos[count % len(photos)])
            count += 1
        return count

    worker = asyncio.create_task(read_cards())
    busy = await lateness(10)
    reading = False
    cards = await worker
    print(f"event loop lateness, p95: idle {percentile(idle, 0.95):.2f} ms, "
          f"while reading cards ({cards} in 10 s) {percentile(busy, 0.95):.2f} ms; "
          f"added {percentile(busy, 0.95) - percentile(idle, 0.95):.2f} ms")  # fmt: skip
    reader.close()


if __name__ == "__main__":
    asyncio.run(main())
