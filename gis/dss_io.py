"""OpenDSS feeders into the grid format, through pandapower's OpenDSS converter.

``python -m gis import-dss MASTER.dss OUT.gpkg [--buscoords FILE] [--origin LON,LAT]``. The only
module that imports OpenDSSDirect.py (the OpenDSS engine, run in-process; no network). The master
file is compiled by OpenDSS itself, so any script it understands is read — including commands
that write files, so import only scripts you trust.

:func:`load_dss_net` gives a pandapower net with bus geodata, which
:func:`gis.pandapower_io.from_pandapower` turns into a grid (so ids are ``bus:N``, ``line:N``,
``switch:N``, ``load:N`` as for any pandapower import). pandapower's
``converter.opendss.from_opendss`` builds a **balanced positive-sequence** equivalent of the
(unbalanced) feeder; on top of it this module:

* refuses circuits with elements it does not map (e.g. ``Storage``, ``Fault``, ``IndMach012``),
  naming them; control and metering elements (``RegControl``, ``CapControl``, ``Fuse``,
  ``Recloser``, ``Relay``, ``EnergyMeter``, ...) are ignored with a note;
* reads each switch's state from both terminals (``open Line.Sw7 terminal=2`` opens it);
* merges the single-phase units of a regulator bank (transformers between the same two buses)
  into one transformer: summed rating, mean solved tap, parallel impedance;
* imports ``Generator`` (``kW``) and ``PVSystem`` (``Pmpp``) as DG;
* adds a closed feeder breaker where a line leaves the substation without a switch
  (:func:`gis.pandapower_io.add_feeder_breakers`);
* places the buses: from the circuit's bus coordinates (``BusCoords`` in the script, or
  ``buscoords``), scaled so that the median line is drawn at its electrical length and shifted
  so the source bus sits at ``origin``; buses without coordinates next to a placed neighbour;
  with no coordinates at all, a layered schematic (:func:`gis.schematic.tree_layout`).

See docs/grid-format.md ("OpenDSS") for what is read and what is approximated.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import warnings
from pathlib import Path
from typing import Any

from gis.errors import InputError
from gis.schematic import (
    DEFAULT_ORIGIN,
    bus_geo,
    network_edges,
    place,
    place_near_neighbours,
    tree_layout,
)

#: OpenDSS element classes the import maps onto pandapower elements.
MAPPED = frozenset({"vsource", "line", "transformer", "reactor", "load", "capacitor", "generator", "pvsystem"})
#: Control and metering classes: they change no topology and are ignored with a note.
IGNORED = frozenset({"regcontrol", "capcontrol", "swtcontrol", "fuse", "recloser", "relay", "invcontrol", "expcontrol",
                     "energymeter", "monitor", "sensor", "storagecontroller", "gendispatcher", "upfccontrol", "esppvcontrol"})


def _engine() -> Any:
    """The OpenDSSDirect.py module (``InputError`` when it is not installed)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import opendssdirect as dss
    except ImportError as exc:  # pragma: no cover - the dependency is pinned
        raise InputError("OpenDSS import needs OpenDSSDirect.py (pip install OpenDSSDirect.py)", code="missing_dependency") from exc
    return dss


def load_dss_net(master: str | Path, *, buscoords: str | Path | None = None, origin: tuple[float, float] = DEFAULT_ORIGIN,
                 spacing_m: float = 100.0) -> tuple[Any, list[str]]:
    """(pandapower net with bus geodata, notes on what was approximated) of an OpenDSS master file.

    ``buscoords``: a ``BusCoords`` file (``bus, x, y`` per line) read after the script, for
    masters that do not load one. ``origin``: (lon, lat) where the source bus is placed.
    ``spacing_m``: row and column distance (m) of the schematic drawn when no bus has
    coordinates. Raises :class:`~gis.errors.InputError` naming the file and line OpenDSS
    rejects (an unknown element class, a missing ``LineCode``, ...) and the elements this
    import does not map.
    """
    path = Path(master)
    if not path.is_file():
        raise InputError(f"no such OpenDSS file: {path}", code="not_found")
    dss = _engine()
    from pandapower.converter.opendss import from_opendss

    cwd = os.getcwd()
    quiet = logging.getLogger("pandapower.converter.opendss.from_dss")
    was_disabled, quiet.disabled = quiet.disabled, True
    try:
        dss.Basic.AllowEditor(False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = from_opendss(str(path.resolve()))
        if buscoords is not None:
            if not Path(buscoords).is_file():
                raise InputError(f"no such bus coordinate file: {buscoords}", code="not_found")
            dss.Command(f'BusCoords "{Path(buscoords).resolve()}"')
    except dss.DSSException as exc:
        raise InputError(f"OpenDSS cannot read {path}: {exc}", code="bad_dss") from exc
    finally:
        quiet.disabled = was_disabled
        os.chdir(cwd)
    notes = _check_elements(dss)
    notes += [str(w) for w in net["opendss_import"]["warnings"] if "imported at solved tap" not in str(w)]
    if not len(net.ext_grid):
        raise InputError(f"{path}: the circuit has no source (Vsource) the import could place", code="bad_dss")
    notes += _switch_states(dss, net)
    notes += _merge_banks(net)
    notes += _add_dg(dss, net)
    from gis.pandapower_io import add_feeder_breakers

    added = add_feeder_breakers(net)
    if added:
        notes.append(f"added {len(added)} closed feeder breaker(s) where a line leaves the substation without a switch: "
                     + ", ".join(str(n) for n in net.switch.loc[added, "name"]))
    if len(net.shunt):
        notes.append(f"{len(net.shunt)} capacitor bank(s) are in the pandapower net but not in the grid format (it has no shunt element)")
    xy, how = _bus_xy(dss, net, spacing_m=spacing_m)
    notes.append(how)
    net.bus["geo"] = bus_geo(net.bus.index, place(xy, origin=origin))
    notes.append("balanced positive-sequence equivalent of the feeder: single- and two-phase sections are "
                 "modelled as three-phase; loads are constant power whatever their OpenDSS model")
    return net, notes


def _check_elements(dss: Any) -> list[str]:
    """Notes on ignored controls and meters; ``InputError`` listing elements of classes not mapped."""
    names = [str(n) for n in dss.Circuit.AllElementNames()]
    by_class: dict[str, list[str]] = {}
    for n in names:
        by_class.setdefault(n.split(".", 1)[0].lower(), []).append(n)
    unknown = sorted(n for c, ns in by_class.items() if c not in MAPPED | IGNORED for n in ns)
    if unknown:
        raise InputError(f"OpenDSS elements this import does not map: {', '.join(unknown[:10])}"
                         + (f" (and {len(unknown) - 10} more)" if len(unknown) > 10 else ""),
                         code="unsupported_element", details={"elements": unknown})
    notes = []
    for c in sorted(by_class.keys() & IGNORED):
        what = "its transformer is imported at the tap OpenDSS solved" if c == "regcontrol" else "controls and meters are not modelled"
        notes.append(f"ignored {len(by_class[c])} {by_class[c][0].split('.')[0]} element(s) ({what})")
    if len(by_class.get("vsource", [])) > 1:
        notes.append(f"only the first of {len(by_class['vsource'])} Vsources is the infeed")
    return notes


def _switch_states(dss: Any, net: Any) -> list[str]:
    """Each switch (an OpenDSS switch line or zero-length jumper) open when either terminal is open;
    pandapower's converter looks at terminal 1 only."""
    fixed = []
    for s, name in net.switch["name"].items():
        dss.Circuit.SetActiveElement(f"Line.{name}")
        closed = not (dss.CktElement.IsOpen(1, 0) or dss.CktElement.IsOpen(2, 0))
        if bool(net.switch.at[s, "closed"]) != closed:
            fixed.append(str(name))
        net.switch.at[s, "closed"] = closed
        net.switch.at[s, "type"] = "LBS"
    return [f"switch(es) open at terminal 2 imported as open: {', '.join(fixed)}"] if fixed else []


def _merge_banks(net: Any) -> list[str]:
    """One transformer per (HV bus, LV bus) pair: a bank of single-phase units becomes one unit
    with their summed rating, mean ratio and parallel short-circuit impedance."""
    notes = []
    for (_, _), group in net.trafo.groupby(["hv_bus", "lv_bus"]):
        if len(group) < 2:
            continue
        sn = float(group["sn_mva"].sum())
        z = [complex(r, math.sqrt(max(k * k - r * r, 0.0))) / 100.0 * sn / s
             for k, r, s in zip(group["vk_percent"], group["vkr_percent"], group["sn_mva"], strict=True)]
        zp = 1.0 / sum(1.0 / zi for zi in z) if all(abs(zi) > 0 for zi in z) else 0j
        keep = group.index[0]
        names = [str(n) for n in group["name"]]
        net.trafo.loc[keep, ["sn_mva", "vn_hv_kv", "vn_lv_kv", "vk_percent", "vkr_percent"]] = [
            sn, float(group["vn_hv_kv"].mean()), float(group["vn_lv_kv"].mean()), abs(zp) * 100.0, zp.real * 100.0]
        net.trafo.loc[keep, "name"] = "+".join(names)
        net.trafo.drop(index=group.index[1:], inplace=True)
        notes.append(f"transformers {', '.join(names)} (one bank) merged into one of {sn * 1000:g} kVA at their mean solved tap")
    return notes


def _add_dg(dss: Any, net: Any) -> list[str]:
    """A static generator per OpenDSS Generator (``kW``) and PVSystem (``Pmpp``, rated output)."""
    import pandapower as pp

    bus_of = {str(n).lower(): int(i) for i, n in net.bus["name"].items()}
    count = 0
    for table, kind in ((dss.Generators, "other"), (dss.PVsystems, "PV")):
        i = table.First()
        while i:
            name = table.Name()
            dss.Circuit.SetActiveElement(f"{'PVSystem' if kind == 'PV' else 'Generator'}.{name}")
            bus = bus_of.get(str(dss.CktElement.BusNames()[0]).split(".", 1)[0].lower())
            p_kw = float(table.Pmpp() if kind == "PV" else table.kW())
            if bus is not None:
                pp.create_sgen(net, bus, p_mw=p_kw / 1000.0, q_mvar=0.0, name=name, type=kind)
                count += 1
            i = table.Next()
    return [f"{count} Generator/PVSystem element(s) imported as DG (Generator kW, PVSystem Pmpp)"] if count else []


def _bus_xy(dss: Any, net: Any, *, spacing_m: float) -> tuple[dict[int, tuple[float, float]], str]:
    """(x, y) in metres of every bus, the source at (0, 0), and a note on how they were found."""
    raw: dict[int, tuple[float, float]] = {}
    for b, name in net.bus["name"].items():
        dss.Circuit.SetActiveBus(str(name))
        if dss.Bus.Coorddefined():
            raw[int(b)] = (float(dss.Bus.X()), float(dss.Bus.Y()))
    edges = network_edges(net)
    source = int(net.ext_grid["bus"].iloc[0])
    if not raw:
        xy = tree_layout(net.bus.index.astype(int), edges, net.ext_grid["bus"].astype(int), spacing_m=spacing_m)
        return xy, f"no bus coordinates: a layered schematic ({spacing_m:g} m rows) from the source"
    ratios = []
    for fb, tb, km in zip(net.line["from_bus"], net.line["to_bus"], net.line["length_km"], strict=True):
        a, b = raw.get(int(fb)), raw.get(int(tb))
        if a is not None and b is not None and math.dist(a, b) > 0 and km > 0:
            ratios.append(float(km) * 1000.0 / math.dist(a, b))
    scale = statistics.median(ratios) if ratios else 1.0
    x0, y0 = raw.get(source, next(iter(raw.values())))
    xy = {b: ((x - x0) * scale, (y - y0) * scale) for b, (x, y) in raw.items()}
    missing = place_near_neighbours(xy, edges, [int(b) for b in net.bus.index], step_m=spacing_m / 4.0)
    how = f"bus coordinates scaled by {scale:.4g} m per unit (the median line drawn at its length)"
    return xy, how + (f"; {len(missing)} bus(es) without coordinates placed next to a neighbour: {', '.join(map(str, net.bus.loc[missing, 'name']))}"
                      if missing else "")
