"""The day's route as the rep reads it: stops in the solver's order, each with its distance,
address, the follow-up text, and a navigation link in the team's map app. Amap (and Google's
map of mainland China) take GCJ-02, Baidu Maps BD-09: the phone's WGS-84 point is converted."""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from core.i18n import Catalogs
from services.geo import wgs84_to_bd09, wgs84_to_gcj02
from services.route import Route, Stop
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.visits import format_distance


@dataclass(frozen=True)
class RouteAsk:
    """Order today's stops from where I am (``day`` guards against yesterday's button)."""

    day: str


ROUTE = Callback("rt", RouteAsk)


def route_button(texts: Catalogs, lang: str, day: str) -> Button:
    return Button(texts.t(lang, "route.button"), data=ROUTE.pack(RouteAsk(day)))


def nav_link(
    app: str, to: tuple[float, float], name: str, origin: tuple[float, float] | None = None
) -> str:
    """A link that opens navigation to ``to`` (WGS-84) in Amap, Baidu Maps or Google Maps."""
    if app == "amap":
        lat, lon = wgs84_to_gcj02(*to)
        query = {"to": f"{lon:.6f},{lat:.6f},{name}", "mode": "car", "coordinate": "gaode",
                 "callnative": "1", "src": "salesbot"}  # fmt: skip
        return "https://uri.amap.com/navigation?" + urlencode(query, quote_via=quote, safe=",")
    if app == "baidu":
        lat, lon = wgs84_to_bd09(*to)
        query = {"destination": f"latlng:{lat:.6f},{lon:.6f}|name:{name}", "mode": "driving",
                 "coord_type": "bd09ll", "output": "html", "src": "salesbot"}  # fmt: skip
        if origin is not None:
            o_lat, o_lon = wgs84_to_bd09(*origin)
            query["origin"] = f"latlng:{o_lat:.6f},{o_lon:.6f}"
        return "https://api.map.baidu.com/direction?" + urlencode(
            query, quote_via=quote, safe=",:|"
        )
    lat, lon = wgs84_to_gcj02(*to)  # Google's map of mainland China is drawn in GCJ-02 too
    query = {"api": "1", "destination": f"{lat:.6f},{lon:.6f}", "travelmode": "driving"}
    return "https://www.google.com/maps/dir/?" + urlencode(query, quote_via=quote, safe=",")


def stop_details(texts: Catalogs, lang: str, stop: Stop) -> list[str]:
    """The lines under a stop: address and distance, and the follow-up text."""
    lines = []
    where = [html.escape(stop.customer.address)] if stop.customer.address else []
    if stop.distance_m is not None:
        where.append(texts.t(lang, "route.away", distance=format_distance(stop.distance_m, lang)))
    if where:
        lines.append("   📍 " + " · ".join(where))
    if stop.follow_up_text:
        lines.append("   ↪ " + html.escape(stop.follow_up_text))
    return lines


def route_page(texts: Catalogs, lang: str, route: Route, map_app: str) -> tuple[str, Keyboard]:
    t = texts.t
    if not route.stops and not route.unlocated:
        return t(lang, "route.nothing"), []
    lines = [
        texts.tn(lang, "route.header", len(route.stops), count=len(route.stops),
                 total=format_distance(route.total_m, lang), app=t(lang, f"route.app_{map_app}"))
    ]  # fmt: skip
    previous = route.start
    for number, (stop, leg) in enumerate(zip(route.stops, route.legs_m, strict=True), start=1):
        customer = stop.customer
        assert customer.latitude is not None and customer.longitude is not None
        to = (customer.latitude, customer.longitude)
        link = html.escape(nav_link(map_app, to, customer.name, previous), quote=True)
        lines.append(
            f"{number}. <b>{html.escape(customer.name)}</b> · +{format_distance(leg, lang)}"
            f' · <a href="{link}">{t(lang, "route.navigate")}</a>'
        )
        if customer.address:
            lines.append("   📍 " + html.escape(customer.address))
        if stop.follow_up_text:
            lines.append("   ↪ " + html.escape(stop.follow_up_text))
        previous = to
    if route.unlocated:
        lines.append(t(lang, "route.unlocated"))
        lines += [f"• {html.escape(s.customer.name)}" for s in route.unlocated]
    return "\n".join(lines), []
