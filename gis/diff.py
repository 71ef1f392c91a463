"""What changed between two versions of a grid: equipment added and removed, ratings,
normal states, connections and positions changed, by layer and id.

Pure: two :class:`gis.Grid` in, a :class:`GridDiff` out. Positions are compared in the
grid's metric CRS (metres); everything else by value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.grid import Grid
from gis.records import json_safe

#: The equipment layers compared (the tables ``meta``, ``profiles``, ``line_types`` are not equipment).
LAYERS = ("substations", "nodes", "lines", "switches", "transformers", "customers", "dg", "depots")

#: What a changed column means to a planner: the kind of change it is reported as.
KINDS: dict[str, str] = {
    **dict.fromkeys(("rating_a", "kva", "capacity_kva", "sn_kva", "p_kw", "demand_kw", "power_factor"), "rating"),
    **dict.fromkeys(("normally_open", "in_service"), "normal_state"),
    **dict.fromkeys(("from_node", "to_node", "node_id", "hv_node", "lv_node", "substation_id"), "connection"),
}

#: A point or line that moved less than this (metres) has not moved.
MOVE_TOLERANCE_M = 1.0

_INTERNAL = {"geometry", "node_joined"}


@dataclass(frozen=True)
class Change:
    """One changed attribute of one element (``kind``: rating, normal_state, connection,
    position or attribute); ``old``/``new`` JSON-safe (``position``: metres moved in ``new``)."""

    layer: str
    id: str
    column: str
    kind: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "id": self.id, "column": self.column, "kind": self.kind,
                "old": self.old, "new": self.new}


@dataclass(frozen=True)
class GridDiff:
    """Ids added and removed per layer, and the changes of the elements in both."""

    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    changed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (any(self.added.values()) or any(self.removed.values()) or self.changed)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per layer: ``added``, ``removed``, ``changed`` (elements with at least one change)."""
        out: dict[str, dict[str, int]] = {}
        for layer in LAYERS:
            changed = {c.id for c in self.changed if c.layer == layer}
            row = {"added": len(self.added.get(layer, [])), "removed": len(self.removed.get(layer, [])),
                   "changed": len(changed)}
            if any(row.values()):
                out[layer] = row
        return out

    def touched(self, layer: str) -> set[str]:
        """Ids of ``layer`` removed or changed (what an outage planned on the old grid may depend on)."""
        return set(self.removed.get(layer, [])) | {c.id for c in self.changed if c.layer == layer}

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts(), "added": {k: v for k, v in self.added.items() if v},
                "removed": {k: v for k, v in self.removed.items() if v},
                "changed": [c.to_json() for c in self.changed]}


def diff_grids(old: Grid, new: Grid) -> GridDiff:
    """The differences from ``old`` to ``new``, element by element (matched by ``id`` within a layer).

    A column present in only one version counts as changed where the other side has a value.
    Positions are compared in ``new``'s metric CRS; a move under :data:`MOVE_TOLERANCE_M` is none.
    """
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    changed: list[Change] = []
    for layer in LAYERS:
        a, b = _frame(old, layer), _frame(new, layer)
        added[layer] = sorted(set(b.index) - set(a.index))
        removed[layer] = sorted(set(a.index) - set(b.index))
        both = sorted(set(a.index) & set(b.index))
        if both:
            changed += _attribute_changes(layer, a.loc[both], b.loc[both])
            changed += _moves(layer, a.loc[both], b.loc[both], crs=new.metric_crs)
    changed.sort(key=lambda c: (LAYERS.index(c.layer), c.id, c.column))
    return GridDiff(added=added, removed=removed, changed=changed)


def _frame(grid: Grid, layer: str) -> gpd.GeoDataFrame:
    df = grid.layers().get(layer)
    if df is None or "id" not in df.columns:
        return gpd.GeoDataFrame({"id": pd.Series(dtype=str)}, geometry=[], crs="EPSG:4326").set_index("id")
    out = df.copy()
    out["id"] = out["id"].astype(str)
    return out.set_index("id")


def _attribute_changes(layer: str, a: pd.DataFrame, b: pd.DataFrame) -> list[Change]:
    out = []
    for col in sorted((set(a.columns) | set(b.columns)) - _INTERNAL):
        va = a[col] if col in a.columns else pd.Series(None, index=a.index, dtype=object)
        vb = b[col] if col in b.columns else pd.Series(None, index=b.index, dtype=object)
        for ident in a.index[_differs(va, vb)]:
            out.append(Change(layer, str(ident), col, KINDS.get(col, "attribute"), _value(va.at[ident]), _value(vb.at[ident])))
    return out


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise: the two aligned columns differ (missing on both sides is equal; numbers
    within 1e-9; anything else by its text)."""
    na_a, na_b = a.isna().to_numpy(), b.isna().to_numpy()
    num = pd.api.types.is_numeric_dtype
    if num(a.dtype) and num(b.dtype):
        x, y = a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan)
        same = np.isclose(x, y, rtol=1e-9, atol=1e-9)
    else:
        same = a.astype(str).to_numpy() == b.astype(str).to_numpy()
    return np.asarray(~((na_a & na_b) | (~na_a & ~na_b & same)))


def _moves(layer: str, a: pd.DataFrame, b: pd.DataFrame, *, crs: str) -> list[Change]:
    if not (isinstance(a, gpd.GeoDataFrame) and isinstance(b, gpd.GeoDataFrame)) or a.crs is None:
        return []
    ga = gpd.GeoSeries(a.geometry, crs=a.crs).to_crs(crs)
    gb = gpd.GeoSeries(b.geometry, crs=b.crs).to_crs(crs)
    moved = ga.hausdorff_distance(gb, align=False).to_numpy()
    return [Change(layer, str(ident), "geometry", "position", 0.0, round(float(m), 1))
            for ident, m in zip(a.index, moved, strict=True) if np.isfinite(m) and m > MOVE_TOLERANCE_M]


def _value(v: Any) -> Any:
    v = json_safe(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v
