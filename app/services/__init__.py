"""Glue between the web shell and the core: one small module per core area.

Each module imports the core lazily and turns a missing piece into
:class:`app.errors.NotAvailable` (HTTP 503), so a signature change in the core is a
one-place fix here.
"""
