"""CGMES import (gis/cim_io.py): sets written by pypowsybl at test time, checked against pandapower."""

import logging
import warnings
import zipfile

import pypowsybl.network as pn
import pytest
from pyproj import Geod

from gis import InputError, load_grid
from gis.__main__ import main
from gis.cim_io import cgmes_profiles, load_cgmes_net
from gis.pandapower_io import from_pandapower
from gis.schematic import DEFAULT_ORIGIN

from .pandapower_oracle import (
    grid_vm,
    max_voltage_difference,
    opening_cases,
    pandapower_vm,
    topology_mismatches,
    unsupplied_customers,
    unsupplied_customers_switched,
)

VLS = ["P110", "P20", "A20", "A04", "B20", "C20"]
SWITCHES = [  # id, voltage level, node 1, node 2, kind, open
    ("GRID_CB", "P110", 0, 1, "BREAKER", False), ("TR_HV", "P110", 0, 2, "BREAKER", False),
    ("TR_LV", "P20", 0, 1, "BREAKER", False), ("F1", "P20", 0, 2, "BREAKER", False), ("F2", "P20", 0, 3, "BREAKER", False),
    ("A_IN", "A20", 0, 1, "LOAD_BREAK_SWITCH", False), ("A_OUT", "A20", 0, 2, "LOAD_BREAK_SWITCH", False),
    ("A_TR", "A20", 0, 3, "LOAD_BREAK_SWITCH", False), ("A04_LD", "A04", 0, 1, "BREAKER", False),
    ("A04_TR", "A04", 0, 2, "DISCONNECTOR", False), ("B_IN", "B20", 0, 1, "LOAD_BREAK_SWITCH", False),
    ("B_TIE", "B20", 0, 2, "LOAD_BREAK_SWITCH", True), ("B_LD", "B20", 0, 3, "LOAD_BREAK_SWITCH", False),
    ("B_PV", "B20", 0, 4, "BREAKER", False), ("C_IN", "C20", 0, 1, "LOAD_BREAK_SWITCH", False),
    ("C_TIE", "C20", 0, 2, "LOAD_BREAK_SWITCH", False), ("C_LD", "C20", 0, 3, "LOAD_BREAK_SWITCH", False),
]


def radial_network():
    """A 110/20 kV substation P with two feeders (F1: P-A-B, F2: P-C), a normally-open tie B-C, a
    20/0.4 kV transformer at A, a PV unit at B; node-breaker, as a utility's network model is."""
    n = pn.create_empty("radial")
    n.create_substations(id=["P", "A", "B", "C"], country=["FI"] * 4)
    n.create_voltage_levels(id=VLS, substation_id=["P", "P", "A", "A", "B", "C"], topology_kind=["NODE_BREAKER"] * 6,
                            nominal_v=[110, 20, 20, 0.4, 20, 20], high_voltage_limit=[130, 24, 24, 0.48, 24, 24],
                            low_voltage_limit=[90, 16, 16, 0.36, 16, 16])
    n.create_busbar_sections(id=[v + "_BB" for v in VLS], voltage_level_id=VLS, node=[0] * 6)
    n.create_switches(id=[s[0] for s in SWITCHES], voltage_level_id=[s[1] for s in SWITCHES], node1=[s[2] for s in SWITCHES],
                      node2=[s[3] for s in SWITCHES], kind=[s[4] for s in SWITCHES], open=[s[5] for s in SWITCHES])
    n.create_generators(id="GRID", voltage_level_id="P110", node=1, min_p=-100, max_p=100, target_p=0, target_v=112,
                        voltage_regulator_on=True)
    n.create_2_windings_transformers(id=["TR1", "TA"], voltage_level1_id=["P110", "A20"], node1=[2, 3],
                                     voltage_level2_id=["P20", "A04"], node2=[1, 2], rated_u1=[110, 20], rated_u2=[20, 0.4],
                                     rated_s=[40, 0.63], r=[0.05, 0.01], x=[1.2, 0.03], g=[0, 0], b=[0, 0])
    n.create_lines(id=["L1", "L2", "L3", "L4"], voltage_level1_id=["P20", "A20", "P20", "B20"], node1=[2, 2, 3, 2],
                   voltage_level2_id=["A20", "B20", "C20", "C20"], node2=[1, 1, 1, 2], r=[0.4, 0.3, 0.5, 0.35],
                   x=[0.3, 0.25, 0.4, 0.3], g1=[0] * 4, b1=[1e-5] * 4, g2=[0] * 4, b2=[1e-5] * 4)
    n.create_loads(id=["LA", "LB", "LC"], voltage_level_id=["A04", "B20", "C20"], node=[1, 3, 3], p0=[0.3, 1.2, 0.8], q0=[0.1, 0.4, 0.3])
    n.create_generators(id="PV", voltage_level_id="B20", node=4, min_p=0, max_p=1, target_p=0.5, target_q=0,
                        voltage_regulator_on=False, energy_source="SOLAR")
    return n


def _save(network, folder, name):
    folder.mkdir(parents=True, exist_ok=True)
    logging.disable(logging.CRITICAL)
    try:
        network.save(str(folder / name), format="CGMES")
    finally:
        logging.disable(logging.NOTSET)
    return folder


@pytest.fixture(scope="module")
def radial_dir(tmp_path_factory):
    return _save(radial_network(), tmp_path_factory.mktemp("cgmes") / "radial", "radial")


@pytest.fixture(scope="module")
def radial(radial_dir):
    net, notes = load_cgmes_net(radial_dir)
    return net, notes, from_pandapower(net, name="radial")


def _switch(net, name):
    return int(net.switch.index[net.switch["name"] == name][0])


def test_profiles_of_a_pypowsybl_export(radial_dir):
    found = {f.name.rsplit("_", 1)[1]: cgmes_profiles(f) for f in radial_dir.iterdir()}
    assert found == {"EQ.xml": {"EQ"}, "TP.xml": {"TP"}, "SSH.xml": {"SSH"}, "SV.xml": {"SV"}}


def test_elements_and_feeders(radial):
    net, notes, grid = radial
    assert len(grid.customers) == 3 and len(grid.dg) == 1 and len(grid.lines) == 4 and len(grid.transformers) == 2
    assert len(grid.switches) == len(SWITCHES)
    s = grid.summary()
    assert s["feeders"] == 2 and s["ties"] == 1 and s["substations"] == 1
    names = dict(zip(grid.switches["id"], grid.switches["name"], strict=True))
    breakers = {names[i] for i in grid.switches["id"][grid.switches["kind"] == "breaker"]}
    assert {"F1", "F2"} <= breakers
    assert any("GRID" in n for n in notes)  # the PowSyBl machine is the infeed, and says so
    assert any("L4" in n for n in notes)  # the tie line behind the open switch is kept


def test_topology_matches_pandapower(radial):
    net, _, grid = radial
    # the normal state: every customer supplied, in both
    assert unsupplied_customers(net, []) == set(grid.affected_customers(open_switches=[])["id"]) == set()
    bad, nonempty = topology_mismatches(net, grid, opening_cases(net, sets=60))
    assert bad == [] and nonempty > 10
    # feeder F1 out; closing the tie re-feeds B through C and A back through B: pandapower agrees
    f1, tie = _switch(net, "F1"), _switch(net, "B_TIE")
    for opened, closed in (([f1], []), ([f1], [tie]), ([_switch(net, "A_OUT")], [tie])):
        expected = unsupplied_customers_switched(net, opened, closed)
        got = set(grid.affected_customers(open_switches=[f"switch:{s}" for s in opened],
                                          close_switches=[f"switch:{s}" for s in closed])["id"])
        assert got == expected
    assert len(unsupplied_customers_switched(net, [f1], [])) == 2  # LA (via the 0.4 kV transformer) and LB
    assert unsupplied_customers_switched(net, [f1], [tie]) == set()


def test_power_flow_matches_pandapower(radial):
    net, _, grid = radial
    diff, compared = max_voltage_difference(pandapower_vm(net), grid_vm(grid))
    assert compared == len(net.bus) and diff < 1e-6


def test_schematic_starts_at_the_origin(radial):
    net, _, grid = radial
    infeed = grid.nodes.set_index("id").geometry[f"bus:{int(net.ext_grid['bus'].iloc[0])}"]
    assert Geod(ellps="WGS84").inv(infeed.x, infeed.y, *DEFAULT_ORIGIN)[2] < 0.01


def test_gl_profile_gives_the_coordinates(radial_dir, tmp_path):
    where = {"P": (24.90, 60.20), "A": (24.92, 60.21), "B": (24.94, 60.21), "C": (24.93, 60.19)}
    folder = tmp_path / "with_gl"
    folder.mkdir()
    for f in radial_dir.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "radial_GL.xml").write_text(_gl_profile(where))
    net, notes = load_cgmes_net(folder)
    assert any("GL profile" in n for n in notes)
    grid = from_pandapower(net, name="gl")
    sub = net.bus["Substation_id"].str.lstrip("_")
    pts = grid.nodes.set_index("id").geometry
    for b, s in sub.items():
        assert (pts[f"bus:{b}"].x, pts[f"bus:{b}"].y) == pytest.approx(where[s], abs=1e-9)
    # a GL profile that misses substation C: its buses go next to a located neighbour, and the notes say so
    (folder / "radial_GL.xml").write_text(_gl_profile({k: v for k, v in where.items() if k != "C"}))
    net, notes = load_cgmes_net(folder)
    assert any("does not locate" in n for n in notes)
    grid = from_pandapower(net, name="gl")
    pts = grid.nodes.set_index("id").geometry
    g = Geod(ellps="WGS84")
    for b in net.bus.index[net.bus["Substation_id"] == "_C"]:
        p = pts[f"bus:{b}"]
        assert min(g.inv(p.x, p.y, *where[s])[2] for s in "PAB") < 1000.0  # within a few steps of 25 m


def _gl_profile(where):
    locs = "".join(
        f'<cim:Location rdf:ID="_LOC_{s}"><cim:Location.PowerSystemResources rdf:resource="#_{s}"/>'
        f'<cim:Location.CoordinateSystem rdf:resource="#_CS"/></cim:Location>'
        f'<cim:PositionPoint rdf:ID="_PP_{s}"><cim:PositionPoint.Location rdf:resource="#_LOC_{s}"/>'
        f'<cim:PositionPoint.sequenceNumber>1</cim:PositionPoint.sequenceNumber>'
        f'<cim:PositionPoint.xPosition>{x}</cim:PositionPoint.xPosition>'
        f'<cim:PositionPoint.yPosition>{y}</cim:PositionPoint.yPosition></cim:PositionPoint>'
        for s, (x, y) in where.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#" '
        'xmlns:md="http://iec.ch/TC57/61970-552/ModelDescription/1#">'
        '<md:FullModel rdf:about="urn:uuid:gl-test"><md:Model.profile>http://entsoe.eu/CIM/GeographicalLocation/2/1</md:Model.profile>'
        '</md:FullModel>'
        '<cim:CoordinateSystem rdf:ID="_CS"><cim:CoordinateSystem.crsUrn>urn:ogc:def:crs:EPSG::4326</cim:CoordinateSystem.crsUrn>'
        f'</cim:CoordinateSystem>{locs}</rdf:RDF>'
    )


def test_cli_writes_a_grid_from_a_zip(radial_dir, tmp_path, capsys):
    z = tmp_path / "radial.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in radial_dir.iterdir():
            zf.write(f, f"export/{f.name}")
    out = tmp_path / "radial.gpkg"
    assert main(["import-cgmes", str(z), str(out), "--origin", "10.0,50.0"]) == 0
    grid = load_grid(out)
    assert len(grid.customers) == 3 and grid.summary()["ties"] == 1
    assert "wrote" in capsys.readouterr().out


def test_transmission_example_is_refused_with_the_reason(tmp_path):
    """IEEE 14 (meshed, five machines) is not a distribution grid: the grid's validation says why."""
    folder = _save(pn.create_ieee14(), tmp_path / "ieee14", "ieee14")
    out = tmp_path / "ieee14.gpkg"
    assert main(["import-cgmes", str(folder), str(out)]) == 1
    assert not out.exists()


def test_not_cgmes_zip_is_refused(tmp_path, capsys):
    z = tmp_path / "photos.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("notes.xml", "<?xml version='1.0'?><notes><note>hello</note></notes>")
    out = tmp_path / "out.gpkg"
    assert main(["import-cgmes", str(z), str(out)]) == 1
    assert not out.exists()
    assert "notes.xml" in capsys.readouterr().err
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "no xml")
    with pytest.raises(InputError, match="no .xml"):
        load_cgmes_net(empty)
    fake = tmp_path / "fake.zip"
    fake.write_text("not a zip at all")
    with pytest.raises(InputError, match="not a zip"):
        load_cgmes_net(fake)


def test_missing_profile_is_named(radial_dir, tmp_path):
    folder = tmp_path / "no_ssh"
    folder.mkdir()
    for f in radial_dir.iterdir():
        if not f.name.endswith("_SSH.xml"):
            (folder / f.name).write_bytes(f.read_bytes())
    with pytest.raises(InputError, match="SSH") as err:
        load_cgmes_net(folder)
    assert err.value.code == "missing_profile" and err.value.details == {"missing": ["SSH"]}


def test_no_warning_leaks(radial_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_cgmes_net(radial_dir)
