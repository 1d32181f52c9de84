"""The ledger: an append-only SQLite file of hash-chained entries (runs, appeals,
overrides), the decision data each unit's record holds, packed, and the facts earlier
years give a unit (last year's grade, a title's streak).  May import
:mod:`engine.authoring` and what it may; it renders nothing.
"""
