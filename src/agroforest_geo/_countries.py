"""Country facts used to judge coordinates: approximate bounding boxes of producer countries.

Kept once, here, below every module that uses them (validation of layers and
the checks of EU GeoJSON files).
"""

from __future__ import annotations

__all__ = ["COUNTRY_BOUNDS"]

#: Approximate bounding boxes (lon_min, lat_min, lon_max, lat_max) of producer countries, used
#: only to recognise swapped latitude/longitude; extend as needed.
COUNTRY_BOUNDS: dict[str, tuple[float, float, float, float]] = {
    "PE": (-81.4, -18.4, -68.6, 0.1),
    "EC": (-92.1, -5.1, -75.1, 1.7),
    "CO": (-79.1, -4.3, -66.8, 13.6),
    "BO": (-69.7, -22.9, -57.4, -9.6),
    "BR": (-74.0, -33.8, -34.7, 5.3),
    "CI": (-8.7, 4.3, -2.4, 10.8),
    "GH": (-3.3, 4.7, 1.3, 11.2),
    "CM": (8.4, 1.6, 16.2, 13.1),
    "ID": (95.0, -11.0, 141.1, 6.1),
}
