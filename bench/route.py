"""The day's route for 25 stops: the distance matrix and VROOM's solution, as /today's Route
button computes them (target: under 200 ms on this machine), and the event loop's largest stall
while the solver runs in its worker thread.

Run: `python -m bench.route`.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

from bench.common import largest_stall
from services.route import distance_matrix, solve_order

STOPS = 25
RUNS = 30


def _instance(seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    # The rep and 25 customers spread over central Hangzhou (about 15 × 15 km).
    return [(30.20 + rng.random() * 0.14, 120.08 + rng.random() * 0.16) for _ in range(STOPS + 1)]


async def _stall_while(matrix: list[list[int]]) -> float:
    """The longest gap between 1 ms ticks of the event loop while the solver runs off it."""
    return await largest_stall(asyncio.to_thread(solve_order, matrix))


def main() -> None:
    timings, stalls = [], []
    for seed in range(RUNS):
        points = _instance(seed)
        start = time.perf_counter()
        order = solve_order(distance_matrix(points))
        timings.append((time.perf_counter() - start) * 1000)
        assert sorted(order) == list(range(1, STOPS + 1))
        stalls.append(asyncio.run(_stall_while(distance_matrix(points))) * 1000)
    timings.sort()
    print(f"route of {STOPS} stops, {RUNS} instances")
    print(f"  median {statistics.median(timings):.1f} ms · p95 {timings[int(RUNS * 0.95)]:.1f} ms"
          f" · max {timings[-1]:.1f} ms (target < 200 ms)")  # fmt: skip
    print(f"  event-loop stall while solving off the loop: max {max(stalls):.1f} ms")


if __name__ == "__main__":
    main()
