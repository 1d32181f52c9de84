"""Tools for criteria designers: test cases and their coverage, the semantic diff of two
versions, the impact of a new version on real units, a new year or an amendment derived
from a parent, and static analysis (:mod:`engine.authoring.lint`).  May import
:mod:`engine.explaining` and what it may.
"""
