"""Kill tests: a training subprocess is SIGKILLed at random moments; what it leaves must be sound.

Every checkpoint left behind loads and holds exactly the weights of its epoch in an
uninterrupted run, and resuming from the newest one reproduces that run's final weights.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
import kill_worker

KILLS = 10
EPOCHS = 16
WORKER = Path(kill_worker.__file__)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


def _weights_equal(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


def _start(folder):
    """Start the worker and wait until it is set up (imports done), so kills land in training."""
    proc = subprocess.Popen([sys.executable, str(WORKER), str(folder), str(EPOCHS)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise AssertionError(f"the worker did not start: {line!r} {proc.stderr.read()}")
    return proc


def test_checkpoints_survive_sigkill_at_random_moments(tmp_path):
    x, y = kill_worker.make_data()
    reference = kill_worker.make_model()
    snapshots = []
    reference.fit(x, y, epochs=EPOCHS, batch_size=8, verbose=0, callbacks=[
        gn.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(reference.get_weights())),
        *kill_worker.checkpoints(tmp_path)])

    # One uninterrupted child: it must match the in-process run, and it times the run.
    (tmp_path / "full").mkdir()
    proc = _start(tmp_path / "full")
    start = time.perf_counter()
    out, err = proc.communicate(timeout=120)
    run_time = time.perf_counter() - start
    assert proc.returncode == 0 and out.split()[-1] == "done", err
    full = gn.load_model(tmp_path / "full" / f"ckpt-{EPOCHS:03d}.glassnet")
    assert _weights_equal(full.get_weights(), reference.get_weights())

    rng = np.random.default_rng(1234)
    stats = {"mid_run": 0, "temp_files_left": 0, "finished": 0}
    for kill in range(KILLS):
        folder = tmp_path / f"run{kill}"
        folder.mkdir()
        proc = _start(folder)
        try:
            # Aim at epochs spread over the run, then at a random moment from that epoch's end
            # (its checkpoints being written) into the next epoch.
            target = 1 + kill * (EPOCHS - 2) // (KILLS - 1)
            while proc.stdout.readline().strip() not in (f"epoch {target}", ""):
                pass
            time.sleep(rng.uniform(0, 1.5 * run_time / EPOCHS))
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=60)
            proc.stdout.close()
            proc.stderr.close()
        names = os.listdir(folder)
        temps = [n for n in names if ".tmp-" in n]
        done = sorted(n for n in names if n.startswith("ckpt-") and ".tmp-" not in n)
        stats["temp_files_left"] += bool(temps)
        epochs_done = []
        for name in done:
            model = gn.load_model(folder / name)
            k = model._epochs_completed
            assert name == f"ckpt-{k:03d}.glassnet"
            assert _weights_equal(model.get_weights(), snapshots[k - 1]), f"kill {kill}: {name} differs"
            epochs_done.append(k)
        assert epochs_done == list(range(1, len(done) + 1))
        if not done:
            continue
        newest = epochs_done[-1]
        # last.glassnet is written after the epoch's ckpt: a kill between the first two saves
        # leaves ckpt-001 alone. Otherwise it is there, overwritten every epoch, never torn.
        last = None
        if (folder / "last.glassnet").exists() or newest > 1:
            last = gn.load_model(folder / "last.glassnet")
            assert last._epochs_completed in (newest, newest - 1)
            assert _weights_equal(last.get_weights(), snapshots[last._epochs_completed - 1])
        if newest == EPOCHS:
            stats["finished"] += 1
            continue
        stats["mid_run"] += 1
        resumed = gn.load_model(folder / f"ckpt-{newest:03d}.glassnet")
        resumed.fit(x, y, epochs=EPOCHS, initial_epoch=newest, batch_size=8, verbose=0)
        assert _weights_equal(resumed.get_weights(), reference.get_weights()), f"kill {kill}: resume differs"
        resumed.save(folder / "last.glassnet")  # the next save sweeps away a killed save's temp file
        assert not [n for n in os.listdir(folder) if n.startswith(".last.glassnet.tmp-")]
    print(f"\n{KILLS} kills over a {run_time:.2f} s run: {stats}")
    assert stats["mid_run"] >= KILLS // 2, f"too few kills landed mid-run to test anything: {stats}"
