"""Where the rep is: the last location they shared, the team's customers around it, and a
check-in at one of them straight from a shared location."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import cos, radians

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import UserFacingError
from models.customer import Customer
from models.visit import CheckinSource, RepLocation, VisitKind
from services import visits
from services.geo import EARTH_RADIUS_M, distance_m
from services.team_context import TeamContext
from services.users import Actor
from services.visits import Checkin, LoggedVisit, VisitDraft

# A check-in from a location shared earlier is accepted this long after it was shared.
FRESH_FOR = timedelta(minutes=15)
MAX_LISTED = 8


@dataclass(frozen=True)
class NearbyCustomer:
    customer: Customer
    distance_m: float


async def record_location(
    session: AsyncSession, *, user_id: int, latitude: float, longitude: float,
    accuracy_m: float | None, source: CheckinSource, now: datetime,
) -> RepLocation:  # fmt: skip
    """Keep the person's latest shared location (one row a person)."""
    row = await session.get(RepLocation, user_id)
    if row is None:
        row = RepLocation(
            user_id=user_id, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m,
            source=source, at=now,
        )  # fmt: skip
    else:
        row.latitude, row.longitude, row.accuracy_m = latitude, longitude, accuracy_m
        row.source, row.at = source, now
    session.add(row)
    await session.flush()
    return row


async def last_location(session: AsyncSession, user_id: int) -> RepLocation | None:
    return await session.get(RepLocation, user_id)


def is_fresh(location: RepLocation, now: datetime) -> bool:
    return now - location.at <= FRESH_FOR


async def customers_around(
    session: AsyncSession, team_id: int, latitude: float, longitude: float, radius_m: float,
    limit: int = MAX_LISTED,
) -> list[NearbyCustomer]:  # fmt: skip
    """The team's customers with a location within ``radius_m``, nearest first. A bounding box
    in SQL keeps the exact distance to the few rows inside it."""
    d_lat = radius_m / EARTH_RADIUS_M * 57.29577951308232
    d_lon = d_lat / max(cos(radians(latitude)), 0.01)
    rows = await session.exec(
        select(Customer).where(
            col(Customer.team_id) == team_id,
            col(Customer.latitude).between(latitude - d_lat, latitude + d_lat),
            col(Customer.longitude).between(longitude - d_lon, longitude + d_lon),
        )
    )
    found = []
    for customer in rows.all():
        assert customer.latitude is not None and customer.longitude is not None
        distance = distance_m(latitude, longitude, customer.latitude, customer.longitude)
        if distance <= radius_m:
            found.append(NearbyCustomer(customer, distance))
    found.sort(key=lambda n: (n.distance_m, n.customer.name))
    return found[:limit]


async def check_in_at(
    session: AsyncSession, *, actor: Actor, customer_id: int, team: TeamContext
) -> LoggedVisit:
    """Check in at a customer from the location the rep shared a moment ago."""
    location = await last_location(session, actor.user_id)
    if location is None or not is_fresh(location, team.now):
        raise UserFacingError(
            "nearby.location_stale", minutes=int(FRESH_FOR.total_seconds() // 60)
        )
    draft = VisitDraft(
        kind=VisitKind.IN_PERSON,
        purpose=await visits.default_purpose(session, actor.user_id, customer_id, team.today),
        visited_at=team.now, customer_id=customer_id,
        checkin=Checkin(
            location.latitude, location.longitude, location.accuracy_m,
            CheckinSource(location.source),
        ),
    )  # fmt: skip
    return await visits.log_visit(session, actor=actor, draft=draft, team=team, check_in=True)
