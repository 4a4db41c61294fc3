"""Vectorised distances between homes and the pairs of homes within reach (numpy/scipy only)."""

from __future__ import annotations

import numpy as np

WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)


def earth_radii_km(lat_deg: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Meridional (north-south) and prime-vertical (east-west) WGS84 radii of curvature."""
    s2 = np.sin(np.radians(lat_deg)) ** 2
    w = 1.0 - WGS84_E2 * s2
    return WGS84_A_KM * (1.0 - WGS84_E2) / w**1.5, WGS84_A_KM / np.sqrt(w)


def km_per_radian(lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point: km per radian of latitude (north) and of longitude (east) at that latitude."""
    m, n = earth_radii_km(lat_deg)
    return m, n * np.cos(np.radians(lat_deg))


def pair_distance_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Distance per pair in km: local projection with WGS84 radii at the pair's latitudes (< 1 m within 25 km)."""
    lat1, lon1, lat2, lon2 = (np.asarray(a, dtype=np.float64) for a in (lat1, lon1, lat2, lon2))
    ky1, kx1 = km_per_radian(lat1)
    ky2, kx2 = km_per_radian(lat2)
    return _distance(lat1, lon1, ky1, kx1, lat2, lon2, ky2, kx2)


def _distance(lat1, lon1, ky1, kx1, lat2, lon2, ky2, kx2) -> np.ndarray:
    # Scales averaged over both ends equal the mean-latitude scales to ~1e-7 within 25 km.
    dy = np.radians(lat2 - lat1) * (0.5 * (ky1 + ky2))
    dx = np.radians(lon2 - lon1) * (0.5 * (kx1 + kx2))
    return np.hypot(dx, dy)


def indexed_distance_km(
    lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray, ia: np.ndarray, ib: np.ndarray
) -> np.ndarray:
    """pair_distance_km for pairs (a[ia], b[ib]), with the trigonometry done once per point."""
    ky_a, kx_a = km_per_radian(lat_a)
    ky_b, kx_b = km_per_radian(lat_b)
    return _distance(lat_a[ia], lon_a[ia], ky_a[ia], kx_a[ia], lat_b[ib], lon_b[ib], ky_b[ib], kx_b[ib])


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
    """All (i, j, km) with distance(a_i, b_j) <= reach_a[i], grouped by j, i ascending within a group.

    A grid of cells as wide as the longest reach: each cell of b-points is compared (float32, in
    blocks) with the a-points of its 3 x 3 neighbourhood only, so the work follows the pairs in
    reach, not len(a) * len(b). The exact distance then decides.
    """
    lat_a, lon_a, lat_b, lon_b = (np.asarray(x, dtype=np.float64) for x in (lat_a, lon_a, lat_b, lon_b))
    reach_a = np.asarray(reach_a, dtype=np.float64)
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if len(lat_a) == 0 or len(lat_b) == 0:
        return empty
    lats = np.concatenate([lat_a, lat_b])
    lat0 = 0.5 * (lats.min() + lats.max())
    lon0 = 0.5 * (min(lon_a.min(), lon_b.min()) + max(lon_a.max(), lon_b.max()))
    # One projection latitude stretches east-west distances by up to cos(lat0)/cos(lat) over the
    # data's latitude span; the radius is widened by that factor and the exact distance decides.
    far_lat = np.radians(max(abs(lats.min()), abs(lats.max())))
    stretch = max(1.0, np.cos(np.radians(lat0)) / max(np.cos(far_lat), 1e-9)) * 1.001 + 1e-4
    radius = reach_a * stretch + 1e-3
    xy_a = project_km(lat_a, lon_a, lat0, lon0)
    xy_b = project_km(lat_b, lon_b, lat0, lon0)
    cell = float(radius.max())
    ca = np.floor(xy_a / cell).astype(np.int64)
    cb = np.floor(xy_b / cell).astype(np.int64)
    width = int(max(ca[:, 0].max(), cb[:, 0].max()) - min(ca[:, 0].min(), cb[:, 0].min())) + 3
    x_min = min(ca[:, 0].min(), cb[:, 0].min()) - 1
    y_min = min(ca[:, 1].min(), cb[:, 1].min()) - 1
    key_a = (ca[:, 1] - y_min) * width + (ca[:, 0] - x_min)
    key_b = (cb[:, 1] - y_min) * width + (cb[:, 0] - x_min)
    order_a = np.argsort(key_a, kind="stable")
    sorted_key_a = key_a[order_a]
    order_b = np.argsort(key_b, kind="stable")
    sorted_key_b = key_b[order_b]
    b_cells, b_start = np.unique(sorted_key_b, return_index=True)
    b_end = np.r_[b_start[1:], len(order_b)]
    ax, ay = xy_a[:, 0].astype(np.float32), xy_a[:, 1].astype(np.float32)
    bx, by = xy_b[:, 0].astype(np.float32), xy_b[:, 1].astype(np.float32)
    r2 = (radius * radius).astype(np.float32)
    offsets = np.array([dy * width + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    out_a, out_b = [], []
    for key, start, end in zip(b_cells.tolist(), b_start.tolist(), b_end.tolist()):
        near_keys = key + offsets
        lo = np.searchsorted(sorted_key_a, near_keys, side="left")
        hi = np.searchsorted(sorted_key_a, near_keys, side="right")
        if (hi == lo).all():
            continue
        near = np.sort(np.concatenate([order_a[l:h] for l, h in zip(lo.tolist(), hi.tolist())]))
        here = order_b[start:end]
        # Float32 blocks of a bounded size keep memory flat in dense cities.
        step = max(1, 4_000_000 // max(len(near), 1))
        for s in range(0, len(here), step):
            block = here[s : s + step]
            dx = bx[block, None] - ax[None, near]
            dy = by[block, None] - ay[None, near]
            dx *= dx
            dy *= dy
            dx += dy
            rows, cols = np.nonzero(dx <= r2[None, near])
            out_b.append(block[rows])
            out_a.append(near[cols])
    if not out_a:
        return empty
    ia = np.concatenate(out_a)
    ib = np.concatenate(out_b)
    km = indexed_distance_km(lat_a, lon_a, lat_b, lon_b, ia, ib)
    keep = km <= reach_a[ia]
    return ia[keep], ib[keep], km[keep]
