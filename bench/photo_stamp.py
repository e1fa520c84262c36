"""Stamping a 1280 px visit photo (decode, draw the band and four lines, encode as JPEG), as
the server does after a visit is saved (target: under 150 ms on this machine), and the event
loop's largest stall while it runs in its worker thread.

Run: `python -m bench.photo_stamp`.
"""

from __future__ import annotations

import asyncio
import io
import random
import statistics
import time

from PIL import Image, ImageFilter

from bench.common import largest_stall
from services.photo_stamp import stamp, stamp_off_loop

RUNS = 30
LINES = [
    "2026-11-24 09:20 Asia/Shanghai", "距客户 18 米", "客户：上海新天地零售", "销售代表：王伟",
]  # fmt: skip


def _photo(seed: int) -> bytes:
    """A 1280 × 960 JPEG with a camera photo's detail (noise, blurred), about 200-400 KB."""
    rng = random.Random(seed)
    noise = Image.frombytes("RGB", (1280, 960), rng.randbytes(1280 * 960 * 3))
    out = io.BytesIO()
    noise.filter(ImageFilter.GaussianBlur(1.2)).save(out, "JPEG", quality=85)
    return out.getvalue()


def main() -> None:
    photos = [_photo(seed) for seed in range(RUNS)]
    stamp(photos[0], LINES)  # the font is loaded once per process
    timings, stalls = [], []
    for content in photos:
        start = time.perf_counter()
        stamp(content, LINES)
        timings.append((time.perf_counter() - start) * 1000)
        stalls.append(asyncio.run(largest_stall(stamp_off_loop(content, LINES))) * 1000)
    timings.sort()
    size = statistics.median(len(p) for p in photos) / 1024
    print(f"stamping a 1280 × 960 photo (median {size:.0f} KB), {RUNS} photos")
    print(f"  median {statistics.median(timings):.1f} ms · p95 {timings[int(RUNS * 0.95)]:.1f} ms"
          f" · max {timings[-1]:.1f} ms (target < 150 ms)")  # fmt: skip
    print(f"  event-loop stall while stamping off the loop: max {max(stalls):.1f} ms")


if __name__ == "__main__":
    main()
