"""The shipped demo city (Monaco), as package data: see ``README.md`` beside this file.

``DATA_DIR`` is the folder holding ``monaco.gpkg``, ``monaco_roads.graphml``,
``crews.csv``, ``generators.csv`` and ``jobs.csv``, wherever the package is
installed (a source checkout or a wheel in site-packages).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA_DIR", "GRID", "ROADS", "GENERATORS"]

DATA_DIR = Path(__file__).resolve().parent
GRID = DATA_DIR / "monaco.gpkg"
ROADS = DATA_DIR / "monaco_roads.graphml"
GENERATORS = DATA_DIR / "generators.csv"
