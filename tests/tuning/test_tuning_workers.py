"""Parallel and distributed searches: worker processes sharing a journal file, and workers on a
real PostgreSQL server with heartbeats (one killed mid-trial)."""

import glob
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import optuna
import pytest
from optuna.trial import TrialState

from glassnet import tuning

from tuning_models import build_model, build_slow, build_two_tables, digits, two_tables

HERE = os.path.dirname(os.path.abspath(__file__))
SPACE = {"units": [4, 8], "learning_rate": [0.003, 0.01, 0.03]}


def test_two_worker_processes_finish_a_study_with_no_lost_or_duplicated_trial(tmp_path, monkeypatch):
    monkeypatch.setenv("SLOW_TRIAL_SECONDS", "0.4")  # long enough that both workers get trials
    x, y = digits(160)
    parallel = tuning.Tuner(build_slow, SPACE, strategy="grid", n_workers=2, storage=str(tmp_path / "s.journal"),
                            study_name="s", seed=0, verbose=0)
    parallel.search(x, y, validation_split=0.25, epochs=1)
    trials = [t for t in parallel.study.trials if not t.user_attrs.get("skipped")]
    combos = sorted((t.params["units"], t.params["learning_rate"]) for t in trials)
    assert combos == sorted(itertools.product(*SPACE.values()))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    # Seeds come from the study seed and the trial number: a serial search scores the same.
    monkeypatch.setenv("SLOW_TRIAL_SECONDS", "0")
    serial = tuning.Tuner(build_model, SPACE, strategy="grid", seed=0, verbose=0)
    serial.search(x, y, validation_split=0.25, epochs=1)
    by_params = {tuple(t.params.values()): t.value for t in serial.study.trials}
    assert {tuple(t.params.values()): t.value for t in trials} == by_params


def test_n_workers_needs_a_storage_every_process_can_open():
    with pytest.raises(ValueError, match="n_workers > 1 needs storage as a URL"):
        tuning.Tuner(build_model, SPACE, n_workers=2, storage=optuna.storages.InMemoryStorage())


def test_a_worker_started_by_hand_runs_a_published_study(tmp_path, capsys):
    from glassnet.tuning import worker

    path = str(tmp_path / "s.journal")
    x, y = digits(160)
    tuner = tuning.Tuner(build_model, SPACE, strategy="random", max_trials=3, storage=path, study_name="s",
                         directory=tmp_path, seed=0, verbose=0)
    tuner.publish(x, y, validation_split=0.25, epochs=1)
    assert tuner.study.trials == []  # publishing runs nothing
    assert worker.main(["--storage", path, "--study", "s"]) == 0
    assert capsys.readouterr().out.count(" complete val_accuracy=") == 3
    assert [t.state for t in tuner.study.trials] == [TrialState.COMPLETE] * 3
    with pytest.raises(ValueError, match="no glassnet instructions"):
        optuna.create_study(study_name="bare", storage=tuning.open_storage(path))
        worker.main(["--storage", path, "--study", "bare"])


def test_a_published_study_of_a_graph_with_two_inputs_and_outputs(tmp_path, capsys):
    # data.npz holds each input and target by name (no object arrays, which load only with pickle)
    from glassnet.tuning import worker

    path = str(tmp_path / "s.journal")
    x, y = two_tables()
    tuner = tuning.Tuner(build_two_tables, strategy="grid", objective="val_cls_accuracy", storage=path,
                         study_name="s", directory=tmp_path, seed=0, verbose=0)
    tuner.publish(x, y, validation_split=0.25, epochs=1)
    assert worker.main(["--storage", path, "--study", "s"]) == 0
    assert [t.state for t in tuner.study.trials] == [TrialState.COMPLETE] * 2
    capsys.readouterr()


# -- PostgreSQL ------------------------------------------------------------------------------------
def _postgres_bin():
    for pattern in ("/usr/lib/postgresql/*/bin",):
        for folder in sorted(glob.glob(pattern), reverse=True):
            if os.path.exists(os.path.join(folder, "initdb")) and os.path.exists(os.path.join(folder, "pg_ctl")):
                return folder
    folder = os.path.dirname(shutil.which("initdb") or "")
    return folder if folder and shutil.which("pg_ctl") else None


@pytest.fixture
def postgres_url():
    """A throwaway PostgreSQL cluster on 127.0.0.1 at a free port, stopped afterwards."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl; Debian package 'postgresql')")
    import importlib.util

    # SQLAlchemy 2.1 reads postgresql:// as psycopg 3; name whichever driver is installed.
    driver = next((d for d in ("psycopg", "psycopg2") if importlib.util.find_spec(d)), None)
    if driver is None:
        pytest.skip("no PostgreSQL driver for SQLAlchemy is installed "
                    "(pip install 'psycopg[binary]' or psycopg2-binary)")
    folder = tempfile.mkdtemp(prefix="glassnet-pg-")
    as_user = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = os.path.join(folder, "data")
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=60)  # noqa: E731
    run(f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
    run(f"{bin_dir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(folder, "log"), "-o",
        f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off", "start")
    try:
        yield f"postgresql+{driver}://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _worker(url, env):
    return subprocess.Popen([sys.executable, "-m", "glassnet.tuning.worker", "--storage", url, "--study", "kill",
                             "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_postgres_workers_survive_a_killed_worker(postgres_url, tmp_path):
    x, y = digits(160)
    space = {"units": [4, 8], "learning_rate": [0.003, 0.03]}
    tuner = tuning.Tuner(build_slow, space, strategy="grid", storage=postgres_url, study_name="kill",
                         directory=tmp_path, heartbeat_interval=1, grace_period=2, seed=0, verbose=0)
    tuner.publish(x, y, validation_split=0.25, epochs=1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")]),
           "SLOW_TRIAL_SECONDS": "0.7"}
    victim, survivor = _worker(postgres_url, env), _worker(postgres_url, env)
    study = optuna.load_study(study_name="kill", storage=postgres_url)
    deadline = time.time() + 60
    killed = None
    while killed is None and time.time() < deadline:
        killed = next((t for t in study.get_trials(states=(TrialState.RUNNING,))
                       if t.user_attrs.get("worker", "").endswith(f":{victim.pid}") and len(t.params) == 2), None)
        time.sleep(0.1)
    assert killed is not None, "the first worker never got into a trial"  # (it sleeps in build_model)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=10)
    output = survivor.communicate(timeout=120)[0]
    assert survivor.returncode == 0, output
    trials = {t.number: t for t in study.get_trials()}
    assert trials[killed.number].state == TrialState.FAIL
    retries = [t for t in trials.values() if t.user_attrs.get("root_trial") == killed.number
               and t.number != killed.number]
    assert [t.state for t in retries] == [TrialState.COMPLETE]
    assert retries[0].params == killed.params
    complete = sorted(tuple(t.params.values()) for t in trials.values() if t.state == TrialState.COMPLETE)
    assert complete == sorted(itertools.product(*space.values()))  # the planned trials, each once
