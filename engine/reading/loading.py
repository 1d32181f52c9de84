"""Rule set and catalogue files → validated models, or every problem with its position."""
from __future__ import annotations

import hashlib
import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any, Optional

from pydantic import BaseModel, ValidationError

from engine import yamlpos
from engine.errors import Problem, RuleSetError, did_you_mean
from engine.limits import RULES_FILE_BYTES, size_problem
from engine.model import Catalogue, RuleSet

RULES_DIR_NAME = "rules"


@dataclass(frozen=True)
class LoadedRuleSet:
    """A validated rule set with its catalogue and the positions of both files."""

    ruleset: RuleSet
    catalogue: Catalogue
    source: yamlpos.Located
    catalogue_source: yamlpos.Located
    path: str

    @property
    def sha256(self) -> str:
        """Hash of the canonical content (rule set and catalogue), not of the file's bytes."""
        return canonical_sha256(self.ruleset, self.catalogue)

    @property
    def canonical(self) -> str:
        """The canonical content itself: what the hash is of, and what an audit record keeps."""
        return canonical_text(self.ruleset, self.catalogue)

    @property
    def ordered(self) -> str:
        """The same content in the files' order (groups, facts): what explanations are listed in."""
        return canonical_text(self.ruleset, self.catalogue, sort_keys=False)


# Keys the format gained after rule sets were released are left out of the canonical
# content while unused, so that those rule sets keep their hash.
RULESET_KEYS_ADDED_LATER = {"groups", "params"}
CATALOGUE_KEYS_ADDED_LATER = {"extends", "constraints"}
FACT_KEYS_ADDED_LATER = {"history"}
# Keys the format gained inside rules (a criterion, a tier, a veto...): left out wherever unused.
NESTED_KEYS_ADDED_LATER = {"reference", "missing_cohort", "rounding", "at_least_one_from", "exempt_if"}
# Keys that speak to the static analysis only, never to how a unit is graded: left out of
# the canonical content always, so that a rule set means (and hashes) the same with them.
FACT_KEYS_FOR_ANALYSIS = {"reports_only"}


def canonical_text(ruleset: RuleSet, catalogue: Catalogue, sort_keys: bool = True) -> str:
    """One JSON text per meaning: sorted keys, no spaces, NFC text as UTF-8."""
    rs = _without_unused_within(_without_unused(ruleset.model_dump(mode="json"), RULESET_KEYS_ADDED_LATER),
                                NESTED_KEYS_ADDED_LATER)
    cat = _without_unused_within(_without_unused(catalogue.model_dump(mode="json"), CATALOGUE_KEYS_ADDED_LATER),
                                 NESTED_KEYS_ADDED_LATER)
    cat["facts"] = {name: {k: v for k, v in _without_unused(spec, FACT_KEYS_ADDED_LATER).items()
                           if k not in FACT_KEYS_FOR_ANALYSIS} for name, spec in cat["facts"].items()}
    return json.dumps({"ruleset": rs, "catalogue": cat}, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))


def _without_unused(data: dict, keys: set[str]) -> dict:
    return {k: v for k, v in data.items() if not (k in keys and v is None)}


def _without_unused_within(value: Any, keys: set[str]) -> Any:
    """``value`` with every unused (None) entry of ``keys`` left out, at any depth."""
    if isinstance(value, dict):
        return {k: _without_unused_within(v, keys) for k, v in value.items() if not (k in keys and v is None)}
    if isinstance(value, list):
        return [_without_unused_within(v, keys) for v in value]
    return value


def canonical_sha256(ruleset: RuleSet, catalogue: Catalogue) -> str:
    return hashlib.sha256(canonical_text(ruleset, catalogue).encode("utf-8")).hexdigest()


def loaded_from_canonical(canonical: str, ordered: str, label: str) -> LoadedRuleSet:
    """A rule set from its stored content, with no file behind it (an audit replay).

    ``ordered`` is read (it keeps the files' order of groups and facts); it must mean
    exactly ``canonical``, which must be canonical, or the stored rule set was altered.
    """
    try:
        data = json.loads(ordered)
        ruleset, catalogue = RuleSet.model_validate(data["ruleset"]), Catalogue.model_validate(data["catalogue"])
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise RuleSetError([Problem(label, f"the stored rule set cannot be read: {str(exc).splitlines()[0]}")]) from None
    if canonical_text(ruleset, catalogue) != canonical or canonical_text(ruleset, catalogue, sort_keys=False) != ordered:
        raise RuleSetError([Problem(label, "the stored rule set is not what its canonical text says: it was altered")])
    source = yamlpos.Located(data["ruleset"], label, {}, {})
    return LoadedRuleSet(ruleset, catalogue, source, yamlpos.Located(data["catalogue"], label, {}, {}), label)


def display_path(path: FsPath) -> str:
    """Paths in messages are relative to where the user stands, as they typed them."""
    try:
        return str(path.resolve().relative_to(FsPath.cwd().resolve()))
    except ValueError:
        return str(path)


def read_text(path: FsPath) -> str:
    """File text as UTF-8, or a located problem naming why it cannot be read."""
    shown = display_path(path)
    try:
        if path.exists() and not path.is_dir() and not path.is_file():  # a pipe would wait for ever, a device never end
            raise RuleSetError([Problem(shown, "not a regular file (a pipe, a socket or a device); save it to a file")])
        too_large = path.is_file() and size_problem(path, RULES_FILE_BYTES, "rule set, catalogue or case file")
        if too_large:
            raise RuleSetError([Problem(shown, too_large)])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RuleSetError([Problem(shown, "no such file")]) from None
    except IsADirectoryError:
        raise RuleSetError([Problem(shown, "this is a folder, not a file")]) from None
    except OSError as exc:
        raise RuleSetError([Problem(shown, f"cannot read the file: {exc.strerror}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RuleSetError([Problem(shown, f"the file is not UTF-8 text (byte {exc.start})")]) from None


def load_model(path: FsPath, model: type[BaseModel]) -> tuple[Any, yamlpos.Located]:
    """Load one YAML file into ``model``, collecting every problem before raising."""
    shown = display_path(path)
    located, problems = yamlpos.load(read_text(path), shown)
    if located is None:
        raise RuleSetError(problems)
    if not isinstance(located.data, dict):
        raise RuleSetError(problems + [located.problem((), f"expected a mapping of keys at the top of the file, found {type(located.data).__name__}")])
    try:
        value = model.model_validate(located.data)
    except ValidationError as exc:
        raise RuleSetError(problems + pydantic_problems(exc, located, model)) from None
    if problems:
        raise RuleSetError(problems)
    return value, located


def load_catalogue(path: FsPath, _chain: tuple[FsPath, ...] = ()) -> tuple[Catalogue, yamlpos.Located]:
    """A catalogue, merged over the one it ``extends`` (its facts and groups first, then this file's)."""
    shown = display_path(path)
    located, problems = yamlpos.load(read_text(path), shown)
    if located is None:
        raise RuleSetError(problems)
    data = located.data
    if not isinstance(data, dict):
        raise RuleSetError(problems + [located.problem((), f"expected a catalogue: a mapping with id, version, groups and facts, found {type(data).__name__}")])
    parent_ref = data.get("extends")
    if isinstance(parent_ref, str):
        parent_path = path.parent / parent_ref
        if parent_path.resolve() in _chain or parent_path.resolve() == path.resolve():
            raise RuleSetError([located.problem(("extends",), f"extends: '{parent_ref}' extends this catalogue again (a cycle)")])
        if not parent_path.is_file():
            raise RuleSetError([located.problem(("extends",), f"extends: no such file '{parent_ref}' (looked for {display_path(parent_path)})")])
        parent, located.extends = load_catalogue(parent_path, _chain + (path.resolve(),))
        inherited = parent.model_dump(mode="json", exclude_unset=True)
        data = dict(data, groups={**inherited["groups"], **(data.get("groups") or {})},
                    facts={**inherited["facts"], **(data.get("facts") or {})})
        constraints = {**(inherited.get("constraints") or {}), **(data.get("constraints") or {})}
        if constraints:
            data["constraints"] = constraints
    try:
        value = Catalogue.model_validate(data)
    except ValidationError as exc:
        raise RuleSetError(problems + pydantic_problems(exc, located, Catalogue)) from None
    if problems:
        raise RuleSetError(problems)
    return value, located


def pydantic_problems(exc: ValidationError, located: yamlpos.Located, model: type[BaseModel]) -> list[Problem]:
    problems = []
    seen = set()
    for err in exc.errors():
        loc = tuple(s for s in err["loc"] if not _is_union_branch(s))
        where = describe(located.data, loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = allowed_keys(model, loc[:-1])
            hint = did_you_mean(str(loc[-1]), allowed)
            msg = f"{describe(located.data, loc[:-1]) or 'top level'}: unexpected key '{loc[-1]}'.{hint} Allowed keys are {sorted(allowed)}"
            problem = located.problem(loc, msg, key=True)
        elif kind == "missing":
            problem = located.problem(loc[:-1], f"{describe(located.data, loc[:-1]) or 'top level'}: missing required key '{loc[-1]}'")
        else:
            value = err.get("input")
            shown = "" if isinstance(value, (dict, list)) else f" (found {value!r})"
            hint = ""
            if kind in ("literal_error", "enum") and isinstance(value, str):
                hint = did_you_mean(value, re.findall(r"'([^']+)'", str(err.get("ctx", {}).get("expected", ""))))
            message = err["msg"].removeprefix("Value error, ")
            if kind == "value_error":
                shown = ""  # our own validators already quote the value
            problem = located.problem(loc, f"{where}: {message}{shown}.{hint}".rstrip(".").replace("..", "."))
        if (problem.line, problem.column, problem.message) not in seen:  # a union reports each branch
            seen.add((problem.line, problem.column, problem.message))
            problems.append(problem)
    return problems


def describe(data: Any, loc: tuple) -> str:
    """``levels[excellent].conditions[all_tasks_on_time].require``: ids, not indexes, for designers."""
    out, node = "", data
    for step in loc:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and 0 <= step < len(node) else None
            ident = item.get("id") if isinstance(item, dict) else None
            if ident is None and isinstance(item, dict):
                ident = item.get("name")
            out += f"[{ident if isinstance(ident, (str, int)) else step}]"
            node = item
        elif _is_union_branch(step):
            continue  # pydantic's union-branch names are noise to a designer
        else:
            out += ("." if out else "") + str(step)
            node = node.get(step) if isinstance(node, dict) else None
    return out


def _is_union_branch(step: Any) -> bool:
    text = str(step)
    return text in ("int", "str") or ("[" in text and ("(" in text or "," in text)) or text.startswith("dict[")


def allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the model found at ``loc`` (for 'Allowed keys are [...]')."""
    current: Any = model
    for step in loc:
        current = _unwrap(current)
        if isinstance(step, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel) and step in current.model_fields:
            current = current.model_fields[step].annotation
        else:
            args = typing.get_args(current)
            current = args[-1] if args else current
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (list, typing.Union) or str(origin) == "types.UnionType":
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if models:
                annotation = models[0]
                continue
            if origin is list and args:
                annotation = args[0]
                continue
        return annotation


def find_rules_root() -> FsPath:
    """The bundled ``rules/`` folder: in the current folder or one above it (where the user stands in a clone)."""
    here = FsPath.cwd()
    for folder in (here, *here.parents):
        if (folder / RULES_DIR_NAME).is_dir():
            return folder / RULES_DIR_NAME
    return here / RULES_DIR_NAME


def bundled_years(rules_root: FsPath) -> list[int]:
    """The years that have a folder of rule sets under ``rules_root`` (none when it is not a folder), in order."""
    return sorted(int(p.name) for p in rules_root.iterdir() if p.is_dir() and p.name.isdigit()) if rules_root.is_dir() else []


def resolve_ruleset_path(spec: str, rules_root: Optional[FsPath] = None) -> FsPath:
    """``--rules`` takes a year (its newest version), a version (``2025.1``) or a path; years and versions are
    looked for in ``rules_root`` (default: :func:`find_rules_root`)."""
    if rules_root is None:
        rules_root = find_rules_root()
    version = re.fullmatch(r"(\d{4})\.(\d+)", spec)
    if (version or spec.isdigit()) and not FsPath(spec).exists() and not rules_root.is_dir():
        raise RuleSetError([Problem(display_path(rules_root), f"the bundled rule set {spec} is looked for in a "
                                    f"'{RULES_DIR_NAME}' folder here or in a folder above, and there is none; run cdcs in "
                                    "a clone of the project, or give --rules the path of a rule set file")])
    if version and not FsPath(spec).exists():
        path = rules_root / version.group(1) / f"ruleset-{spec}.yaml"
        if not path.is_file():
            folder = rules_root / version.group(1)
            have = sorted((p.stem.removeprefix("ruleset-") for p in folder.glob("ruleset-*.yaml")), key=lambda v: _version_key(FsPath(v)))
            raise RuleSetError([Problem(display_path(rules_root), f"no bundled rule set version {spec}; versions available "
                                        f"for {version.group(1)}: {', '.join(have) or 'none'}")])
        return path
    if spec.isdigit():
        folder = rules_root / spec
        candidates = sorted(folder.glob("ruleset*.yaml"), key=_version_key) if folder.is_dir() else []
        if not candidates:
            years = bundled_years(rules_root)
            raise RuleSetError([Problem(display_path(rules_root), f"no bundled rule set for the year {spec}; years "
                                        f"available: {', '.join(map(str, years)) or 'none'}")])
        return candidates[-1]
    return FsPath(spec)


class RuleSetInvalid(RuleSetError):
    """The rule set's model is invalid; carries what could be read, so later checks can still run."""

    def __init__(self, problems: list[Problem], source: yamlpos.Located, catalogue: Optional[Catalogue]):
        super().__init__(problems)
        self.source = source
        self.catalogue = catalogue


def _version_key(path: FsPath) -> tuple:
    """``ruleset-2025.10.yaml`` sorts after ``ruleset-2025.9.yaml``."""
    numbers = re.findall(r"\d+", path.stem)
    return tuple(int(n) for n in numbers), path.name


def load_ruleset(path: FsPath) -> LoadedRuleSet:
    """Load a rule set and the catalogue it names; raises with every problem of both."""
    shown = display_path(path)
    located, problems = yamlpos.load(read_text(path), shown)
    if located is None:
        raise RuleSetError(problems)
    if not isinstance(located.data, dict):
        raise RuleSetError(problems + [located.problem((), "expected a rule set: a mapping with id, year, version, criteria, levels...")])
    if "facts" in located.data and ("groups" in located.data or "extends" in located.data) and "criteria" not in located.data:
        raise RuleSetError([located.problem((), "this is a catalogue of facts, not a rule set; pass a rules/<year>/ruleset-*.yaml file")])
    catalogue, catalogue_source = None, None
    reference = located.data.get("catalogue")
    if isinstance(reference, str):
        catalogue_path = path.parent / reference
        if not catalogue_path.is_file():
            problems.append(located.problem(("catalogue",), f"catalogue: no such file '{reference}' (looked for {display_path(catalogue_path)})"))
        else:
            catalogue, catalogue_source = load_catalogue(catalogue_path)
    try:
        ruleset = RuleSet.model_validate(located.data)
    except ValidationError as exc:
        raise RuleSetInvalid(problems + pydantic_problems(exc, located, RuleSet), located, catalogue) from None
    if problems or catalogue is None or catalogue_source is None:
        raise RuleSetInvalid(problems, located, catalogue)
    return LoadedRuleSet(ruleset, catalogue, located, catalogue_source, shown)
