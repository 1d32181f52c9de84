"""Results written for people: the table, CSV, XLSX, JSON and JSONL, and the committee's
report on a year against a programme's targets (text, page, spreadsheet).  May import
:mod:`engine.ledger` and what it may.
"""
