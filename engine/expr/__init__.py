"""The condition language: grammar, parser, syntax tree and type checks."""
