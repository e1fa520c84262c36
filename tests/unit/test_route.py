"""The route solver on small instances whose optimum is known."""

from __future__ import annotations

import itertools

from services.route import distance_matrix, solve_order


def _cost(matrix: list[list[int]], order: list[int]) -> int:
    path = [0, *order]
    return sum(matrix[a][b] for a, b in itertools.pairwise(path))


def test_points_on_a_line_are_visited_from_the_near_end() -> None:
    # Start at 0 km; stops given out of order at 3, 1, 4 and 2 km east along one road.
    points = [(30.0, 120.0)] + [(30.0, 120.0 + km / 96.4) for km in (3, 1, 4, 2)]
    order = solve_order(distance_matrix(points))
    assert order == [2, 4, 1, 3]  # 1 km, 2 km, 3 km, 4 km: never back and forth


def test_the_solver_finds_the_brute_force_optimum() -> None:
    # Seven stops around Hangzhou: the optimum over all 5040 orders is known by enumeration.
    points = [
        (30.2741, 120.1551), (30.2900, 120.2100), (30.2500, 120.1300), (30.3100, 120.1500),
        (30.2600, 120.2000), (30.2300, 120.1700), (30.3000, 120.1800), (30.2800, 120.1200),
    ]  # fmt: skip
    matrix = distance_matrix(points)
    best = min(_cost(matrix, list(p)) for p in itertools.permutations(range(1, len(points))))
    order = solve_order(matrix)
    assert sorted(order) == list(range(1, len(points)))
    assert _cost(matrix, order) == best


def test_trivial_instances() -> None:
    assert solve_order([[0]]) == []
    assert solve_order([[0, 5], [5, 0]]) == [1]
