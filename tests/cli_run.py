"""Run the real ``cdcs`` command in a subprocess from the repository root, as a user would."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
ERRORS = Path(__file__).resolve().parent / "errors"


@dataclass(repr=False)
class Run:
    """One finished ``cdcs`` run: exit code and both streams (decoded as UTF-8)."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes

    def lines_at(self, where: str) -> list[str]:
        """The stderr lines that start with ``where`` (such as ``path:3:12:``)."""
        return [line for line in self.stderr.splitlines() if line.startswith(where)]

    def __repr__(self) -> str:  # shown by pytest when an assertion on a run fails
        return f"cdcs {' '.join(self.args)} → exit {self.code}\n--- stdout ---\n{self.stdout[:3000]}\n--- stderr ---\n{self.stderr}"

    __str__ = __repr__


def run_cdcs(*args: str, cwd: Path = REPO, env: Optional[dict[str, str]] = None,
             file_size_limit: Optional[int] = None) -> Run:
    """``python -m engine.cli ARGS``, from the repository root unless told otherwise.

    ``env`` adds variables; a ``PYTHONPATH`` given there goes before the checkout's.
    ``file_size_limit``: no file of the command may grow past this many bytes (the
    operating system's RLIMIT_FSIZE: a write past it fails as on a full disk)."""
    extra = dict(env or {})
    path = os.pathsep.join(p for p in (extra.pop("PYTHONPATH", ""), str(REPO)) if p)
    env = dict(os.environ, **extra, PYTHONPATH=path)  # the engine of this checkout, from any folder

    def limited() -> None:
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    done = subprocess.run([sys.executable, "-m", "engine.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, timeout=120, env=env,
                          preexec_fn=limited if file_size_limit is not None else None)
    return Run(tuple(map(str, args)), done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8"),
               done.stdout)


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr, run
    assert "Traceback" not in run.stdout, run
