"""CGMES (CIM 16 / CGMES 2.4.15 and 3.0) into the grid format, through pandapower's ``cim2pp``.

``python -m gis import-cgmes SRC... OUT.gpkg [--origin LON,LAT]``, where SRC is a zip, a folder
of ``.xml`` files or the files themselves. The only module that imports
``pandapower.converter.cim``. :func:`load_cgmes_net` gives a pandapower net with bus geodata,
which :func:`gis.pandapower_io.from_pandapower` turns into a grid (ids ``bus:N``, ``line:N``,
``switch:N``, ``load:N``, ...). On top of ``cim2pp`` this module:

* checks the set before converting: every file must declare its CGMES profile(s)
  (``md:Model.profile``), and the equipment (EQ), topology (TP) and steady-state hypothesis
  (SSH) profiles must all be there (state variables, SV, are optional);
* takes the voltage-controlling machines (``gen``) as the infeeds when the set has no
  ``ExternalNetworkInjection`` (an ``ext_grid``), e.g. a set exported by PowSyBl;
* names buses after their busbar section, else ``<container>:<node name>``;
* adds a closed feeder breaker where a line leaves a substation without a switch (a bus-branch
  model; :func:`gis.pandapower_io.add_feeder_breakers`);
* places the buses: from the GL (geographical location) profile where it gives them (a
  substation's location for every bus in it, lines as drawn; buses it misses next to a placed
  neighbour); without a GL profile, a layered schematic from the infeeds
  (:func:`gis.schematic.tree_layout`) whose top sits at ``origin``.

See docs/grid-format.md ("CGMES") for what is read and what is approximated.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gis.errors import InputError
from gis.schematic import (
    DEFAULT_ORIGIN,
    bus_geo,
    network_edges,
    place,
    place_near_neighbours,
    to_local,
    tree_layout,
)

#: Profiles the conversion needs; SV (solved state) is optional.
REQUIRED_PROFILES = ("EQ", "TP", "SSH")
#: Largest uncompressed size (bytes) read from a zip.
MAX_UNZIPPED_BYTES = 1 << 30
_PROFILE = re.compile(r"<md:Model\.profile>\s*([^<\s]+)\s*</md:Model\.profile>")
_KINDS = (("Boundary", None), ("Equipment", "EQ"), ("Topology", "TP"), ("SteadyStateHypothesis", "SSH"),
          ("StateVariables", "SV"), ("GeographicalLocation", "GL"), ("DiagramLayout", "DL"), ("Dynamics", "DY"))


def cgmes_profiles(path: Path) -> set[str]:
    """The CGMES profiles (``EQ``, ``TP``, ``SSH``, ``SV``, ``GL``, ``DL``, ``DY``) a file's header
    declares (boundary profiles are not counted); empty when it declares none."""
    with path.open("rb") as f:
        head = f.read(1 << 16).decode("utf-8", errors="replace")
    out = set()
    for uri in _PROFILE.findall(head):
        kind = next((k for word, k in _KINDS if word in uri), None)
        if kind:
            out.add(kind)
    return out


def _files(source: str | Path | Sequence[str | Path], workdir: Path) -> list[Path]:
    """The .xml files of a zip (extracted into ``workdir``), a folder or a list of files."""
    items = [Path(source)] if isinstance(source, str | Path) else [Path(s) for s in source]
    out: list[Path] = []
    for p in items:
        if not p.exists():
            raise InputError(f"no such file or folder: {p}", code="not_found")
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix.lower() == ".xml")
        elif p.suffix.lower() == ".zip" or zipfile.is_zipfile(p):
            out += _unzip(p, workdir)
        else:
            out.append(p)
    if not out:
        raise InputError(f"no CGMES .xml files in {', '.join(map(str, items))}", code="bad_cgmes")
    return out


def _unzip(path: Path, workdir: Path) -> list[Path]:
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path} is not a zip file", code="bad_cgmes")
    with zipfile.ZipFile(path) as z:
        members = [m for m in z.infolist() if not m.is_dir() and m.filename.lower().endswith(".xml")]
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise InputError(f"{path}: more than {MAX_UNZIPPED_BYTES >> 20} MB of XML once unzipped", code="too_large")
        out = []
        for k, m in enumerate(members):
            target = workdir / f"{k:03d}_{Path(m.filename).name}"  # flat names: no path from the archive is used
            target.write_bytes(z.read(m))
            out.append(target)
    if not out:
        raise InputError(f"{path} holds no .xml files, so it is not a CGMES set", code="bad_cgmes")
    return out


def load_cgmes_net(source: str | Path | Sequence[str | Path], *, origin: tuple[float, float] = DEFAULT_ORIGIN,
                   spacing_m: float = 100.0) -> tuple[Any, list[str]]:
    """(pandapower net with bus geodata, notes on what was approximated) of a CGMES set.

    ``source``: a zip, a folder of ``.xml`` files, or the files. ``origin``: (lon, lat) of the
    first infeed in a schematic (without GL profile). ``spacing_m``: the schematic's row and
    column distance (m). Raises :class:`~gis.errors.InputError` for a file that declares no
    CGMES profile, a set without EQ, TP or SSH, or a set ``cim2pp`` cannot convert.
    """
    with tempfile.TemporaryDirectory(prefix="cgmes-") as tmp:
        files = _files(source, Path(tmp))
        profiles = {f: cgmes_profiles(f) for f in files}
        foreign = [f.name for f, p in profiles.items() if not p and not _is_boundary(f)]
        if foreign:
            raise InputError(f"not CGMES (no md:Model.profile in the header): {', '.join(foreign)}", code="bad_cgmes",
                             details={"files": foreign})
        have = set().union(*profiles.values())
        missing = [p for p in REQUIRED_PROFILES if p not in have]
        if missing:
            raise InputError(f"the CGMES set lacks the {', '.join(missing)} profile(s) (has {', '.join(sorted(have)) or 'none'}; "
                             f"files: {', '.join(f.name for f in files)})", code="missing_profile", details={"missing": missing})
        net = _convert(files)
    notes = [] if "SV" in have else ["no SV profile: the solved state is not read (not needed for the grid)"]
    notes += _infeeds(net)
    notes += _reconnect_behind_open_switches(net)
    _name_buses(net)
    from gis.pandapower_io import add_feeder_breakers

    added = add_feeder_breakers(net)
    if added:
        notes.append(f"added {len(added)} closed feeder breaker(s) where a line leaves a substation without a switch")
    notes.append(_place(net, gl="GL" in have, origin=origin, spacing_m=spacing_m))
    if "DL" in have:
        notes.append("the DL (diagram layout) profile is not used")
    dropped = {t: len(net[t]) for t in ("gen", "shunt", "trafo3w", "impedance", "ward", "xward", "dcline") if t in net and len(net[t])}
    if dropped:
        notes.append("not in the grid format: " + ", ".join(f"{n} {t}" for t, n in dropped.items()))
    return net, notes


def _is_boundary(path: Path) -> bool:
    with path.open("rb") as f:
        return b"Boundary" in f.read(1 << 16)


def _convert(files: list[Path]) -> Any:
    from pandapower.converter.cim.cim2pp.from_cim import from_cim

    quiet = [logging.getLogger(n) for n in ("pandapower", "cim", "")]
    levels = [q.level for q in quiet]
    try:
        for q in quiet:
            q.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return from_cim(file_list=[str(f) for f in files])
    except Exception as exc:  # cim2pp raises KeyError/ValueError/... on sets it cannot convert
        raise InputError(f"cim2pp cannot convert the CGMES set ({', '.join(f.name for f in files)}): {exc!r}",
                         code="bad_cgmes") from exc
    finally:
        for q, lv in zip(quiet, levels, strict=True):
            q.setLevel(lv)


def _infeeds(net: Any) -> list[str]:
    """Without an external grid, every in-service voltage-controlling machine becomes one (at its
    voltage set-point); the machines are removed from ``gen``."""
    if len(net.ext_grid):
        return []
    import pandapower as pp

    gen = net.gen[net.gen["in_service"].astype(bool)]
    if not len(gen):
        raise InputError("the CGMES set has no infeed: no ExternalNetworkInjection and no voltage-controlling machine",
                         code="bad_cgmes")
    for _, r in gen.iterrows():
        vm = float(r["vm_pu"]) if pd.notna(r["vm_pu"]) else 1.0
        pp.create_ext_grid(net, int(r["bus"]), vm_pu=vm, name=str(r["name"]))
    net.gen.drop(index=gen.index, inplace=True)
    return [f"no ExternalNetworkInjection: {len(gen)} voltage-controlling machine(s) taken as the infeed(s): {', '.join(map(str, gen['name']))}"]


def _reconnect_behind_open_switches(net: Any) -> list[str]:
    """Lines and transformers ``cim2pp`` took out of service because a terminal is flagged
    disconnected while an open switch sits at one of their buses (how a node-breaker export marks
    the far side of an open switch) are put back in service: the open switch carries the state."""
    sw = net.switch[(net.switch["et"] == "b") & ~net.switch["closed"].astype(bool)]
    open_at = set(sw["bus"].astype(int)) | set(sw["element"].astype(int))
    back = []
    for table, ends in (("line", ("from_bus", "to_bus")), ("trafo", ("hv_bus", "lv_bus"))):
        df = net[table]
        idx = [i for i in df.index[~df["in_service"].astype(bool)] if any(int(df.at[i, e]) in open_at for e in ends)]
        net[table].loc[idx, "in_service"] = True
        back += [f"{table} {df.at[i, 'name']}" for i in idx]
    return [f"kept in service behind an open switch (terminal flagged disconnected): {', '.join(back)}"] if back else []


def _name_buses(net: Any) -> None:
    bus = net.bus
    busbar = bus["Busbar_name"] if "Busbar_name" in bus.columns else pd.Series(None, index=bus.index)
    container = bus["ConnectivityNodeContainer_id"] if "ConnectivityNodeContainer_id" in bus.columns else pd.Series(None, index=bus.index)
    bus["name"] = [
        str(bb) if isinstance(bb, str) and bb else f"{str(c).lstrip('_')}:{n}" if isinstance(c, str) else str(n)
        for bb, c, n in zip(busbar, container, bus["name"], strict=True)
    ]


def _place(net: Any, *, gl: bool, origin: tuple[float, float], spacing_m: float) -> str:
    """Fill ``bus.geo``; returns a note on where the coordinates came from."""
    edges = network_edges(net)
    buses = [int(b) for b in net.bus.index]
    known: dict[int, tuple[float, float]] = {}
    if gl and "geo" in net.bus.columns:
        from shapely.geometry import shape

        for b, g in net.bus["geo"].items():
            if isinstance(g, str):
                p = shape(json.loads(g))
                known[int(b)] = (float(p.x), float(p.y))
    if known:
        centre = next(iter(known.values()))
        xy = to_local(known, origin=centre)
        missing = place_near_neighbours(xy, edges, buses, step_m=spacing_m / 4.0)
        net.bus["geo"] = bus_geo(net.bus.index, place(xy, origin=centre))
        return "coordinates from the GL profile" + (f"; {len(missing)} bus(es) it does not locate placed next to a neighbour" if missing else "")
    xy = tree_layout(buses, edges, net.ext_grid["bus"].astype(int), spacing_m=spacing_m)
    net.bus["geo"] = bus_geo(net.bus.index, place(xy, origin=origin))
    if "geo" in net.line.columns:
        net.line["geo"] = None
    return f"no GL profile: a layered schematic ({spacing_m:g} m rows) from the infeed placed at {origin[0]:g}, {origin[1]:g}"
