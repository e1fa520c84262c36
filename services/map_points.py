"""The cockpit's Map page: a team's check-ins of a period and its customers with a location.

Points are stored as the phones report them (WGS-84). Amap's tiles are drawn in GCJ-02, so for
them every point is shifted here, once, before it leaves the server; the page never converts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.customer import Customer
from models.user import User
from models.visit import Visit
from services.geo import wgs84_to_gcj02
from services.visits import VISITING_ROLES

# A map, not an export: a month of a team of a hundred reps fits well under these.
MAX_CHECKINS = 5000
MAX_CUSTOMERS = 5000


@dataclass(frozen=True)
class Checkin:
    visit_id: int
    rep_id: int
    customer: str
    at: datetime
    latitude: float
    longitude: float
    distance_m: float | None
    flagged: bool


@dataclass(frozen=True)
class Place:
    customer_id: int
    name: str
    owner_id: int | None
    latitude: float
    longitude: float


@dataclass(frozen=True)
class TeamMap:
    # The team's active reps and managers (id, name) in a stable order: the page colours them
    # by position.
    reps: list[tuple[int, str]]
    checkins: list[Checkin]
    customers: list[Place]


def _datum(gcj02: bool, latitude: float, longitude: float) -> tuple[float, float]:
    return wgs84_to_gcj02(latitude, longitude) if gcj02 else (latitude, longitude)


async def team_map(
    session: AsyncSession, team_id: int, *, since: datetime, until: datetime,
    rep_id: int | None = None, gcj02: bool,
) -> TeamMap:  # fmt: skip
    """The team's check-ins between ``since`` and ``until`` (of one rep when ``rep_id``) and its
    customers with a location (the rep's own when ``rep_id``). The caller checked the team."""
    reps_query = (
        select(col(User.id), col(User.display_name))
        .where(
            col(User.team_id) == team_id,
            col(User.role).in_(VISITING_ROLES),
            col(User.active).is_(True),
        )
        .order_by(col(User.display_name), col(User.id))
    )
    found = (await session.exec(reps_query)).all()
    reps = [(uid, name) for uid, name in found if uid is not None]
    visits_query = (
        select(Visit, col(Customer.name))
        .join(Customer, col(Customer.id) == col(Visit.customer_id))
        .where(
            col(Visit.team_id) == team_id,
            col(Visit.visited_at) >= since,
            col(Visit.visited_at) < until,
            col(Visit.deleted_at).is_(None),
            col(Visit.checkin_latitude).is_not(None),
            col(Visit.checkin_longitude).is_not(None),
        )
    )
    customers_query = select(Customer).where(
        col(Customer.team_id) == team_id,
        col(Customer.latitude).is_not(None),
        col(Customer.longitude).is_not(None),
    )
    if rep_id is not None:
        visits_query = visits_query.where(col(Visit.rep_id) == rep_id)
        customers_query = customers_query.where(col(Customer.owner_id) == rep_id)
    visits_query = visits_query.order_by(col(Visit.visited_at), col(Visit.id)).limit(MAX_CHECKINS)
    checkins = []
    for visit, customer_name in (await session.exec(visits_query)).all():
        assert visit.checkin_latitude is not None and visit.checkin_longitude is not None
        lat, lon = _datum(gcj02, visit.checkin_latitude, visit.checkin_longitude)
        checkins.append(
            Checkin(
                visit_id=visit.id or 0, rep_id=visit.rep_id, customer=customer_name,
                at=visit.visited_at, latitude=lat, longitude=lon, distance_m=visit.distance_m,
                flagged=visit.flagged,
            )
        )  # fmt: skip
    # Someone who left the team (or was deactivated) this period still has their points named.
    missing = {c.rep_id for c in checkins} - {uid for uid, _ in reps}
    if missing:
        gone = select(col(User.id), col(User.display_name)).where(col(User.id).in_(missing))
        reps += sorted(((u, n) for u, n in (await session.exec(gone)).all() if u is not None),
                       key=lambda r: (r[1], r[0]))  # fmt: skip
    places = []
    customers_query = customers_query.order_by(col(Customer.id)).limit(MAX_CUSTOMERS)
    for place in (await session.exec(customers_query)).all():
        assert place.latitude is not None and place.longitude is not None
        lat, lon = _datum(gcj02, place.latitude, place.longitude)
        places.append(Place(place.id or 0, place.name, place.owner_id, lat, lon))
    return TeamMap(reps=reps, checkins=checkins, customers=places)
