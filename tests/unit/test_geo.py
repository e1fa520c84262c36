"""Map datums against published pairs, and the haversine distance."""

from __future__ import annotations

import pytest

from services.geo import (
    distance_m,
    gcj02_to_bd09,
    in_mainland_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)


def test_wgs84_to_gcj02_matches_the_reference_pair() -> None:
    # wandergis/coordtransform test/app.js: wgs84togcj02(116.404, 39.915)
    # -> [116.41024449916938, 39.91640428150164] (lon, lat).
    lat, lon = wgs84_to_gcj02(39.915, 116.404)
    assert (lat, lon) == pytest.approx((39.91640428150164, 116.41024449916938), abs=1e-9)


def test_gcj02_to_bd09_matches_the_reference_pair() -> None:
    # The same file: gcj02tobd09(116.404, 39.915) -> [116.41036949371029, 39.92133699351021].
    lat, lon = gcj02_to_bd09(39.915, 116.404)
    assert (lat, lon) == pytest.approx((39.92133699351021, 116.41036949371029), abs=1e-9)


def test_wgs84_to_bd09_matches_baidus_own_conversion_within_metres() -> None:
    # Baidu's geoconv API documents 114.21892734521,29.575429778924 (WGS-84, from=1) as
    # 114.23074871003,29.579084787993 (BD-09, to=5); the public formula is within metres.
    lat, lon = wgs84_to_bd09(29.575429778924, 114.21892734521)
    assert distance_m(lat, lon, 29.579084787993, 114.23074871003) < 5


def test_outside_china_nothing_moves() -> None:
    assert not in_mainland_china(48.8584, 2.2945)
    assert wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)
    assert wgs84_to_bd09(1.2834, 103.8607) == (1.2834, 103.8607)


def test_the_shift_is_hundreds_of_metres_in_hangzhou() -> None:
    lat, lon = wgs84_to_gcj02(30.276849, 120.160030)
    assert 300 < distance_m(30.276849, 120.160030, lat, lon) < 700


def test_navigation_links_carry_each_apps_datum() -> None:
    from views.route import nav_link

    shop = (30.276849, 120.160030)
    g_lat, g_lon = wgs84_to_gcj02(*shop)
    b_lat, b_lon = wgs84_to_bd09(*shop)
    amap = nav_link("amap", shop, "华丰 建材")
    assert amap.startswith("https://uri.amap.com/navigation?")
    assert f"to={g_lon:.6f},{g_lat:.6f},%E5%8D%8E%E4%B8%B0%20" in amap
    baidu = nav_link("baidu", shop, "Huafeng", origin=shop)
    assert f"destination=latlng:{b_lat:.6f},{b_lon:.6f}|name:Huafeng" in baidu
    assert "coord_type=bd09ll" in baidu and f"origin=latlng:{b_lat:.6f},{b_lon:.6f}" in baidu
    google = nav_link("google", (48.8584, 2.2945), "Tour")
    assert "destination=48.858400,2.294500" in google
