"""A warm interpreter that starts each ``cdcs`` command of the tests as a process of its own.

Most tests run the real command and read its exit code and both streams.  Started from
scratch, each of those processes spends about half its time importing (click, pydantic,
YAML, the grammar, the rule engine) before the command begins.  This interpreter imports
the command once; for each run it forks a child that takes the run's folder, environment
and standard streams and calls the command's ``main`` as ``python -m engine.cli`` does:
everything from parsing the arguments to the exit code is the real command, in a real
process, with its own files, temporary folders and worker processes.

What a fork cannot stand in for runs from scratch (:func:`cli_run.run_cdcs` decides):
a run with variables that change how Python itself starts (``PYTHONPATH`` for injected
faults, the locale), a limit on file sizes, and every run when ``CDCS_TESTS_COLD`` is set.

Protocol, one JSON line each way per run: ``{"args", "cwd", "env", "stdout", "stderr"}``
in; ``{"pid"}`` once the child is started, then ``{"code"}`` when it has ended.
"""
from __future__ import annotations

import atexit
import json
import os
import sys
from typing import NoReturn


def _child(request: dict) -> NoReturn:
    """Become the command: its folder, its variables, its streams; then run it as ``python -m engine.cli`` does
    and end as it ends (an exception it does not handle: a traceback and exit code 1)."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    streams = [os.open(os.devnull, os.O_RDONLY),
               os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
               os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
    for fd, opened in enumerate(streams):
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["cdcs", *request["args"]]
    from engine.cli import main
    try:
        main(args=request["args"], prog_name="cdcs")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            print(exc.code, file=sys.stderr)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    # the end of an interpreter, less tearing down its modules (a large part of a short run): what the command
    # registered to run at exit, then its streams
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _serve() -> None:
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            replies.close()
            _child(request)
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
        replies.flush()


def _warm_up() -> None:
    """What the commands import, each only when it runs: imported here once, for every child."""
    import engine.cli  # noqa: F401
    import engine.authoring.lint  # noqa: F401
    import engine.pipeline.compare  # noqa: F401
    import engine.pipeline.report  # noqa: F401
    import engine.pipeline.run  # noqa: F401
    import engine.pipeline.validate  # noqa: F401
    import engine.pipeline.versions  # noqa: F401
    import engine.rendering.render_report_html  # noqa: F401
    import engine.rendering.render_report_xlsx  # noqa: F401
    import engine.review.audit  # noqa: F401
    import engine.review.report_ledger  # noqa: F401
    import openpyxl  # noqa: F401  (workbooks, read and written)


if __name__ == "__main__":  # not when a worker process of the command (spawned) imports this file as its main
    _warm_up()
    _serve()
