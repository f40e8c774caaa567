"""Each job the queue's worker takes runs in a process of its own, so that no job can stop the worker.

A job may end its process whatever this code does: a library aborting on a failed allocation (calamine
does), the kernel killing the largest process when memory runs out, a crash in an extension. Run in the
worker itself, such a job took the worker down with it and left the job 运行中 for ever, and nothing else
ran until someone restarted the worker. Here the worker starts a fresh interpreter for the job (never a
fork: the worker has threads, and a fork of a threaded process can deadlock), waits for it, and goes on to
the next job; the caller marks a job its process left unfinished as failed. The job's process ends when
its input pipe closes, so a worker that is itself killed leaves no job running behind it.

This module imports no model: it is the job process's entry point too (``python -m``), before Django is
set up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path


def run_in_own_process(job_id: str, command: Sequence[str] | None = None) -> int:
    """Run job ``job_id`` in a new interpreter and wait for it; returns its exit status (negative: the
    signal that ended it). ``command`` replaces the interpreter's command line (tests)."""
    root = str(Path(__file__).resolve().parents[2])  # the directory holding the jingzhun package
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env.setdefault("DJANGO_SETTINGS_MODULE", "jingzhun.settings")
    command = list(command or [sys.executable, "-m", "jingzhun.jobs.isolation", job_id])
    with subprocess.Popen(command, stdin=subprocess.PIPE, env=env) as process:
        # stdin stays open while we wait: the job's process takes its closing as this process's end.
        return process.wait()


def _end_with_parent() -> None:
    # The bare file descriptor, not sys.stdin: a thread blocked in a buffered read holds its lock, and the
    # interpreter cannot finish once the job is done.
    while os.read(0, 4096):
        pass  # nothing is ever written; the read returns b"" once the worker closed the pipe, or died
    os._exit(1)


def main(argv: Sequence[str]) -> int:
    """The job's process: run the one job named on the command line, as the worker would have."""
    import django

    (job_id,) = argv
    threading.Thread(target=_end_with_parent, name="job-parent-watch", daemon=True).start()
    django.setup()
    from jingzhun.jobs.runner import execute

    execute(job_id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
