"""Road geometry in metres: a local flat frame and the polyline of every directed edge.

Snapping and path geometry work in a local equirectangular frame around the
network (metres east / north of its mean node), accurate to a fraction of a
percent over a city; results go back to WGS84 ``(lon, lat)`` through the
exact inverse.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["EdgeShapes", "LocalFrame", "dedupe_coords"]

_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class LocalFrame:
    """Equirectangular metres around ``(lon0, lat0)`` (degrees); build it with :meth:`around`."""

    lon0: float
    lat0: float
    kx: float  # metres per degree of longitude at lat0
    ky: float  # metres per degree of latitude

    @classmethod
    def around(cls, lon0: float, lat0: float) -> LocalFrame:
        """The frame centred on ``(lon0, lat0)`` (WGS84 degrees)."""
        kx = _EARTH_RADIUS_M * math.cos(math.radians(lat0)) * math.pi / 180.0
        return cls(lon0, lat0, kx, _EARTH_RADIUS_M * math.pi / 180.0)

    def to_xy(self, lonlat: np.ndarray) -> np.ndarray:
        """WGS84 degrees (N x 2) -> local metres (exact inverse in :meth:`to_lonlat`)."""
        out = np.empty_like(lonlat, dtype=float)
        out[:, 0] = (lonlat[:, 0] - self.lon0) * self.kx
        out[:, 1] = (lonlat[:, 1] - self.lat0) * self.ky
        return out

    def to_lonlat(self, xy: np.ndarray) -> np.ndarray:
        """Local metres (N x 2) -> WGS84 degrees."""
        out = np.empty_like(xy, dtype=float)
        out[:, 0] = xy[:, 0] / self.kx + self.lon0
        out[:, 1] = xy[:, 1] / self.ky + self.lat0
        return out


class EdgeShapes:
    """The polyline of every directed edge, in WGS84 degrees and in local metres.

    ``lonlat[e]`` and ``xy[e]`` are (k x 2) arrays from the edge's tail to its
    head; ``cum[e]`` the metres along it at each vertex.
    """

    def __init__(self, lonlat: Sequence[np.ndarray], frame: LocalFrame) -> None:
        self.frame = frame
        self.lonlat = list(lonlat)
        self.xy = [frame.to_xy(c) for c in self.lonlat]
        self.cum = [_cumlen(xy) for xy in self.xy]

    def part(self, e: int, f0: float, f1: float) -> tuple[tuple[float, float], ...]:
        """WGS84 coordinates of edge ``e`` between fractions ``f0 <= f1`` of its length."""
        xy, cum = self.xy[e], self.cum[e]
        total = cum[-1]
        if total <= 0:
            pts = xy[:1]
        else:
            d0, d1 = f0 * total, f1 * total
            inner = xy[(cum > d0) & (cum < d1)]
            pts = np.vstack([_interp(xy, cum, d0), inner, _interp(xy, cum, d1)])
        return tuple(map(tuple, self.frame.to_lonlat(pts).tolist()))


def dedupe_coords(coords: Iterable[Sequence[float]]) -> list[tuple[float, float]]:
    """``(lon, lat)`` pairs without consecutive repeats (closer than 1e-9 degrees)."""
    out: list[tuple[float, float]] = []
    for c in coords:
        c = (float(c[0]), float(c[1]))
        if not out or abs(out[-1][0] - c[0]) > 1e-9 or abs(out[-1][1] - c[1]) > 1e-9:
            out.append(c)
    return out


def _cumlen(xy: np.ndarray) -> np.ndarray:
    d = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
    return np.concatenate(([0.0], np.cumsum(d)))


def _interp(xy: np.ndarray, cum: np.ndarray, d: float) -> np.ndarray:
    x = np.interp(d, cum, xy[:, 0])
    y = np.interp(d, cum, xy[:, 1])
    return np.array([[x, y]])
