"""The domain and its persistence: protocols and their lifecycle, arms, leads,
assignment, deals, CRM importers, attribution, and the SQL that turns rows into per-arm
sufficient statistics. Imports :mod:`stats` and sqlmodel, never the web layer."""
