"""Render a picture of a built city from its files (grid + road GraphML).

Usage::

    python -m gis.city.render outage_demo/monaco.gpkg outage_demo/monaco_roads.graphml docs/city.png

Streets in grey, cables coloured by the feeder that feeds them in the normal
state (overhead lines dashed), customers as small dots in their feeder's
colour, substations as squares, normally-open ties as red crosses, depots as
triangles.  Carries the OpenStreetMap attribution.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def render(grid_path: str | Path, roads_path: str | Path, out: str | Path, *, dpi: int = 130) -> Path:
    """Draw the city and save a PNG (deterministic metadata).

    Parameters
    ----------
    grid_path, roads_path
        The built grid (GeoPackage) and its road GraphML.
    out
        PNG path to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import osmnx as ox
    from matplotlib.collections import LineCollection

    from gis import load_grid

    grid = load_grid(grid_path)
    roads = ox.load_graphml(roads_path)
    lat0 = float(grid.nodes.geometry.y.mean())
    aspect = 1.0 / np.cos(np.radians(lat0))

    feeders = sorted(grid.feeders["id"]) if len(grid.feeders) else []
    cmap = plt.get_cmap("tab20")
    colour = {f: cmap(i % 20) for i, f in enumerate(feeders)}
    node_feeder = {}
    live = grid.energized()
    state = grid.study()
    cust_feeder = grid.customer_feeders(state=state)
    for nid in grid.nodes["id"]:
        node_feeder[nid] = grid.feeder_of(nid) if nid in live else None

    road_segs = []
    for _u, _v, data in roads.edges(data=True):
        g = data.get("geometry")
        if g is not None:
            road_segs.append(np.asarray(g.coords))
    cust = grid.customers
    cf = cust_feeder.reindex(cust["id"]).to_numpy()
    cust_colours = [colour.get(f, "#888888") for f in cf]
    line_layers = []
    for kind, style in (("cable", "solid"), ("overhead", (0, (3, 2)))):
        sel = grid.lines[grid.lines["kind"] == kind]
        segs = [np.asarray(g.coords) for g in sel.geometry]
        cols = [
            colour.get(node_feeder.get(t) or node_feeder.get(f), "#444444")
            for f, t in zip(sel["from_node"], sel["to_node"], strict=True)
        ]
        line_layers.append((segs, cols, style))
    rmu = grid.nodes[grid.nodes["kind"] == "rmu"]
    ties = grid.switches[grid.switches["normally_open"]]
    subs = grid.substations

    def draw(ax, *, scale: float, labels: bool) -> None:
        ax.add_collection(LineCollection(road_segs, colors="#c8c8c8", linewidths=0.6 * scale, zorder=1))
        for segs, cols, style in line_layers:
            ax.add_collection(
                LineCollection(segs, colors=cols, linewidths=1.3 * scale, linestyles=style, zorder=3)
            )
        ax.scatter(cust.geometry.x, cust.geometry.y, s=0.6 * scale**2, c=cust_colours,
                   alpha=0.45, linewidths=0, zorder=2)
        ax.scatter(rmu.geometry.x, rmu.geometry.y, s=5 * scale, c="black", zorder=4,
                   label="ring-main unit")
        ax.scatter(ties.geometry.x, ties.geometry.y, s=60, marker="x", c="red", linewidths=2,
                   zorder=5, label="normally-open tie")
        ax.scatter(subs.geometry.x, subs.geometry.y, s=140, marker="s", c="black",
                   edgecolors="white", zorder=6, label="110/10 kV substation")
        if labels:
            for name, x, y in zip(subs["name"], subs.geometry.x, subs.geometry.y, strict=True):
                ax.annotate(name, (x, y), xytext=(6, 6), textcoords="offset points", fontsize=8,
                            zorder=7, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.8, "lw": 0})
        if len(grid.depots):
            dep = grid.depots
            ax.scatter(dep.geometry.x, dep.geometry.y, s=90, marker="^", c="#1f4e9c",
                       edgecolors="white", zorder=6, label="crew depot")
        ax.set_aspect(aspect)
        ax.set_xticks([])
        ax.set_yticks([])

    fig, ax = plt.subplots(figsize=(14, 8.5))
    draw(ax, scale=1.0, labels=True)
    minx, miny, maxx, maxy = cust.total_bounds
    pad = 0.01 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    # inset: the densest square kilometre or so, where the rings are short
    hist, xe, ye = np.histogram2d(cust.geometry.x, cust.geometry.y, bins=24,
                                  weights=cust["demand_kw"].to_numpy())
    i, j = np.unravel_index(int(np.argmax(hist)), hist.shape)
    cx, cy = (xe[i] + xe[i + 1]) / 2, (ye[j] + ye[j + 1]) / 2
    half_y = 0.0075
    half_x = half_y * aspect * 1.3
    inset = ax.inset_axes((0.005, 0.52, 0.4, 0.47))
    draw(inset, scale=1.6, labels=False)
    inset.set_xlim(cx - half_x, cx + half_x)
    inset.set_ylim(cy - half_y, cy + half_y)
    inset.set_facecolor("white")
    ax.indicate_inset_zoom(inset, edgecolor="#555555")
    s = grid.summary()
    ax.set_title(
        f"{grid.name}: {s['substations']} substations, {s['feeders']} feeders, {s['ties']} ties, "
        f"{len(cust):,} customers, {sum(s['km_of_line'].values()):.0f} km of 10 kV line",
        fontsize=11,
    )
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.text(
        0.005, 0.005,
        "Map data © OpenStreetMap contributors (ODbL). Substations, network, depots: synthetic.",
        transform=ax.transAxes, fontsize=7, va="bottom", ha="left",
        bbox={"fc": "white", "alpha": 0.8, "lw": 0},
    )
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gis.city.render", description="Render a built city to PNG.")
    parser.add_argument("grid")
    parser.add_argument("roads")
    parser.add_argument("out")
    parser.add_argument("--dpi", type=int, default=130)
    args = parser.parse_args(argv)
    print(render(args.grid, args.roads, args.out, dpi=args.dpi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
