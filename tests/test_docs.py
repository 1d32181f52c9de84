"""The documentation keeps up with the product: every command and option, every format key, every link.

A reader is sent from the README to one document per reader (docs/*.md).  These tests fail
when a command or option of ``cdcs`` is named in none of them, when a key of the rule-set,
targets or catalogue format is missing from the designer's reference, or when a relative
link leads to a file or a heading that does not exist.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import click
import pytest

from engine.cli import SCHEMAS, main, schema_model
from engine.model import Catalogue

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
DESIGNER = REPO / "docs" / "designer.md"


def shown(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- commands and options -------------------------------------------------------------

def _commands(group: click.Group, path: tuple[str, ...] = ()):
    """(command path, command) for every command under ``group``, groups included."""
    for name, command in sorted(group.commands.items()):
        yield path + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, path + (name,))


def _long_flags(command: click.Command) -> list[str]:
    flags = []
    for param in command.params:
        if isinstance(param, click.Option):
            flags += [f for f in (*param.opts, *param.secondary_opts) if f.startswith("--")]
    return flags


COMMANDS = [" ".join(path) for path, _ in _commands(main)]
OPTIONS = sorted({(" ".join(path), flag) for path, command in _commands(main) for flag in _long_flags(command)}
                 | {("", flag) for flag in _long_flags(main)})


def _all_docs() -> str:
    return "\n".join(text_of(p) for p in DOCS)


def test_the_command_tree_is_walked():
    # the audit group's subcommands are reached, so a new one cannot slip past
    assert {"grade", "audit", "audit replay", "audit verify", "audit log", "audit export"} <= set(COMMANDS)
    assert ("grade", "--format") in OPTIONS and ("", "--version") in OPTIONS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command: str):
    pattern = rf"\bcdcs {re.escape(command)}(?![\w-])"
    assert re.search(pattern, _all_docs()), f"'cdcs {command}' appears in none of {[shown(p) for p in DOCS]}"


@pytest.mark.parametrize("command, flag", OPTIONS, ids=[f"{c or 'cdcs'}:{f}" for c, f in OPTIONS])
def test_every_option_is_documented(command: str, flag: str):
    pattern = rf"(?<![\w-]){re.escape(flag)}(?![\w-])"
    owner = f"cdcs {command}".strip()
    assert re.search(pattern, _all_docs()), f"option {flag} of '{owner}' appears in none of {[shown(p) for p in DOCS]}"


# --- format keys ------------------------------------------------------------------------

def _property_names(schema) -> set[str]:
    """Every property name of a JSON Schema, through nested objects, arrays and ``$defs``."""
    found: set[str] = set()
    if isinstance(schema, dict):
        found.update(schema.get("properties", {}))
        for value in schema.values():
            found |= _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _property_names(value)
    return found


FORMATS = {kind: schema_model(kind) for kind in SCHEMAS} | {"catalogue": Catalogue}
KEYS = sorted((kind, key) for kind, model in FORMATS.items() for key in _property_names(model.model_json_schema()))


def test_the_formats_are_walked_through_their_definitions():
    keys = set(KEYS)
    # keys only reachable through $defs: a tier's award, a fact's history, a target's measure
    assert {("ruleset", "award_pct"), ("ruleset", "rank_by"), ("targets", "weighted_by"),
            ("catalogue", "on_missing"), ("catalogue", "kind")} <= keys


@pytest.mark.parametrize("kind, key", KEYS, ids=[f"{k}:{key}" for k, key in KEYS])
def test_every_format_key_is_in_the_designers_reference(kind: str, key: str):
    assert f"`{key}`" in text_of(DESIGNER), f"the {kind} key `{key}` is not described in {shown(DESIGNER)}"


# --- links ------------------------------------------------------------------------------

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^()\s]+)\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def _prose_lines(text: str):
    """(line number, line) outside fenced and indented code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or line.startswith("    ") or line.startswith("\t"):
            continue
        yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lowercased, punctuation dropped, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = CODE_SPAN.sub(lambda m: m.group(2), text)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _number, line in _prose_lines(text_of(path)):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


@pytest.mark.parametrize("heading, anchor", [
    ("Grading a year", "grading-a-year"),
    ("The year against the programme's targets", "the-year-against-the-programmes-targets"),
    ("A new year, and what changed", "a-new-year-and-what-changed"),
    ("Large files, `--jobs` and progress", "large-files---jobs-and-progress"),
    ("`quota`", "quota"),
    ("`cdcs grade` end to end", "cdcs-grade-end-to-end"),
    ("Eligibility conditions, level and title conditions", "eligibility-conditions-level-and-title-conditions"),
    ("Đơn vị văn hóa — 2 năm", "đơn-vị-văn-hóa--2-năm"),
    ("See [the audit trail](audit.md)", "see-the-audit-trail"),
])
def test_anchors_are_made_as_github_makes_them(heading: str, anchor: str):
    assert slug(heading) == anchor


def _links():
    for path in DOCS:
        for number, line in _prose_lines(text_of(path)):
            for match in LINK.finditer(CODE_SPAN.sub("", line)):
                target = match.group(1) or match.group(2)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not ours to check
                    continue
                yield pytest.param(path, number, target, id=f"{shown(path)}:{number}:{target}")


LINKS = list(_links())


def test_the_documents_link_to_each_other():
    linked = {(shown(p), t.split("#")[0]) for p, _n, t in (param.values for param in LINKS)}
    for doc in DOCS[1:]:
        assert ("README.md", f"docs/{doc.name}") in linked, f"the README does not link to docs/{doc.name}"


@pytest.mark.parametrize("path, line, target", LINKS)
def test_relative_link_leads_to_a_file_and_heading_that_exist(path: Path, line: int, target: str):
    where, _, anchor = target.partition("#")
    destination = (path.parent / unquote(where)).resolve() if where else path
    assert destination.exists(), f"{shown(path)}:{line}: link to {target}: no such file"
    if anchor:
        assert destination.suffix == ".md", f"{shown(path)}:{line}: link to {target}: an anchor into a file that is not Markdown"
        known = anchors(destination)
        assert unquote(anchor) in known, (f"{shown(path)}:{line}: link to {target}: no heading with that anchor in "
                                          f"{shown(destination)}; its anchors: {sorted(known)}")


# --- text -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", DOCS, ids=shown)
def test_documents_are_nfc(path: Path):
    text = text_of(path)
    assert unicodedata.normalize("NFC", text) == text, f"{shown(path)} is not in Unicode NFC"
