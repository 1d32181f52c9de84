"""The condition language: its grammar, the parser that reads a condition into a syntax
tree (never ``eval``), and the type checks against the catalogue's facts.  Every later
step reads conditions only as these trees.  May import only the shared words
(``errors``, ``limits``, ``model``).
"""
