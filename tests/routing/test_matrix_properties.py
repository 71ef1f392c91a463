"""Properties of the travel-time matrix on the toy square (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.routing.conftest import STEP
from tests.routing.test_roads import _nx_reference

coord = st.floats(min_value=-0.5 * STEP, max_value=1.5 * STEP, allow_nan=False)
points = st.lists(st.tuples(coord, coord), min_size=1, max_size=6)


@settings(max_examples=30, deadline=None)
@given(points)
def test_matrix_matches_brute_force_and_triangle_inequality(square_roads, lonlats):
    pts = square_roads.snap_many(lonlats)
    m = square_roads.matrix(pts, pts)
    # documented rounding: points within 1 mm are one place, within 1 cm of a node are
    # that node; on these 10 m/s toy streets 1 cm is 1 ms
    assert np.allclose(m, _nx_reference(square_roads, pts), atol=2e-3)
    assert np.allclose(np.diag(m), 0.0)
    n = len(pts)
    for k in range(n):
        # within the 1 cm "at the node" rule: a few milliseconds
        assert (m <= m[:, [k]] + m[[k], :] + 1e-2).all()
    # the reversed-graph search (fewer destinations) agrees
    if n > 1:
        assert np.allclose(square_roads.matrix(pts, pts[:1]), m[:, :1], atol=2e-3)
