"""Run the real ``cdcs`` command in a subprocess from the repository root, as a user would."""
from __future__ import annotations

import atexit
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
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
    operating system's RLIMIT_FSIZE: a write past it fails as on a full disk).

    The command runs in a process of its own, forked from a warm interpreter
    (:mod:`cli_warm`), or started from scratch when the run needs it: variables that
    change how Python starts, a file size limit, or ``CDCS_TESTS_COLD`` set."""
    extra = dict(env or {})
    path = os.pathsep.join(p for p in (extra.pop("PYTHONPATH", ""), str(REPO)) if p)
    full_env = dict(os.environ, **extra, PYTHONPATH=path)  # the engine of this checkout, from any folder
    args = tuple(map(str, args))
    if env is None and file_size_limit is None and not os.environ.get("CDCS_TESTS_COLD"):
        code, stdout, stderr = _warm_run(args, cwd, full_env)
    else:
        code, stdout, stderr = _cold_run(args, cwd, full_env, file_size_limit)
    return Run(args, code, stdout.decode("utf-8"), stderr.decode("utf-8"), stdout)


def _cold_run(args: tuple[str, ...], cwd: Path, env: dict[str, str],
              file_size_limit: Optional[int]) -> tuple[int, bytes, bytes]:
    def limited() -> None:
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    done = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=cwd, capture_output=True, timeout=TIMEOUT,
                          env=env, preexec_fn=limited if file_size_limit is not None else None)
    return done.returncode, done.stdout, done.stderr


TIMEOUT = 120  # seconds a run may take
_warm: Optional[subprocess.Popen] = None
_streams = Path(tempfile.mkdtemp(prefix="cdcs-tests-"))
atexit.register(shutil.rmtree, _streams, True)


def _warm_run(args: tuple[str, ...], cwd: Path, env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """The command forked from this test process's warm interpreter (started at its first run)."""
    global _warm
    if _warm is None or _warm.poll() is not None:
        _warm = subprocess.Popen([sys.executable, str(Path(__file__).with_name("cli_warm.py"))], cwd=REPO,
                                 env=dict(os.environ, PYTHONPATH=str(REPO)), stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, bufsize=0)  # unbuffered: a reply read is never left waiting
        atexit.register(_warm.kill)
    stdout, stderr = _streams / "stdout", _streams / "stderr"
    request = {"args": list(args), "cwd": str(cwd), "env": env, "stdout": str(stdout), "stderr": str(stderr)}
    _warm.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
    _warm.stdin.flush()
    pid = _reply(_warm, time.monotonic() + 30)["pid"]
    try:
        code = _reply(_warm, time.monotonic() + TIMEOUT)["code"]
    except subprocess.TimeoutExpired:
        os.kill(pid, signal.SIGKILL)
        _reply(_warm, time.monotonic() + 30)
        raise
    return code, stdout.read_bytes(), stderr.read_bytes()


def _reply(warm: subprocess.Popen, deadline: float) -> dict:
    with selectors.DefaultSelector() as waiting:
        waiting.register(warm.stdout, selectors.EVENT_READ)
        if not waiting.select(max(0.0, deadline - time.monotonic())):
            raise subprocess.TimeoutExpired("cdcs", TIMEOUT)
    line = warm.stdout.readline()
    if not line:
        raise RuntimeError("the warm interpreter of the tests ended (see its error above)")
    return json.loads(line)


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr, run
    assert "Traceback" not in run.stdout, run
