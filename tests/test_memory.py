"""Training keeps freed memory in the process (glibc's thresholds raised), unless told not to."""

import os
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import glassnet as gn

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="the setting is glibc's")

# A fresh process: the setting is made once per process, at the first training step.
SCRIPT = textwrap.dedent("""
    import resource, numpy as np, glassnet as gn
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32"))
    faults = []
    for _ in range(5):  # what a training step does: a large temporary, written, then freed
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        a = np.ones(20 << 18, "float32")  # 20 MiB
        del a
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(sum(faults[1:]))
""")


def faults_after_the_first(**env) -> int:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    return int(out.stdout)


def test_a_freed_block_is_reused_without_page_faults():
    assert faults_after_the_first() < 50  # a few pages of bookkeeping at most


def test_glassnet_keep_memory_0_leaves_glibc_alone(monkeypatch):
    from glassnet.models import memory

    def no_libc(*args):
        raise AssertionError("mallopt must not be reached")

    monkeypatch.setattr(memory, "_applied", None)  # as in a fresh process
    monkeypatch.setattr(memory.ctypes, "CDLL", no_libc)
    monkeypatch.setenv("GLASSNET_KEEP_MEMORY", "0")
    assert memory.keep_freed_memory() is False


@pytest.fixture
def fresh_process(monkeypatch):
    """The module as a new process has it, with glibc's mallopt replaced by a recorder."""
    from glassnet.models import memory

    calls = []

    def mallopt(param, value):
        calls.append((param, value))
        return 1

    for name, value in (("_enabled", True), ("_applied", None), ("_announced", False)):
        monkeypatch.setattr(memory, name, value)
    monkeypatch.setattr(memory, "_glibc_mallopt", lambda: mallopt)
    monkeypatch.delenv("GLASSNET_KEEP_MEMORY", raising=False)
    return calls


def fit_twice(verbose):
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    for _ in range(2):
        model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=verbose)


def test_the_first_fit_names_the_setting_and_its_off_switches_once(fresh_process, capsys):
    from glassnet.models import memory

    fit_twice(verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines.count(memory.ANNOUNCEMENT) == 1 and lines[0] == memory.ANNOUNCEMENT
    assert "set_keep_freed_memory(False)" in memory.ANNOUNCEMENT and "GLASSNET_KEEP_MEMORY=0" in memory.ANNOUNCEMENT
    assert fresh_process == [(memory.M_MMAP_THRESHOLD, memory.MMAP_THRESHOLD),
                             (memory.M_TRIM_THRESHOLD, memory.TRIM_THRESHOLD)]


def test_a_silent_fit_stays_silent(fresh_process, capsys):
    fit_twice(verbose=0)
    assert capsys.readouterr().out == ""


def test_switched_off_from_python_training_leaves_glibc_alone(fresh_process, capsys):
    gn.config.set_keep_freed_memory(False)
    assert not gn.config.keep_freed_memory_enabled()
    fit_twice(verbose=2)
    assert fresh_process == []
    assert "glibc" not in capsys.readouterr().out


def test_switched_off_after_training_glibc_defaults_are_set_back(fresh_process):
    from glassnet.models import memory

    fit_twice(verbose=0)
    gn.config.set_keep_freed_memory(False)
    assert fresh_process[2:] == [(memory.M_MMAP_THRESHOLD, memory.DEFAULT_THRESHOLD),
                                 (memory.M_TRIM_THRESHOLD, memory.DEFAULT_THRESHOLD)]
    assert memory.keep_freed_memory() is False
    gn.config.set_keep_freed_memory(True)  # and on again at the next training step
    assert memory.keep_freed_memory() is True


def test_the_switch_takes_a_bool():
    with pytest.raises(ValueError, match="True or False"):
        gn.config.set_keep_freed_memory("no")
