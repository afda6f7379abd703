"""Intake's use cases, one module per concern. Each names what it needs in its signature (a
pool or a connection, the values it decides on, ``now``), does its work in one transaction
and returns values or raises the errors of ``errors.py`` (entrypoints turn them into
answers)."""
