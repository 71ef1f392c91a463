"""Hypothesis strategies shared by the fault planner's property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from planning.faults.synthetic import RandomGridSpec

# random radial grids: 1-3 substations, 1-3 feeders each, 1-6 sections per feeder, up to 5 ties,
# none to all switches remote-controlled, feeders unrated or rated tight or loose
grid_specs = st.builds(
    RandomGridSpec,
    substations=st.integers(1, 3),
    feeders_per_substation=st.integers(1, 3),
    sections_per_feeder=st.integers(1, 6),
    ties=st.integers(0, 5),
    p_remote=st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]),
    feeder_rating_a=st.sampled_from([None, (20.0, 80.0), (50.0, 400.0)]),
)
