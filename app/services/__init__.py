"""Glue between the web shell and the core: one small module per core area.

Each module imports the core functions and option types it calls by name from the
core packages' public API (``gis``, ``planning.outages``, ``planning.faults``,
``routing``), so mypy checks every call across the seam and a signature change in
the core fails the type check here. Options sent by API clients are checked by name
against the core's option dataclasses (:func:`app.services.options.check_option_names`).
"""
