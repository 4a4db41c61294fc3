"""Vectorised distances between homes and the pairs of homes within reach (numpy only).

Distances use a local projection with WGS84 radii of curvature: per pair,
``hypot(dlat * M, dlon * N cos(lat))`` with the scales averaged over both ends, which equals the
projection at the pair's mean latitude to ~1e-7 and the geodesic to < 1 m within 25 km.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)
BLOCK_CELLS = 1_000_000  # pairs compared at once; bounds the temporary memory


def earth_radii_km(lat_deg: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Meridional (north-south) and prime-vertical (east-west) WGS84 radii of curvature."""
    s2 = np.sin(np.radians(lat_deg)) ** 2
    w = 1.0 - WGS84_E2 * s2
    return WGS84_A_KM * (1.0 - WGS84_E2) / w**1.5, WGS84_A_KM / np.sqrt(w)


@dataclass(frozen=True)
class Points:
    """Coordinates in radians with half their km-per-radian scales, computed once per point."""

    lat: np.ndarray
    lon: np.ndarray
    half_ky: np.ndarray  # km per radian of latitude, halved
    half_kx: np.ndarray  # km per radian of longitude at this latitude, halved

    @classmethod
    def from_degrees(cls, lat: np.ndarray, lon: np.ndarray) -> Points:
        lat = np.asarray(lat, dtype=np.float64)
        m, n = earth_radii_km(lat)
        return cls(np.radians(lat), np.radians(np.asarray(lon, dtype=np.float64)),
                   0.5 * m, 0.5 * n * np.cos(np.radians(lat)))

    def take(self, index: np.ndarray) -> Points:
        """The points at the given indices."""
        return Points(self.lat[index], self.lon[index], self.half_ky[index], self.half_kx[index])


def _distance(a: Points, ia, b: Points, ib) -> np.ndarray:
    # The same operations in the same order for indexed pairs and broadcast blocks: equal bits.
    # In place, to save temporaries: dy = (lat_b - lat_a) * (ky_a + ky_b), dx likewise, then hypot.
    dy = b.lat[ib]
    dy -= a.lat[ia]
    scale = a.half_ky[ia]
    scale += b.half_ky[ib]
    dy *= scale
    dx = b.lon[ib]
    dx -= a.lon[ia]
    np.add(a.half_kx[ia], b.half_kx[ib], out=scale)
    dx *= scale
    dx *= dx
    dy *= dy
    dx += dy
    return np.sqrt(dx, out=dx)


def indexed_distance_km(a: Points, b: Points, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Distance in km of the pairs (a[ia], b[ib])."""
    return _distance(a, ia, b, ib)


def pair_distance_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Distance in km per pair of points given in degrees."""
    a, b = Points.from_degrees(lat1, lon1), Points.from_degrees(lat2, lon2)
    index = np.arange(len(a.lat))
    return _distance(a, index, b, index)


def project_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Plane coordinates (x east, y north) in km around (lat0, lon0), scaled at lat0."""
    m, n = earth_radii_km(lat0)
    x = n * np.cos(np.radians(lat0)) * np.radians(np.asarray(lon, dtype=np.float64) - lon0)
    y = m * np.radians(np.asarray(lat, dtype=np.float64) - lat0)
    return np.column_stack([x, y])


def pairs_within(
    a: Points, reach_a: np.ndarray, b: Points,
    words: tuple[np.ndarray, np.ndarray, tuple[int, ...]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (i, j, km) with distance(a_i, b_j) <= reach_a[i], grouped by j, i ascending in a group.

    The chunks of iter_pairs_within joined; see there.
    """
    chunks = list(iter_pairs_within(a, reach_a, b, words))
    if not chunks:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    if len(chunks) == 1:
        return chunks[0]
    return tuple(np.concatenate(part) for part in zip(*chunks))  # type: ignore[return-value]


def iter_pairs_within(
    a: Points, reach_a: np.ndarray, b: Points,
    words: tuple[np.ndarray, np.ndarray, tuple[int, ...]] | None = None,
    min_pairs: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Chunks (i, j, km) of the pairs with distance(a_i, b_j) <= reach_a[i]; joined, they are grouped
    by j, with i ascending in a group. A chunk holds whole groups and at least min_pairs pairs (but
    the last), so that callers can process it while it is still in the cache.

    A grid of cells as wide as the longest reach (on a plane projected at one latitude, widened by
    the projection's stretch over the data's latitudes): each cell of b-points is compared with the
    a-points of its 3 x 3 neighbourhood only, so the work follows the pairs in reach, not
    len(a) * len(b). A loose float32 test on that plane picks the pairs; their exact distance decides.
    ``words = (words_a, words_b, masks)`` (uint64 per point) also drops the pairs that share no bit
    of some mask, before their exact distance is computed.
    """
    reach_a = np.asarray(reach_a, dtype=np.float64)
    if len(a.lat) == 0 or len(b.lat) == 0:
        return
    lat_a, lat_b = np.degrees(a.lat), np.degrees(b.lat)
    lon_a, lon_b = np.degrees(a.lon), np.degrees(b.lon)
    lats = np.concatenate([lat_a, lat_b])
    lat0 = 0.5 * (lats.min() + lats.max())
    lon0 = 0.5 * (min(lon_a.min(), lon_b.min()) + max(lon_a.max(), lon_b.max()))
    far_lat = np.radians(max(abs(lats.min()), abs(lats.max())))
    stretch = max(1.0, np.cos(np.radians(lat0)) / max(np.cos(far_lat), 1e-9)) * 1.01 + 1e-3
    cell = float(reach_a.max()) * stretch + 1e-3
    xy_a = project_km(lat_a, lon_a, lat0, lon0)
    xy_b = project_km(lat_b, lon_b, lat0, lon0)
    ca = np.floor(xy_a / cell).astype(np.int64)
    cb = np.floor(xy_b / cell).astype(np.int64)
    x_min = min(ca[:, 0].min(), cb[:, 0].min()) - 1
    y_min = min(ca[:, 1].min(), cb[:, 1].min()) - 1
    width = int(max(ca[:, 0].max(), cb[:, 0].max()) - x_min) + 2
    key_a = (ca[:, 1] - y_min) * width + (ca[:, 0] - x_min)
    key_b = (cb[:, 1] - y_min) * width + (cb[:, 0] - x_min)
    order_a = np.argsort(key_a, kind="stable")
    sorted_key_a = key_a[order_a]
    order_b = np.argsort(key_b, kind="stable")
    b_cells, b_start = np.unique(key_b[order_b], return_index=True)
    b_end = np.r_[b_start[1:], len(order_b)]
    # A float32 pass on the projected plane keeps every pair that can be in reach (radius widened
    # by the stretch and float32 rounding); the exact float64 distance of those pairs decides.
    ax, ay = xy_a[:, 0].astype(np.float32), xy_a[:, 1].astype(np.float32)
    bx, by = xy_b[:, 0].astype(np.float32), xy_b[:, 1].astype(np.float32)
    loose2 = ((reach_a * stretch + 1e-3) ** 2).astype(np.float32)
    groups: list[tuple[np.ndarray, np.ndarray]] = []  # per mask: its bits of each a- and b-point
    if words is not None:
        words_a, words_b, masks = words
        for mask in masks:
            shift = np.uint64((mask & -mask).bit_length() - 1)
            ga = (words_a & np.uint64(mask)) >> shift
            gb = (words_b & np.uint64(mask)) >> shift
            # The narrowest type that holds the bits in use: fewer bytes per compared pair.
            top = int(max(ga.max(initial=0), gb.max(initial=0)))
            kind = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if top <= np.iinfo(t).max)
            groups.append((ga.astype(kind), gb.astype(kind)))
    offsets = np.array([dy * width + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    out_a, out_b, out_km = [], [], []
    pending = 0
    for key, start, end in zip(b_cells.tolist(), b_start.tolist(), b_end.tolist()):
        near_keys = key + offsets
        lo = np.searchsorted(sorted_key_a, near_keys, side="left")
        hi = np.searchsorted(sorted_key_a, near_keys, side="right")
        if (hi == lo).all():
            continue
        near = np.sort(np.concatenate([order_a[l:h] for l, h in zip(lo.tolist(), hi.tolist())]))
        # Gathered once per cell: the exact distances below read these small arrays, not the big ones.
        near_pts, near_reach = a.take(near), reach_a[near]
        near_x, near_y, near_loose2 = ax[near], ay[near], loose2[near]
        near_groups = [(ga[near], gb) for ga, gb in groups]
        here = order_b[start:end]
        step = max(1, BLOCK_CELLS // len(near))
        for s in range(0, len(here), step):
            block = here[s : s + step]
            dx = bx[block, None] - near_x[None, :]
            dy = by[block, None] - near_y[None, :]
            dx *= dx
            dy *= dy
            dx += dy
            ok = dx <= near_loose2[None, :]
            for ga, gb in near_groups:
                ok &= (gb[block, None] & ga[None, :]) != 0
            rows, cols = np.nonzero(ok)
            ib = block[rows]
            km = _distance(near_pts, cols, b, ib)
            keep = km <= near_reach[cols]
            # The same test as for indexed pairs (km <= reach) with the same arithmetic: both paths agree.
            keep = np.flatnonzero(keep)
            out_b.append(ib[keep])
            out_a.append(near[cols[keep]])
            out_km.append(km[keep])
            pending += len(keep)
            if pending >= min_pairs:
                yield _joined(out_a), _joined(out_b), _joined(out_km)
                out_a, out_b, out_km, pending = [], [], [], 0
    if out_a:
        yield _joined(out_a), _joined(out_b), _joined(out_km)


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
