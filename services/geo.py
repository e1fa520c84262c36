"""Distances on the Earth's surface."""

from __future__ import annotations

from math import asin, atan2, cos, pi, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points (the haversine formula)."""
    phi1, phi2 = radians(lat1), radians(lat2)
    d_phi, d_lambda = radians(lat2 - lat1), radians(lon2 - lon1)
    h = sin(d_phi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))


def valid_point(latitude: float, longitude: float) -> bool:
    return -90 <= latitude <= 90 and -180 <= longitude <= 180


# -- Chinese map datums ------------------------------------------------------------------
# Telegram locations are WGS-84. Amap (and Google's map of mainland China) use GCJ-02, the
# datum China's mapping rules require; Baidu Maps shifts GCJ-02 once more into BD-09. Outside
# mainland China GCJ-02 is WGS-84. The formulas are the published GCJ-02 obfuscation (Krasovsky
# ellipsoid) and Baidu's BD-09 shift, as the coordtransform libraries implement them.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_X_PI = pi * 3000.0 / 180.0


def in_mainland_china(latitude: float, longitude: float) -> bool:
    """The rectangle the GCJ-02 shift applies in (as the usual implementations draw it)."""
    return 73.66 < longitude < 135.05 and 3.86 < latitude < 53.55


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0
    ret += (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    ret += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0
    ret += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(latitude: float, longitude: float) -> tuple[float, float]:
    """(lat, lon) in GCJ-02: what Amap expects for a point a phone reported."""
    if not in_mainland_china(latitude, longitude):
        return latitude, longitude
    d_lat = _shift_lat(longitude - 105.0, latitude - 35.0)
    d_lon = _shift_lon(longitude - 105.0, latitude - 35.0)
    rad_lat = radians(latitude)
    magic = 1 - _KRASOVSKY_EE * sin(rad_lat) ** 2
    sqrt_magic = sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A / sqrt_magic * cos(rad_lat) * pi)
    return latitude + d_lat, longitude + d_lon


def gcj02_to_bd09(latitude: float, longitude: float) -> tuple[float, float]:
    """(lat, lon) in Baidu's BD-09 from GCJ-02."""
    z = sqrt(longitude * longitude + latitude * latitude) + 0.00002 * sin(latitude * _X_PI)
    theta = atan2(latitude, longitude) + 0.000003 * cos(longitude * _X_PI)
    return z * sin(theta) + 0.006, z * cos(theta) + 0.0065


def wgs84_to_bd09(latitude: float, longitude: float) -> tuple[float, float]:
    """(lat, lon) for Baidu Maps from a phone's WGS-84 point (unchanged outside China)."""
    if not in_mainland_china(latitude, longitude):
        return latitude, longitude
    return gcj02_to_bd09(*wgs84_to_gcj02(latitude, longitude))
