"""How the customers around the rep read: nearest first, each with its distance and address,
and a check-in button for those within the team's check-in radius."""

from __future__ import annotations

import html
from dataclasses import dataclass

from core.i18n import Catalogs
from services.nearby import NearbyCustomer
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.visits import format_distance


@dataclass(frozen=True)
class CheckInAt:
    """Check in at this customer from the location just shared."""

    customer_id: int


CHECK_IN = Callback("ck", CheckInAt)


@dataclass(frozen=True)
class NearbyPage:
    around: list[NearbyCustomer]
    # Customers within this get a check-in button (the location is fresh).
    checkin_radius_m: int
    # The radius listed.
    radius_m: int
    # The location was shared just now (a shared location) or earlier (/nearby).
    shared_at: str | None = None
    can_check_in: bool = True


def nearby_page(texts: Catalogs, lang: str, page: NearbyPage) -> tuple[str, Keyboard]:
    t = texts.t
    radius = format_distance(page.radius_m, lang)
    if not page.around:
        return t(lang, "nearby.none", radius=radius), []
    header = (
        t(lang, "nearby.header_at", radius=radius, time=page.shared_at)
        if page.shared_at
        else t(lang, "nearby.header", radius=radius)
    )
    lines, buttons = [header], []
    for number, near in enumerate(page.around, start=1):
        customer = near.customer
        distance = format_distance(near.distance_m, lang)
        line = f"{number}. <b>{html.escape(customer.name)}</b> · {distance}"
        if customer.address:
            line += f"\n   {html.escape(customer.address)}"
        lines.append(line)
        if page.can_check_in and near.distance_m <= page.checkin_radius_m and customer.id:
            label = t(lang, "nearby.check_in", customer=customer.name[:40])
            buttons.append([Button(label, data=CHECK_IN.pack(CheckInAt(customer.id)))])
    if page.can_check_in and not buttons:
        lines.append(
            t(lang, "nearby.none_in_radius", radius=format_distance(page.checkin_radius_m, lang))
        )
    return "\n".join(lines), buttons
