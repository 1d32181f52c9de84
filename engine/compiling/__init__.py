"""A loaded rule set made into a plan, once, before any unit is seen.

Every condition parsed and type-checked against the catalogue, the decisions by stage,
the outline the grade arithmetic reads, exact integer forms of facts for the back ends,
and a programme's targets.  May import :mod:`engine.reading` and what it may.
"""
