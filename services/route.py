"""The day as a route: today's planned visits and open follow-ups with their address, the
follow-up text typed at the last visit and the distance from the rep, ordered from the rep's
last location by a vehicle-routing solver (VROOM) over straight-line distances."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import vroom
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.customer import Customer
from models.plan import PlannedVisit
from models.visit import Visit
from services import nearby
from services.geo import distance_m
from services.plans import morning_list
from services.team_context import TeamContext


@dataclass(frozen=True)
class Stop:
    plan: PlannedVisit
    customer: Customer
    # What the rep typed as the next step of the visit that asked for this follow-up.
    follow_up_text: str | None
    # Metres from the rep's last shared location (None: no location on either side).
    distance_m: float | None


@dataclass(frozen=True)
class DayStops:
    planned: list[Stop]
    overdue: list[Stop]
    has_position: bool

    @property
    def all(self) -> list[Stop]:
        return self.planned + self.overdue

    def by_plan(self) -> dict[int, Stop]:
        return {stop.plan.id or 0: stop for stop in self.all}


@dataclass(frozen=True)
class Route:
    start: tuple[float, float]
    # In the solver's order; each leg is the metres from the previous point.
    stops: list[Stop]
    legs_m: list[float]
    # Stops whose customer has no stored location: listed after the route.
    unlocated: list[Stop] = field(default_factory=list)

    @property
    def total_m(self) -> float:
        return sum(self.legs_m)


async def follow_up_texts(session: AsyncSession, plans: list[PlannedVisit]) -> dict[int, str]:
    """The next step typed at each plan's originating visit, by plan id."""
    origins = {p.origin_visit_id for p in plans if p.origin_visit_id is not None}
    if not origins:
        return {}
    rows = await session.exec(
        select(col(Visit.id), col(Visit.next_step)).where(col(Visit.id).in_(origins))
    )
    texts = {visit_id: text for visit_id, text in rows.all() if text}
    return {
        p.id or 0: texts[p.origin_visit_id]
        for p in plans
        if p.origin_visit_id is not None and p.origin_visit_id in texts
    }


async def day_stops(session: AsyncSession, rep_id: int, team: TeamContext) -> DayStops:
    """Today's plan not done yet and the open follow-ups of the last 30 days, with details."""
    morning = await morning_list(session, rep_id, team)
    texts = await follow_up_texts(
        session, [p for p, _ in morning.planned + morning.overdue_follow_ups]
    )
    here = await nearby.last_location(session, rep_id)

    def stop(plan: PlannedVisit, customer: Customer) -> Stop:
        distance = None
        if here is not None and customer.latitude is not None and customer.longitude is not None:
            distance = distance_m(
                here.latitude, here.longitude, customer.latitude, customer.longitude
            )
        return Stop(plan, customer, texts.get(plan.id or 0), distance)

    return DayStops(
        planned=[stop(p, c) for p, c in morning.planned],
        overdue=[stop(p, c) for p, c in morning.overdue_follow_ups],
        has_position=here is not None,
    )


def solve_order(matrix: list[list[int]]) -> list[int]:
    """The order (indices 1..n) in which one vehicle starting at index 0 visits every other
    point at the least total cost, with no return: VROOM's solution of the open route."""
    if len(matrix) <= 2:
        return list(range(1, len(matrix)))
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=matrix)
    problem.add_vehicle(vroom.Vehicle(1, start=0))
    problem.add_job([vroom.Job(index, location=index) for index in range(1, len(matrix))])
    solution = problem.solve(exploration_level=5, nb_threads=1)
    steps = solution.to_dict()["routes"][0]["steps"]
    return [int(step["location_index"]) for step in steps if step["type"] == "job"]


def distance_matrix(points: list[tuple[float, float]]) -> list[list[int]]:
    return [[round(distance_m(*a, *b)) for b in points] for a in points]


async def plan_route(session: AsyncSession, rep_id: int, team: TeamContext) -> Route | None:
    """The day's stops ordered from the rep's last location; None without a location."""
    here = await nearby.last_location(session, rep_id)
    if here is None:
        return None
    stops = (await day_stops(session, rep_id, team)).all
    located = [s for s in stops if s.customer.has_location]
    start = (here.latitude, here.longitude)
    points = [start] + [(s.customer.latitude or 0.0, s.customer.longitude or 0.0) for s in located]
    matrix = distance_matrix(points)
    # The solver is native code: run it off the event loop.
    order = await asyncio.to_thread(solve_order, matrix)
    legs, previous = [], 0
    for index in order:
        legs.append(float(matrix[previous][index]))
        previous = index
    return Route(
        start=start,
        stops=[located[index - 1] for index in order],
        legs_m=legs,
        unlocated=[s for s in stops if not s.customer.has_location],
    )
