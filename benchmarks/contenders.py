"""Run each benchmarked framework in its own process, and time them in turns from the parent.

Alternating repeat by repeat in one run is what makes ratios meaningful on a noisy shared
machine; separate processes keep what one framework sets for its whole process from touching
the other's timing: PyTorch's OpenMP pool, OpenBLAS' threads, glassnet's malloc thresholds
(glassnet/models/memory.py; PyTorch's CNN step measured no page faults either way, so that one
happens not to matter). Each framework runs as its users run it, alone in a process.

A contender is built in the child by ``factory(*args)``, which returns a dict of named
callables (say "train" and "infer"); ``run(name)`` calls one there and returns what it returned
and the seconds it took; ``faults`` then holds the minor page faults the child took meanwhile
(memory the kernel handed it afresh: a count that does not depend on the machine's load).
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import time

try:
    import resource
except ImportError:  # not on Windows
    resource = None


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0


def _serve(module: str, factory: str, args: tuple, conn) -> None:
    try:
        jobs = getattr(importlib.import_module(module), factory)(*args)
    except ImportError as err:  # e.g. torch not installed
        conn.send(("missing", str(err)))
        return
    conn.send(("ready", sorted(jobs)))
    while (name := conn.recv()) is not None:
        faults, start = _minor_faults(), time.perf_counter()
        result = jobs[name]()
        conn.send((result, time.perf_counter() - start, _minor_faults() - faults))


class Contender:
    """A framework living in a child process (spawned: nothing inherited but the environment)."""

    def __init__(self, module: str, factory: str, *args):
        self._conn, child = mp.get_context("spawn").Pipe()
        self._proc = mp.get_context("spawn").Process(target=_serve, args=(module, factory, args, child),
                                                     daemon=True)
        self._proc.start()
        status, detail = self._conn.recv()
        self.available = status == "ready"
        self.missing = None if self.available else detail
        self.faults = 0

    def run(self, name: str):
        """(result, seconds) of the child's job ``name``; its page faults go to ``faults``."""
        self._conn.send(name)
        result, seconds, self.faults = self._conn.recv()
        return result, seconds

    def close(self) -> None:
        if self.available:
            self._conn.send(None)
        self._proc.join(timeout=10)


#: seconds of idling before each timed run: the other framework's OpenMP/OpenBLAS threads keep
#: spinning for a while after their last product and would steal the cores (see bench_mlp.py).
PAUSE = 0.5


def alternate(contenders: dict, repeats: int, jobs=("train", "infer")) -> tuple[dict, dict]:
    """Run every contender's ``jobs`` ``repeats`` times, who goes first rotating each repeat, and
    print a line per contender and repeat. Returns (seconds, page faults), each as
    ``{name: {job: [one per repeat]}}``."""
    times = {name: {job: [] for job in jobs} for name in contenders}
    faults = {name: {job: [] for job in jobs} for name in contenders}
    order = list(contenders)
    for r in range(repeats):
        for name in order[r % len(order):] + order[:r % len(order)]:
            line = []
            for job in jobs:
                time.sleep(PAUSE)
                result, seconds = contenders[name].run(job)
                times[name][job].append(seconds)
                faults[name][job].append(contenders[name].faults)
                line.append(f"{job} {seconds:.2f} s" + (f" (loss {result:.4f})" if job == "train" else ""))
            print(f"repeat {r + 1}/{repeats}, {name}: " + ", ".join(line), flush=True)
    return times, faults


def torch_epoch(net, opt, loss_fn, x, y, n: int, batch: int) -> float:
    """One PyTorch epoch over the first ``n`` samples in a fresh random order, batch by batch, as
    its users write the loop (``model.fit`` does the same in glassnet); returns the mean loss."""
    import torch

    order = torch.randperm(n)
    total = 0.0
    for start in range(0, n, batch):
        idx = order[start:start + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item() * idx.shape[0]
    return total / n


def torch_infer(net, x, batch: int) -> None:
    """PyTorch's forward over ``x`` in batches of ``batch``, without gradients."""
    import torch

    with torch.no_grad():
        for start in range(0, x.shape[0], batch):
            net(x[start:start + batch])
