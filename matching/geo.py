"""Vectorised distances between homes and the pairs of homes within reach."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)


def earth_radii_km(lat_deg: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Meridional (north-south) and prime-vertical (east-west) WGS84 radii of curvature."""
    s2 = np.sin(np.radians(lat_deg)) ** 2
    w = 1.0 - WGS84_E2 * s2
    return WGS84_A_KM * (1.0 - WGS84_E2) / w**1.5, WGS84_A_KM / np.sqrt(w)


def pair_distance_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Distance per pair in km: local projection at the pair's mean latitude (cm-exact within 25 km)."""
    lat1, lon1, lat2, lon2 = (np.asarray(a, dtype=np.float64) for a in (lat1, lon1, lat2, lon2))
    mean_lat = 0.5 * (lat1 + lat2)
    m, n = earth_radii_km(mean_lat)
    dy = m * np.radians(lat2 - lat1)
    dx = n * np.cos(np.radians(mean_lat)) * np.radians(lon2 - lon1)
    return np.hypot(dx, dy)


def project_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Plane coordinates (x east, y north) in km around (lat0, lon0), scaled at lat0."""
    m, n = earth_radii_km(lat0)
    x = n * np.cos(np.radians(lat0)) * np.radians(np.asarray(lon, dtype=np.float64) - lon0)
    y = m * np.radians(np.asarray(lat, dtype=np.float64) - lat0)
    return np.column_stack([x, y])


def pairs_within(
    lat_a: np.ndarray,
    lon_a: np.ndarray,
    reach_a: np.ndarray,
    lat_b: np.ndarray,
    lon_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (i, j, km) with distance(a_i, b_j) <= reach_a[i], found with k-d trees, not all pairs."""
    lat_a, lon_a, lat_b, lon_b = (np.asarray(x, dtype=np.float64) for x in (lat_a, lon_a, lat_b, lon_b))
    reach_a = np.asarray(reach_a, dtype=np.float64)
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if len(lat_a) == 0 or len(lat_b) == 0:
        return empty
    lats = np.concatenate([lat_a, lat_b])
    lat0 = 0.5 * (lats.min() + lats.max())
    lon0 = 0.5 * (min(lon_a.min(), lon_b.min()) + max(lon_a.max(), lon_b.max()))
    # One projection latitude stretches east-west distances by up to cos(lat0)/cos(lat) over the
    # data's latitude span; the query radius is widened by that factor and the exact distance decides.
    far_lat = np.radians(max(abs(lats.min()), abs(lats.max())))
    stretch = max(1.0, np.cos(np.radians(lat0)) / max(np.cos(far_lat), 1e-9)) * 1.002 + 1e-3
    xy_a = project_km(lat_a, lon_a, lat0, lon0)
    tree_b = cKDTree(project_km(lat_b, lon_b, lat0, lon0))
    order = np.argsort(reach_a, kind="stable")
    # Bands of similar reach so short-reach points do not query with the longest radius.
    parts = []
    start = 0
    while start < len(order):
        low = reach_a[order[start]]
        stop = int(np.searchsorted(reach_a[order], low * 1.25 + 0.25, side="right"))
        stop = max(stop, start + 1)
        band = order[start:stop]
        radius = float(reach_a[band].max()) * stretch + 1e-3
        found = cKDTree(xy_a[band]).sparse_distance_matrix(tree_b, radius, output_type="ndarray")
        if len(found):
            parts.append((band[found["i"]], found["j"].astype(np.int64)))
        start = stop
    if not parts:
        return empty
    ia = np.concatenate([p[0] for p in parts]).astype(np.int64)
    ib = np.concatenate([p[1] for p in parts])
    km = pair_distance_km(lat_a[ia], lon_a[ia], lat_b[ib], lon_b[ib])
    keep = km <= reach_a[ia]
    ia, ib, km = ia[keep], ib[keep], km[keep]
    order = np.lexsort((ib, ia))
    return ia[order], ib[order], km[order]
