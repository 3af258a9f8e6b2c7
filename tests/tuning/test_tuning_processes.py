"""Worker processes receive the search by value: build functions defined where pickle cannot find
them by name (``python -``, a script without a ``__main__`` guard) work, and a worker that cannot
start or dies makes the search fail within seconds, naming the worker and the cause.

Each search that could hang runs in a subprocess with a timeout, so a regression fails instead.
The notebook case is in tests/test_notebooks.py.
"""

import itertools
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
from optuna.trial import TrialState

from glassnet import tuning

from tuning_models import build_dies_once, build_model, digits

#: seconds a script may take; a working one takes a few.
TIMEOUT = 90

# A user's script: data, a build function in __main__, a two-worker search, no __main__ guard.
SCRIPT = """
import glassnet as gn
from sklearn.datasets import load_digits

x, y = load_digits(return_X_y=True)
x, y = (x[:120] / 16).astype("float32"), y[:120]
UNITS = {units}

def build(params):
{build_body}
    model = gn.Sequential([gn.layers.Dense(UNITS[params["size"]], activation="relu", input_shape=(64,)),
                           gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

tuner = gn.tuning.Tuner(build, {{"size": list(UNITS)}}, strategy="grid", n_workers=2, seed=0, verbose=0)
tuner.search(x, y, validation_split=0.25, epochs=1)
complete = [t for t in tuner.study.trials if t.state.name == "COMPLETE"]
print("complete", len(complete), "workers", len({{t.user_attrs["worker"] for t in complete}}))
"""


def _script(build_body: str = "    pass", units=None, prelude: str = "") -> str:
    units = units or {"small": 4, "medium": 8, "large": 16}
    return prelude + SCRIPT.format(units=units, build_body=build_body)


def _run(tmp_path, source: str, stdin: bool = False):
    """Run ``source`` as a file or piped to ``python -``; returns (exit code, stdout, stderr)."""
    if stdin:
        command, feed = [sys.executable, "-"], source
    else:
        (tmp_path / "search.py").write_text(source)
        command, feed = [sys.executable, "search.py"], None
    done = subprocess.run(command, input=feed, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("stdin", [False, True], ids=["unguarded_script", "python_stdin"])
def test_a_build_function_of_the_main_module_runs_in_worker_processes(tmp_path, stdin):
    # multiprocessing pickled `build` by name: the workers died with "Can't get attribute 'build'"
    # (python -: the search hung) or re-ran the unguarded script and hit its bootstrapping error.
    code, out, err = _run(tmp_path, _script(), stdin=stdin)
    assert code == 0, err
    # Every trial ran in a worker process (each records its worker); whether both workers got one
    # of the three trials depends on how fast the second one starts on a loaded machine.
    words = out.split()
    assert words[:3] == ["complete", "3", "workers"] and int(words[3]) in (1, 2), out + err


@pytest.mark.slow
def test_a_worker_that_cannot_import_the_build_function_fails_the_search_naming_it(tmp_path):
    # The build function's module imports here, then vanishes: the workers cannot unpickle it.
    prelude = textwrap.dedent("""
        import os, sys
        sys.path.insert(0, os.getcwd())
        with open("vanishing.py", "w") as f:
            f.write("def size_of(name):\\n    return name\\n")
        import vanishing
        os.remove("vanishing.py")
    """)
    code, out, err = _run(tmp_path, _script("    vanishing.size_of(params['size'])", prelude=prelude))
    assert code == 1 and "complete" not in out
    message = err[err.index("glassnet.tuning.errors.WorkerError: "):]
    assert re.match(r"\S+: A search worker process could not start: worker \d \(pid \d+\) exited with code 1:\n",
                    message)
    assert message.rstrip().endswith("ModuleNotFoundError: No module named 'vanishing'")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_every_worker_killed_fails_the_search_naming_each_signal(tmp_path):
    prelude = "import os, signal\nPARENT = os.getpid()\n"
    body = "    if os.getpid() != PARENT:\n        os.kill(os.getpid(), signal.SIGKILL)"
    code, out, err = _run(tmp_path, _script(body, prelude=prelude))
    assert code == 1 and "complete" not in out
    assert "WorkerError: Every search worker process died: " in err
    assert "worker 0 (pid " in err and "worker 1 (pid " in err
    assert err.count("was killed by signal SIGKILL") == 2


def test_an_unpicklable_build_function_is_refused_before_any_worker_starts():
    lock = threading.Lock()

    def build(params):
        with lock:
            return build_model(params)

    x, y = digits(80)
    tuner = tuning.Tuner(build, {"units": [4, 8], "learning_rate": [0.01]}, strategy="grid", n_workers=2, seed=0,
                         verbose=0)
    with pytest.raises(TypeError, match="Cannot send the search to worker processes: .*cannot pickle '_thread.lock'"):
        tuner.search(x, y, validation_split=0.25, epochs=1)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_a_worker_killed_in_a_trial_is_survived_and_its_trial_run_by_another(tmp_path, monkeypatch):
    monkeypatch.setenv("SLOW_TRIAL_SECONDS", "0.3")  # the survivor is still busy when the other dies
    monkeypatch.setenv("DIE_ONCE_PARENT", str(os.getpid()))
    monkeypatch.setenv("DIE_ONCE_FILE", str(tmp_path / "died"))
    space = {"units": [4, 8], "learning_rate": [0.01, 0.03]}
    x, y = digits(120)
    tuner = tuning.Tuner(build_dies_once, space, strategy="grid", n_workers=2, storage=str(tmp_path / "s.journal"),
                         study_name="s", seed=0, verbose=0)
    with pytest.warns(RuntimeWarning, match=r"1 worker process\(es\) died: worker \d \(pid \d+\) was killed by "
                                            r"signal SIGKILL\. .* queued again, and the other workers ran them"):
        tuner.search(x, y, validation_split=0.25, epochs=1)
    assert (tmp_path / "died").exists()
    trials = tuner.study.trials
    complete = sorted((t.params["units"], t.params["learning_rate"]) for t in trials if t.state == TrialState.COMPLETE)
    assert complete == sorted(itertools.product(*space.values()))
    assert [t.state for t in trials].count(TrialState.FAIL) == 1
