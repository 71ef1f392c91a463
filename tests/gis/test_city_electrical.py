"""Design rules of the demo city's 10 kV network (gis.city.electrical), against hand-computed values."""

import math

import numpy as np
import pytest

from gis.city import electrical as el

TAN_PHI = math.tan(math.acos(0.9))  # 0.48432


def flat(*kw: float) -> np.ndarray:
    """Constant loads (kW) over four time steps, one row per point."""
    return np.repeat(np.array(kw, dtype=float)[:, None], 4, axis=1)


def test_current_of_a_load():
    # 6 MW at 10 kV, pf 0.9: 6000 / (sqrt(3) x 10 x 0.9) = 384.9 A
    assert float(el.current_a(6000.0)) == pytest.approx(384.90, abs=0.01)


def test_downstream_load_of_each_segment():
    assert el.downstream_kw(flat(1.0, 2.0, 3.0))[:, 0].tolist() == [6.0, 5.0, 3.0]


def test_voltage_drop_of_one_segment():
    # 1 MW over 1 km of YJV22 3x70 (0.268 + j0.110 ohm/km): (1 x 0.268 + 0.4843 x 0.110) / 10^2 = 0.3213 %
    drop = el.drop_pct(np.array([1000.0]), flat(1000.0), type_name="YJV22-8.7/15 3x70")
    assert drop == pytest.approx([0.3213] * 4, abs=1e-4)


def test_voltage_drop_adds_along_the_chain():
    # 2 x 1 MW, 1 km each on 3x70: first km carries 2 MW, second 1 MW: 3 x 0.3213 %
    drop = el.drop_pct(np.array([1000.0, 1000.0]), flat(1000.0, 1000.0), type_name="YJV22-8.7/15 3x70")
    assert float(drop[0]) == pytest.approx(3 * 0.32128, abs=1e-4)


def test_trunk_sized_by_current_when_short():
    # 3 MW = 192.5 A: 3x70 gives 0.85 x 215 = 182.8 A (too small), 3x95 0.85 x 260 = 221 A; drop over 1 km 0.73 %
    assert el.smallest_trunk(np.array([1000.0]), flat(3000.0)) == "YJV22-8.7/15 3x95"


def test_trunk_sized_by_voltage_drop_when_long():
    # 3 MW over 8 km: 3x95 drops (3 x 0.193 + 1.453 x 0.105) x 8 / 100 = 5.85 % > 5 %;
    # 3x120 drops (3 x 0.153 + 1.453 x 0.100) x 8 / 100 = 4.83 %
    assert el.smallest_trunk(np.array([8000.0]), flat(3000.0)) == "YJV22-8.7/15 3x120"
    drop = el.drop_pct(np.array([8000.0]), flat(3000.0), type_name="YJV22-8.7/15 3x120")
    assert float(drop[0]) == pytest.approx(100 * (3 * 0.153 + 3 * TAN_PHI * 0.100) * 8 / 10**2, rel=1e-9)


def test_nothing_fits_a_feeder_beyond_the_largest_cable():
    # 7 MW = 449 A > 0.85 x 485 A
    assert el.smallest_trunk(np.array([100.0]), flat(7000.0)) is None


def test_ring_is_sized_for_n_minus_1_and_cut_in_the_middle():
    # two points of 2 MW, 1 km from each substation, 0.5 km apart. Whole ring 4 MW = 256.6 A must fit
    # 95 %: 3x95 gives 247 A (no), 3x120 280 A (yes); its whole-ring drop is 1.0 % (< 8 %).
    # Normal state: the cut between the points leaves 2 MW = 128 A per feeder (< 0.85 x 295 A).
    gaps = np.array([1000.0, 500.0, 1000.0])
    choice = el.choose_ring(gaps, flat(2000.0, 2000.0))
    assert choice == el.RingChoice("YJV22-8.7/15 3x120", 1, (2000.0, 2000.0))
    # without the N-1 rule each half needs only 3x70 (128 A <= 182.8 A)
    assert el.choose_ring(gaps, flat(2000.0, 2000.0), n_minus_1=False).type_name == "YJV22-8.7/15 3x70"


def test_ring_halves_run_from_each_substation():
    (la, sa), (lb, sb) = el.halves(np.array([10.0, 20.0, 30.0, 40.0]), flat(1.0, 2.0, 3.0), 1)
    assert la.tolist() == [10.0] and sa[:, 0].tolist() == [1.0]
    assert lb.tolist() == [40.0, 30.0] and sb[:, 0].tolist() == [3.0, 2.0]  # the 20 m gap is the tie


def test_cut_moves_to_where_both_feeders_pass():
    # a heavy first point: the even cut leaves 3 MW + 3 MW; every cut is thermally fine on 3x300
    choice = el.choose_ring(np.array([100.0, 100.0, 100.0, 100.0]), flat(3000.0, 1500.0, 1500.0))
    assert choice.cut == 1 and choice.peaks_kw == (3000.0, 3000.0)


def test_too_heavy_ring_has_no_choice():
    # 8 MW = 513 A is more than 0.95 x 485 A: the ring must be split
    assert el.choose_ring(np.array([100.0, 100.0, 100.0]), flat(4000.0, 4000.0)) is None


def test_split_point_halves_the_load():
    assert el.split_point(flat(1, 1, 1, 1, 1, 1)) == 3
    assert el.split_point(flat(10, 1, 1, 1, 1)) == 2  # never fewer than two points per part


def test_busbar_and_substation_ratings():
    # 35 MW = 2245 A -> 2245 / 0.95 = 2363 A -> 2500 A; 25 MW = 1604 A > 0.95 x 1600 A -> 2000 A
    assert el.busbar_rating_a(35000.0) == 2500
    assert el.busbar_rating_a(25000.0) == 2000
    with pytest.raises(ValueError):
        el.busbar_rating_a(70000.0)  # 4491 A: more than 0.95 x 4000 A
    # 35 MW / 0.9 = 38.9 MVA: one 40 MVA transformer carries it (two installed)
    assert el.substation_transformers(35000.0) == (2, 40000)
    # 58 MW / 0.9 = 64.4 MVA: more than 63 MVA, so three, two of which carry it: 3 x 40 MVA
    assert el.substation_transformers(58000.0) == (3, 40000)


def test_spur_conductors():
    assert el.spur_type(100.0) == "JKLYJ-10/70"
    assert el.spur_type(250.0) == "LGJ-70/10"
    assert el.TRUNK_TYPES[0] == "YJV22-8.7/15 3x70" and el.TRUNK_TYPES[-1] == "YJV22-8.7/15 3x300"
