"""The arithmetic of a grade, on decision outcomes, whichever back end decided them.

Points from the criteria's tiers, the stage sums, vetoes, the choice of a grade level,
the titles, and the excellence quota over a cohort.  May import :mod:`engine.compiling`
and what it may; it never calls a back end.
"""
