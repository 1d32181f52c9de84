"""Safe YAML loading that remembers where every value came from.

Rule sets come from other people: only the safe constructor is used, duplicate keys
are errors (a silently overwritten rule is the worst kind of bug), and every value
keeps its line and column so that pydantic's error locations map back to the file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import yaml

from engine.errors import Problem
from engine.limits import MAX_DEPTH, MAX_VALUES_PER_CHAR
from engine.nfc import nfc_value

Path = tuple[Any, ...]


@dataclass
class Located:
    """Plain data plus the position of every value (and of every mapping key)."""

    data: Any
    file: str
    values: dict[Path, tuple[int, int]]
    keys: dict[Path, tuple[int, int]]
    lines: Optional[list[str]] = None  # the file's text, to place errors inside a value
    extends: Optional["Located"] = None  # the file this one extends (a catalogue's earlier version)

    def declaring(self, path: Path) -> "Located":
        """The file that writes ``path`` itself: this one, or the one it extends."""
        if tuple(path) in self.keys or tuple(path) in self.values or self.extends is None:
            return self
        found = self.extends.declaring(path)
        return found if tuple(path) in found.keys or tuple(path) in found.values else self

    def position(self, path: Path, key: bool = False) -> tuple[int | None, int | None]:
        """Position of the value at ``path``, or of its nearest located parent."""
        table = self.keys if key else self.values
        for cut in range(len(path), -1, -1):
            probe = tuple(path[:cut])
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
        return (None, None)

    def problem(self, path: Path, message: str, key: bool = False, severity: str = "error") -> Problem:
        line, column = self.position(path, key)
        return Problem(self.file, message, line, column, severity)




NULLS = frozenset({"", "~", "null", "Null", "NULL"})


def load(text: str, file: str, scalars_as_text: bool = False) -> tuple[Located | None, list[Problem]]:
    """Parse YAML text; returns the located data or the problems that stop it.

    ``scalars_as_text``: every value is the text as written (a blank or ``null`` is None),
    for data typed later by a catalogue. YAML 1.1 would read ``0123`` as 83, ``No`` and
    ``off`` as false and ``1:30`` as 90, and a grade would change without a word.
    """
    try:
        node = _compose(text)
    except RecursionError:
        return None, [Problem(file, f"this YAML is nested too deeply (at most {MAX_DEPTH} levels are read)")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        structural = "block" in str(exc.problem) or "not allowed here" in str(exc.problem)
        hint = _indentation_hint(text, line) if line and structural else ""
        return None, [Problem(file, f"this is not valid YAML: {exc.problem}{hint}", line, col)]
    except yaml.YAMLError as exc:
        return None, [Problem(file, f"this is not valid YAML: {exc}")]
    if node is None:
        return None, [Problem(file, "the file is empty", 1, 1)]
    located = Located(None, file, {}, {}, text.splitlines())
    problems: list[Problem] = []
    constructor = _TextConstructor() if scalars_as_text else yaml.SafeLoader("")
    walk = _Walk(constructor, budget=MAX_VALUES_PER_CHAR * len(text) + 10_000)
    try:
        located.data = _build(node, (), located, problems, walk)
    except _TooLarge as exc:
        return None, [Problem(file, exc.message, exc.line, exc.column)]
    return located, problems


def _indentation_hint(text: str, line: int) -> str:
    """What a person needs when YAML's block structure breaks: this line's indentation against the key above."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    here = lines[line - 1]
    lead = here[:len(here) - len(here.lstrip())]
    if "\t" in lead:
        return f"; line {line} is indented with a tab: YAML indents with spaces only"
    indent = len(lead)
    for above in range(line - 2, -1, -1):
        stripped = lines[above].strip()
        if not stripped or stripped.startswith("#"):
            continue
        column = len(lines[above]) - len(lines[above].lstrip(" "))
        if stripped.startswith("- "):  # the keys of a list item line up after its dash
            column, stripped = column + 2, stripped[2:].lstrip()
        key = stripped.split(":", 1)[0].strip()
        if indent == column:
            return ""
        return (f"; line {line} is indented {indent} spaces but '{key}' on line {above + 1} is indented {column}: "
                "the keys of one mapping must start in the same column")
    return ""


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)  # libyaml's parser: the same nodes and marks, ten times faster


def _compose(text: str):
    """The document's node tree; a file that does not parse is parsed again by PyYAML, whose messages we show."""
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


class _TextConstructor:
    """Builds a scalar as the text written, whatever YAML would make of it."""

    @staticmethod
    def construct_object(node, deep: bool = False) -> Any:
        if not node.style and node.value in NULLS:  # plain, not quoted (libyaml says "", PyYAML None)
            return None
        return node.value




class _TooLarge(Exception):
    def __init__(self, message: str, node) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, node.start_mark.line + 1, node.start_mark.column + 1


@dataclass
class _Walk:
    """What building the data may still spend: an alias bomb (``&a [*b, *b, …]``) is refused, not expanded."""

    constructor: Any
    budget: int
    open: set = field(default_factory=set)  # ids of the collections being built: an alias to one of them is a loop


def _build(node, path: Path, located: Located, problems: list[Problem], walk: _Walk) -> Any:
    walk.budget -= 1
    if walk.budget < 0:
        raise _TooLarge("aliases here expand to far more values than the file holds; write the values out", node)
    if len(path) > MAX_DEPTH:
        raise _TooLarge(f"nested too deeply (at most {MAX_DEPTH} levels are read)", node)
    if id(node) in walk.open:
        raise _TooLarge("this alias refers to a value that contains it; it would never end", node)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        walk.open.add(id(node))
        try:
            return _collection(node, path, located, problems, walk)
        finally:
            walk.open.discard(id(node))
    located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    return _scalar(node, located, problems, walk)


# What PyYAML's constructors raise for a value they cannot build: an unknown tag, 2024-02-30, month 13,
# year 20240, a tag with nothing after it (``!!int`` alone), ``!!bool maybe``.
_UNBUILDABLE = (yaml.constructor.ConstructorError, ValueError, OverflowError, IndexError, KeyError, TypeError)


def _scalar(node, located: Located, problems: list[Problem], walk: _Walk) -> Any:
    """The value of a scalar node, or None with a located problem."""
    try:
        return nfc_value(walk.constructor.construct_object(node, deep=True))
    except _UNBUILDABLE as exc:
        why = getattr(exc, "problem", None) or exc
        if isinstance(exc, (IndexError, KeyError, TypeError)):  # PyYAML's own words would be "string index out of range"
            why = f"{node.value!r} is not a value of the tag {node.tag.replace('tag:yaml.org,2002:', '!!')}"
        problems.append(Problem(located.file, f"cannot read this value: {why}",
                                node.start_mark.line + 1, node.start_mark.column + 1))
        return None


def _collection(node, path: Path, located: Located, problems: list[Problem], walk: _Walk) -> Any:
    located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(located.file, "YAML merge keys (<<) are not supported in rule files; write the values out",
                                        key_node.start_mark.line + 1, key_node.start_mark.column + 1))
                continue
            if isinstance(key_node, yaml.ScalarNode):
                before = len(problems)
                key = _scalar(key_node, located, problems, walk)
                if len(problems) > before:
                    continue
            else:
                key = None
            if key is None or isinstance(key, (list, dict)):
                problems.append(Problem(located.file, "a mapping key must be a plain name",
                                        key_node.start_mark.line + 1, key_node.start_mark.column + 1))
                continue
            if key in result:
                first = located.keys.get(path + (key,), (None, None))[0]
                problems.append(Problem(located.file, f"duplicate key '{key}' (first given on line {first})",
                                        key_node.start_mark.line + 1, key_node.start_mark.column + 1))
                continue
            located.keys[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(value_node, path + (key,), located, problems, walk)
        return result
    return [_build(child, path + (i,), located, problems, walk) for i, child in enumerate(node.value)]
