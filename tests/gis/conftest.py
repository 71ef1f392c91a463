from pathlib import Path

import pytest

from gis import load_grid

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def ring():
    """The hand-checkable two-feeder ring (drawing in tests/data/make_small_ring.py)."""
    return load_grid(DATA / "small_ring")


@pytest.fixture()
def ring_layers():
    """Fresh raw layers of the small ring, for tests that break them."""
    from gis.format import read_layers

    return read_layers(DATA / "small_ring")
