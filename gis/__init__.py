"""The grid: interchange format, validation, the :class:`Grid` and its topology queries.

No Flask, no database, no network: data in, data out. See ``docs/grid-format.md``.
"""

from gis.errors import (
    ConflictError,
    GridValidationError,
    InputError,
    NotFoundError,
    OutageError,
    Problem,
)
from gis.format import read_layers, read_postgis, write_grid
from gis.geojson import to_geojson
from gis.grid import Grid, Isolation, Section, StateCheck, TieOption, load_grid, validate_grid
from gis.supply_tree import SupplyTree

__all__ = [
    "ConflictError",
    "Grid",
    "GridValidationError",
    "InputError",
    "Isolation",
    "NotFoundError",
    "OutageError",
    "Problem",
    "Section",
    "StateCheck",
    "SupplyTree",
    "TieOption",
    "to_geojson",
    "load_grid",
    "read_layers",
    "read_postgis",
    "validate_grid",
    "write_grid",
]


def from_pandapower(net, **kwargs):  # type: ignore[no-untyped-def]
    """Build a :class:`Grid` from a pandapower net (see :mod:`gis.pandapower_io`)."""
    from gis.pandapower_io import from_pandapower as _f

    return _f(net, **kwargs)


def to_pandapower(grid, **kwargs):  # type: ignore[no-untyped-def]
    """Convert a :class:`Grid` to a pandapower net (see :mod:`gis.pandapower_io`)."""
    from gis.pandapower_io import to_pandapower as _f

    return _f(grid, **kwargs)
