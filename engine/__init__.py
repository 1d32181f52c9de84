"""Grading engine for grassroots trade unions (CĐCS): YAML rule sets in, explained grades out."""

__version__ = "0.1.0"
