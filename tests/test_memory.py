"""Training keeps freed memory in the process (glibc's thresholds raised), unless told not to."""

import os
import platform
import subprocess
import sys
import textwrap

import pytest

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
