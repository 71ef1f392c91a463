"""Cable and overhead-line types, and the electrical parameters of every line.

A line's impedance and ampacity come, in this order, from its own columns
(``r_ohm_per_km``, ``x_ohm_per_km``, ``c_nf_per_km``, ``rating_a``), from the
grid's ``line_types`` table by its ``type``, from the built-in catalogue
:data:`LINE_TYPES` by its ``type``, and last from the default type of its kind
and voltage (:func:`default_type`). Every line that needed a default is named
in a validation warning; nothing is filled silently.

Figures are typical manufacturer data: resistance at conductor temperature,
reactance and capacitance per km, ampacity laid in ground (cables) or in free
air (overhead) at 25 °C. The European types are those pandapower ships as
standard types; the Chinese ones (YJV22, JKLYJ, LGJ) are typical values of
8.7/15 kV copper three-core XLPE cables, 10 kV aerial XLPE and bare ACSR
conductors. A utility should give its own ``line_types`` table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.errors import Problem


@dataclass(frozen=True)
class LineType:
    """Electrical data of a conductor type: ohm/km, nF/km and amperes."""

    kind: str  # cable | overhead
    r_ohm_per_km: float
    x_ohm_per_km: float
    c_nf_per_km: float
    rating_a: float


def _t(kind: str, r: float, x: float, c: float, a: float) -> LineType:
    return LineType(kind, r, x, c, a)


LINE_TYPES: dict[str, LineType] = {
    # aluminium XLPE single-core cables (European)
    "NA2XS2Y 1x70 RM/25 6/10 kV": _t("cable", 0.443, 0.123, 280, 217),
    "NA2XS2Y 1x95 RM/25 6/10 kV": _t("cable", 0.313, 0.123, 315, 249),
    "NA2XS2Y 1x120 RM/25 6/10 kV": _t("cable", 0.253, 0.113, 340, 280),
    "NA2XS2Y 1x150 RM/25 6/10 kV": _t("cable", 0.206, 0.110, 360, 315),
    "NA2XS2Y 1x185 RM/25 6/10 kV": _t("cable", 0.161, 0.110, 406, 358),
    "NA2XS2Y 1x240 RM/25 6/10 kV": _t("cable", 0.122, 0.105, 456, 416),
    "NA2XS2Y 1x70 RM/25 12/20 kV": _t("cable", 0.443, 0.132, 190, 220),
    "NA2XS2Y 1x95 RM/25 12/20 kV": _t("cable", 0.313, 0.132, 216, 252),
    "NA2XS2Y 1x120 RM/25 12/20 kV": _t("cable", 0.253, 0.119, 230, 283),
    "NA2XS2Y 1x150 RM/25 12/20 kV": _t("cable", 0.206, 0.116, 250, 319),
    "NA2XS2Y 1x185 RM/25 12/20 kV": _t("cable", 0.161, 0.117, 273, 362),
    "NA2XS2Y 1x240 RM/25 12/20 kV": _t("cable", 0.122, 0.112, 304, 421),
    # copper XLPE three-core armoured cables, 8.7/15 kV (China)
    "YJV22-8.7/15 3x70": _t("cable", 0.268, 0.110, 250, 215),
    "YJV22-8.7/15 3x95": _t("cable", 0.193, 0.105, 280, 260),
    "YJV22-8.7/15 3x120": _t("cable", 0.153, 0.100, 310, 295),
    "YJV22-8.7/15 3x150": _t("cable", 0.124, 0.097, 340, 330),
    "YJV22-8.7/15 3x185": _t("cable", 0.0991, 0.094, 370, 375),
    "YJV22-8.7/15 3x240": _t("cable", 0.0754, 0.090, 410, 430),
    "YJV22-8.7/15 3x300": _t("cable", 0.0601, 0.087, 450, 485),
    # aluminium-steel overhead conductors (European)
    "34-AL1/6-ST1A 10.0": _t("overhead", 0.8342, 0.360, 9.70, 170),
    "48-AL1/8-ST1A 10.0": _t("overhead", 0.5939, 0.350, 10.10, 210),
    "70-AL1/11-ST1A 10.0": _t("overhead", 0.4132, 0.339, 10.40, 290),
    "94-AL1/15-ST1A 10.0": _t("overhead", 0.3060, 0.330, 10.75, 350),
    "122-AL1/20-ST1A 10.0": _t("overhead", 0.2376, 0.323, 11.10, 410),
    "149-AL1/24-ST1A 10.0": _t("overhead", 0.1940, 0.315, 11.25, 470),
    "34-AL1/6-ST1A 20.0": _t("overhead", 0.8342, 0.382, 9.15, 170),
    "48-AL1/8-ST1A 20.0": _t("overhead", 0.5939, 0.372, 9.50, 210),
    "70-AL1/11-ST1A 20.0": _t("overhead", 0.4132, 0.360, 9.70, 290),
    "94-AL1/15-ST1A 20.0": _t("overhead", 0.3060, 0.350, 10.00, 350),
    "122-AL1/20-ST1A 20.0": _t("overhead", 0.2376, 0.344, 10.30, 410),
    "149-AL1/24-ST1A 20.0": _t("overhead", 0.1940, 0.337, 10.50, 470),
    "184-AL1/30-ST1A 20.0": _t("overhead", 0.1571, 0.330, 10.75, 535),
    "243-AL1/39-ST1A 20.0": _t("overhead", 0.1188, 0.320, 11.00, 645),
    # 10 kV aerial XLPE aluminium and bare ACSR (China)
    "JKLYJ-10/70": _t("overhead", 0.443, 0.320, 12.0, 265),
    "JKLYJ-10/120": _t("overhead", 0.253, 0.300, 13.0, 360),
    "JKLYJ-10/150": _t("overhead", 0.206, 0.290, 13.5, 410),
    "JKLYJ-10/185": _t("overhead", 0.164, 0.285, 14.0, 470),
    "JKLYJ-10/240": _t("overhead", 0.125, 0.280, 14.5, 550),
    "LGJ-70/10": _t("overhead", 0.412, 0.360, 9.5, 275),
    "LGJ-120/20": _t("overhead", 0.236, 0.350, 10.0, 380),
    "LGJ-185/30": _t("overhead", 0.154, 0.340, 10.5, 510),
    "LGJ-240/30": _t("overhead", 0.118, 0.330, 11.0, 610),
}


def default_type(kind: str, nominal_kv: float) -> str:
    """The built-in type assumed for a line of ``kind`` with no type and no impedance."""
    if kind == "overhead":
        return "94-AL1/15-ST1A 10.0" if nominal_kv <= 15 else "94-AL1/15-ST1A 20.0"
    return "NA2XS2Y 1x185 RM/25 6/10 kV" if nominal_kv <= 15 else "NA2XS2Y 1x185 RM/25 12/20 kV"


PARAMS = ("r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "rating_a")


def _catalogue(line_types: pd.DataFrame | None) -> pd.DataFrame:
    """Built-in types overlaid by the grid's own ``line_types`` table, indexed by type name."""
    rows = {name: {p: getattr(t, p) for p in PARAMS} for name, t in LINE_TYPES.items()}
    if line_types is not None and len(line_types):
        for row in line_types.itertuples(index=False):
            name = str(row.type)
            c = getattr(row, "c_nf_per_km", np.nan)
            rows[name] = {
                "r_ohm_per_km": float(row.r_ohm_per_km),
                "x_ohm_per_km": float(row.x_ohm_per_km),
                "c_nf_per_km": 0.0 if pd.isna(c) else float(c),
                "rating_a": float(row.rating_a),
            }
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(PARAMS))


def resolve_lines(
    lines: pd.DataFrame, line_types: pd.DataFrame | None, *, nominal_kv: float
) -> tuple[pd.DataFrame, list[Problem]]:
    """Electrical parameters of every line (aligned with ``lines``) and the warnings they need.

    Returns a DataFrame with ``r_ohm_per_km``, ``x_ohm_per_km``, ``c_nf_per_km``
    (ohm/km, nF/km), ``rating_a`` (A) and ``source`` (``"line"``, ``"type"`` or
    ``"default"``: where the impedance came from).
    """
    cat = _catalogue(line_types)
    n = len(lines)
    out = pd.DataFrame(index=lines.index)
    types = lines["type"] if "type" in lines.columns else pd.Series([None] * n, index=lines.index, dtype=object)
    known = types.notna() & types.isin(cat.index)
    unknown = types.notna() & ~known
    kinds = lines["kind"].to_numpy(dtype=object)
    fallback = pd.Series([default_type(str(k), nominal_kv) for k in kinds], index=lines.index)
    by_type = cat.reindex(types.where(known, fallback)).set_axis(lines.index)
    problems: list[Problem] = []
    own_impedance = lines["r_ohm_per_km"].notna() & lines["x_ohm_per_km"].notna()
    for p in PARAMS:
        own = lines[p] if p in lines.columns else pd.Series(np.nan, index=lines.index)
        out[p] = own.where(own.notna(), by_type[p]).astype(float)
    out["source"] = np.where(own_impedance, "line", np.where(known, "type", "default"))
    ids = lines["id"]
    # an unknown type name matters only where the default type fills a value the line does not give
    gives_all = pd.concat([lines[p] if p in lines.columns else pd.Series(np.nan, index=lines.index) for p in PARAMS],
                          axis=1).notna().all(axis=1)
    unknown &= ~gives_all
    if unknown.any():
        names = sorted({str(t) for t in types[unknown]})
        problems.append(Problem(
            "unknown_line_type", "warning",
            f"lines name {len(names)} type(s) neither in the grid's line_types table nor in the built-in "
            f"catalogue ({', '.join(names[:5])}); their missing values are taken from the default type of their kind",
            tuple(map(str, ids[unknown][:50])), "lines"))
    no_imp = ~own_impedance & ~known & types.isna()
    if no_imp.any():
        problems.append(Problem(
            "missing_impedance", "warning",
            f"{int(no_imp.sum())} line(s) have neither a type nor r/x: the default type of their kind is assumed "
            f"({default_type('cable', nominal_kv)} for cables, {default_type('overhead', nominal_kv)} for overhead lines)",
            tuple(map(str, ids[no_imp][:50])), "lines"))
    no_rating = lines["rating_a"].isna() & ~known
    if no_rating.any():
        problems.append(Problem(
            "missing_rating", "warning",
            f"{int(no_rating.sum())} line(s) have no rating_a and no known type: the default type's ampacity is assumed",
            tuple(map(str, ids[no_rating][:50])), "lines"))
    zero = (out["r_ohm_per_km"].abs() + out["x_ohm_per_km"].abs() == 0) | (lines["length_m"].fillna(1.0) <= 0 if "length_m" in lines.columns else False)
    if zero.any():
        problems.append(Problem(
            "zero_impedance", "warning",
            f"{int(zero.sum())} line(s) have zero impedance (r = x = 0 or zero length): the power flow gives them "
            "a tiny reactance, like a closed switch; check the data",
            tuple(map(str, ids[zero][:50])), "lines"))
    return out, problems


BUSBAR_RATING_A = 2500.0  # assumed rating of a busbar section that gives none


def transformer_impedance(sn_kva: float) -> tuple[float, float]:
    """Short-circuit voltage and its resistive part (``vk_percent``, ``vkr_percent``) assumed for a
    transformer that gives none: 12 % / 0.4 % from 2.5 MVA up (HV/MV), else 6 % / 1.2 % (MV/LV)."""
    return (12.0, 0.4) if sn_kva >= 2500.0 else (6.0, 1.2)
