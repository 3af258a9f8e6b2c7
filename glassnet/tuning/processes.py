"""Worker processes of ``Tuner.search``: fresh interpreters that receive the search by value.

The build function, data and settings travel cloudpickled through each child's stdin, so a build
function defined in a notebook cell, in a script piped to ``python -`` or in a script without an
``if __name__ == "__main__":`` guard works: unlike multiprocessing's spawn, the child never
imports the parent's main module. (Workers started by hand, ``python -m glassnet.tuning.worker``,
import the build function by name instead.)
"""

from __future__ import annotations

import collections
import pickle
import signal
import subprocess
import sys
import threading

import cloudpickle

#: how many of a worker's last stderr lines are kept to explain its death.
STDERR_LINES = 20

# Runs in the child: take the parent's import path first, so that glassnet and every module the
# payload names by reference import as they did in the parent.
_BOOTSTRAP = ("import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
              "from glassnet.tuning.processes import child_main; child_main()")


def dump_setup(setup) -> bytes:
    """The ``TrialSetup`` as cloudpickle bytes (functions and classes of ``__main__`` by value)."""
    try:
        return cloudpickle.dumps(setup)
    except Exception as err:
        raise TypeError(f"Cannot send the search to worker processes: build_model, a callback or the data cannot "
                        f"be pickled ({type(err).__name__}: {err}). Use n_workers=1, or keep such objects "
                        f"(locks, open files, generators) out of them.") from err


class WorkerProcess:
    """One worker: a ``python -c`` child that reads (sys.path, plan, setup) from its stdin.

    Its stderr is relayed to this process' stderr as it comes, and the last lines are kept for
    ``cause``. Its stdout is this process' stdout.
    """

    def __init__(self, index: int):
        self.index = index
        self._tail = collections.deque(maxlen=STDERR_LINES)
        self.process = subprocess.Popen([sys.executable, "-c", _BOOTSTRAP], stdin=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self._relay = threading.Thread(target=self._relay_stderr, name=f"glassnet-worker-{index}-stderr",
                                       daemon=True)
        self._relay.start()

    def send(self, plan, setup_bytes: bytes) -> None:
        """Write what it runs to its stdin (it reads once it has started) and close that."""
        try:
            with self.process.stdin as stdin:
                pickle.dump(list(sys.path), stdin)
                stdin.write(cloudpickle.dumps(plan))
                stdin.write(setup_bytes)
        except (BrokenPipeError, OSError):
            pass  # it died before reading everything: its exit code and stderr say why

    @property
    def pid(self) -> int:
        return self.process.pid

    def _relay_stderr(self) -> None:
        with self.process.stderr as stream:
            for raw in stream:
                line = raw.decode("utf-8", errors="replace")
                self._tail.append(line.rstrip("\n"))
                try:
                    sys.stderr.write(line)
                except (OSError, ValueError):  # this process' stderr is gone; keep the tail anyway
                    pass

    def poll(self) -> int | None:
        return self.process.poll()

    def failed(self) -> bool:
        """Ended other than by finishing its trials (0) or stopping at a recorded SetupError (3)."""
        return self.process.returncode not in (None, 0, 3)

    def cause(self) -> str:
        """Why it ended: exit code or signal, then its last stderr lines."""
        self._relay.join(timeout=5)  # the pipe closes with the process; let the last lines arrive
        code = self.process.returncode
        if code is not None and code < 0:
            try:
                how = f"was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        lines = [line for line in self._tail if line.strip()]
        return f"worker {self.index} (pid {self.pid}) {how}" + (":\n    " + "\n    ".join(lines) if lines else "")

    def stop(self) -> None:
        """Terminate it if running, and reap it."""
        if not self.process.stdin.closed:  # stopped before it was sent its part
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._relay.join(timeout=5)


def start_workers(plans, setup) -> list[WorkerProcess]:
    """Start one worker per plan, all running the same setup; stops the started ones if one fails."""
    if not sys.executable:
        raise RuntimeError("Cannot start worker processes: this Python does not know its own executable "
                           "(sys.executable is empty); use n_workers=1.")
    setup_bytes = dump_setup(setup)
    workers = []
    try:
        # All start before any is sent its part, so they start up (import glassnet) side by side.
        for index in range(len(plans)):
            workers.append(WorkerProcess(index))
        for worker, plan in zip(workers, plans):
            worker.send(plan, setup_bytes)
    except BaseException:
        for worker in workers:
            worker.stop()
        raise
    return workers


def child_main() -> None:
    """Entry point of a worker process: read the plan and the setup from stdin, then run trials."""
    from glassnet.tuning.worker import process_main

    with sys.stdin.buffer as stream:
        plan = pickle.load(stream)
        setup = pickle.load(stream)
    process_main(plan, setup)
