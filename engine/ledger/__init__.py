"""The ledger: an append-only SQLite file of hash-chained entries (runs, appeals,
overrides), and the decision data each unit's record holds, packed.  May import
:mod:`engine.authoring` and what it may; it renders nothing.
"""
