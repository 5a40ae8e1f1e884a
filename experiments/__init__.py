"""Ontschot experiments: scenarios, replicated runs, the result store and the command line."""

import multiprocessing.process as _process
import os as _os
import signal as _signal
import sys as _sys

INTERRUPTED = "ontschot: interrupted; what was saved stays (a sweep resumes with the same command)"


def _stopped_while_starting(signum, frame) -> None:
    """Ctrl-C before the command has started (its modules still loading): nothing to tidy up, one line."""
    _os.write(2, (INTERRUPTED + "\n").encode())
    _os._exit(130)


# A worker process spawned by this package (a Dask nanny or worker: spawn re-imports the main module, and with
# it this package, before its task runs) ignores Ctrl-C from its first import: the terminal sends Ctrl-C to
# every process of the foreground group, and the driver, not each worker, answers it (one line, exit 130).
if getattr(_process.current_process(), "_inheriting", False):
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
elif _os.path.basename(_sys.argv[0]) == "ontschot" or getattr(_sys, "orig_argv", [])[1:3] == ["-m", "experiments.cli"]:
    _signal.signal(_signal.SIGINT, _stopped_while_starting)  # the ontschot command, loading its modules
