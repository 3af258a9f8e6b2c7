"""Recurrent layers step by step: the gates, states and gradients of every time step.

``explain`` gathers them into ``Explanation.steps`` and ``Diagnostics`` reads the gradient that
reaches the first step; both record through ``Recurrent.trace`` (glassnet/layers/recurrent.py).
"""

from __future__ import annotations

import contextlib

import numpy as np

from glassnet.layers.recurrent import Recurrent


#: a first/last ratio of gradient norms below this has vanished: the first step's share of the
#: weight gradient (a sum over steps) is then within a few float32 roundings (eps ≈ 1.2e-7) of the
#: last step's, so it cannot move the weights.
VANISHED = 1e-6


def recurrent_layers(layers) -> list:
    """``(name, layer, owner)`` for each recurrent layer of ``layers``: the layers themselves
    (``owner`` is the layer) and the two directions of a ``Bidirectional`` (named
    "bidirectional/forward_lstm"; ``owner`` is the Bidirectional)."""
    found = []
    for owner in layers:
        if isinstance(owner, Recurrent):
            found.append((owner.name, owner, owner))
            continue
        for attr in ("forward_layer", "backward_layer_"):
            inner = getattr(owner, attr, None)
            if isinstance(inner, Recurrent):
                found.append((f"{owner.name}/{inner.name}", inner, owner))
    return found


def start_recording(layers) -> list:
    """Let each recurrent layer of ``layers`` record its steps (``Recurrent.trace``); returns
    ``recurrent_layers(layers)`` for ``stop_recording``."""
    found = recurrent_layers(layers)
    for _, layer, _ in found:
        layer.trace = {}
    return found


def stop_recording(found) -> dict:
    """Stop the recording ``start_recording`` began; returns each layer's trace by name."""
    traces = {}
    for name, layer, _ in found:
        traces[name], layer.trace = layer.trace, None
    return traces


@contextlib.contextmanager
def recording(layers):
    """``start_recording`` until the block ends; the block gets the recording layers."""
    found = start_recording(layers)
    try:
        yield found
    finally:
        stop_recording(found)


def squared_sum(arrays):
    """Σ a² over ``arrays`` in float64, left where they live (a 0-d array on a GPU): a caller
    that adds these up over batches copies the total to the host once."""
    return sum(np.square(a, dtype=np.float64).sum() for a in arrays)


class RecurrentSteps:
    """What one recurrent layer computed at each time step of a batch (``Explanation.steps[name]``).

    Steps are in processing order: step k is the k-th step the layer ran, time step ``order[k]``
    (k itself, or T-1-k with ``go_backwards``). Gradients are dL/d(that value) for the batch's loss.

    Attributes:
        layer: the layer's name; ``type`` its class name.
        order: (T,) the time index of each step.
        values: name -> (N, T, U): the gates (LSTM "i", "f", "g", "o"; GRU "z", "r", "n"; SimpleRNN
            its pre-activation "a") and the states after each step ("h", and "c" for an LSTM).
        state_grads: state name -> (N, T, U): dL/d(state after step k), the share from the later
            steps and from the output at k together; None without targets.
        input_grads: (N, T, D): dL/dx at each step; None without targets (or for a direction of a
            ``Bidirectional``, whose input gradient is the sum of both).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> model = gn.Sequential([gn.layers.SimpleRNN(3, input_shape=(5, 2), name="rnn"),
        ...                        gn.layers.Dense(1)], seed=0)
        >>> model.compile("sgd", "mse")
        >>> e = model.explain(np.ones((4, 5, 2)), np.zeros((4, 1)), print_fn=None)
        >>> e.steps["rnn"].values["h"].shape, e.steps["rnn"].grad_norms()["input"].shape
        ((4, 5, 3), (5,))
    """

    def __init__(self, layer: str, type_: str, order, values: dict, state_grads: dict | None,
                 input_grads):
        self.layer, self.type, self.order = layer, type_, np.asarray(order)
        self.values, self.state_grads, self.input_grads = values, state_grads, input_grads

    @classmethod
    def from_trace(cls, name: str, layer: Recurrent, trace: dict, x: np.ndarray, input_grad=None) -> "RecurrentSteps":
        """Gather what ``layer`` recorded in ``trace`` during a forward on ``x`` (N, T, D) without
        dropout (and the backward after it, if any); ``input_grad`` is its dL/dx (N, T, D)."""
        order, states = trace["order"], trace["states"]
        n = x.shape[0]
        prev = [np.zeros((n, layer.units), dtype=x.dtype) for _ in layer.state_names]
        per_step = []
        for k, (cache, after) in enumerate(zip(trace["caches"], states)):
            step = dict(layer.step_values(cache, x[:, order[k]], prev))
            step.update(zip(layer.state_names, after))
            per_step.append(step)
            prev = after
        values = {key: np.stack([s[key] for s in per_step], axis=1) for key in per_step[0]}
        state_grads = None
        if trace.get("state_grads") is not None:
            state_grads = {name: np.stack([g[i] for g in trace["state_grads"]], axis=1)
                           for i, name in enumerate(layer.state_names)}
        if input_grad is not None:
            input_grad = input_grad[:, order]  # time order -> processing order
        return cls(name, type(layer).__name__, order, values, state_grads, input_grad)

    @property
    def steps(self) -> int:
        return len(self.order)

    def grad_norms(self, sample: int | None = None) -> dict:
        """Per step, the norm of the gradient reaching it: ``"input"`` (dL/dx_k), each state
        (``"h"``, ``"c"``) and ``"state"`` (all states together); each (T,), over the whole batch
        or for one ``sample``. Empty without targets."""
        if self.state_grads is None:
            return {}
        rows = slice(None) if sample is None else slice(sample, sample + 1)

        def norms(a):  # (N, T, ...) -> (T,)
            a = np.asarray(a[rows], dtype=np.float64)
            return np.sqrt(np.square(a).reshape(a.shape[0], a.shape[1], -1).sum(axis=(0, 2)))

        out = {name: norms(g) for name, g in self.state_grads.items()}
        out["state"] = np.sqrt(sum(np.square(v) for v in out.values()))
        if self.input_grads is not None:
            out["input"] = norms(self.input_grads)
        return out

    def first_last_ratio(self, sample: int | None = None, key: str = "state") -> float | None:
        """The gradient norm reaching the first step over the one at the last step (``key`` as in
        ``grad_norms``); far below 1 means the gradient vanishes through time."""
        norms = self.grad_norms(sample).get(key)
        if norms is None or not norms[-1]:
            return None
        return float(norms[0] / norms[-1])

    def plot(self, ax=None, sample: int | None = None, key: str = "state"):
        """Gradient norm against step on a log scale; returns the matplotlib Axes."""
        return plot_gradients_through_time({self.layer: self}, ax=ax, sample=sample, key=key)

    def __repr__(self):
        return f"<RecurrentSteps of {self.layer!r} ({self.type}): {self.steps} steps>"


def plot_gradients_through_time(steps: dict, ax=None, sample: int | None = None, key: str = "state"):
    """One line per recurrent layer: the norm of the gradient reaching each step (``key`` as in
    ``RecurrentSteps.grad_norms``), log scale; returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    drawn = 0
    for name, st in steps.items():
        norms = st.grad_norms(sample).get(key)
        if norms is None:
            continue
        ax.plot(np.arange(st.steps), norms, marker=".", label=f"{name} ({st.type})")
        drawn += 1
    if not drawn:
        raise ValueError("No gradients to plot: explain the model with targets (model.explain(x, y)).")
    ax.set_yscale("log")
    ax.set_xlabel("step (processing order; the loss reads the last)")
    ax.set_ylabel(f"||dL/d({key})|| at the step")
    ax.set_title("Gradient reaching each time step" + ("" if sample is None else f" (sample {sample})"))
    ax.legend()
    return ax


# -- the text report --------------------------------------------------------------------------------
def shown_steps(steps: int, most: int = 10) -> list:
    """The steps to print: all of them when few, else evenly spaced ones including the first and last."""
    if steps <= most:
        return list(range(steps))
    return sorted(set(np.linspace(0, steps - 1, most).round().astype(int).tolist()))


def _which(shown, steps: int) -> str:
    return f"all {steps} steps" if len(shown) == steps else f"{len(shown)} of the {steps} steps"


def _reversed(st: RecurrentSteps) -> bool:
    """Whether the layer ran from the last time step to the first (go_backwards, or a
    Bidirectional's backward direction): its step k then reads time step T-1-k."""
    return bool(st.steps) and not np.array_equal(st.order, np.arange(st.steps))


def _time_note(st: RecurrentSteps) -> str:
    return (f"  steps in processing order, last time step first: step k reads time step t = {st.steps - 1} - k"
            if _reversed(st) else "")


def forward_lines(st: RecurrentSteps, sample: int = 0) -> list:
    """A table: per step, each gate and state of one sample averaged over its units. A layer that
    runs backwards gets a column ``t``, the time step each step reads."""
    keys = list(st.values)
    units = st.values[keys[0]].shape[-1]
    shown = shown_steps(st.steps)
    rev = _reversed(st)
    lines = [f"step by step ({_which(shown, st.steps)}; sample {sample}, each gate and state averaged over "
             f"its {units} units;", f"  every unit of every sample: explanation.steps[{st.layer!r}].values)",
             *([_time_note(st)] if rev else []),
             "  step " + ("   t " if rev else "") + "".join(f"{k:>11}" for k in keys)]
    for k in shown:
        means = [float(np.mean(st.values[key][sample, k], dtype=np.float64)) for key in keys]
        # 11 wide: a mean such as -1.234e-05 fills 10 and would run into the column before it
        lines.append(f"  {k:>4} " + (f"{st.order[k]:>4} " if rev else "") + "".join(f"{m:>11.4g}" for m in means))
    return lines


def backward_lines(st: RecurrentSteps, sample: int = 0) -> list:
    """A table from the last step back to the first: the norm of the gradient reaching each."""
    batch, one = st.grad_norms(), st.grad_norms(sample)
    keys = [k for k in ("input", *st.state_grads) if k in batch]
    shown = shown_steps(st.steps)[::-1]
    states = ", ".join(f"dL/d{k}" for k in st.state_grads)
    rev = _reversed(st)
    lines = [f"gradient through time, last step first ({_which(shown, st.steps)}): the norm of dL/dx "
             f"(input) at step k and of {states} after it,", f"  over the batch and for sample {sample}",
             *([_time_note(st)] if rev else []),
             "  step " + ("   t " if rev else "") + "".join(f"{f'{k} (batch)':>14}{f'{k} ({sample})':>12}"
                                                          for k in keys)]
    for k in shown:
        lines.append(f"  {k:>4} " + (f"{st.order[k]:>4} " if rev else "")
                     + "".join(f"{batch[key][k]:>14.3g}{one[key][k]:>12.3g}" for key in keys))
    ratio = st.first_last_ratio()
    if ratio is not None:
        both = " and ".join(st.state_grads)
        line = f"the gradient reaching step 0's state ({both}) is {ratio:.3g} times the one at step {st.steps - 1}"
        if ratio < VANISHED:
            line += ": it has vanished through time, so the first steps cannot teach the weights"
        lines.append(line)
    return lines


def report_lines(st: RecurrentSteps, table) -> list:
    """``table(st)`` (``forward_lines`` or ``backward_lines``) indented under a layer of the report,
    its first line led by the layer's name."""
    return [f"   {st.layer}: {line}" if j == 0 else f"   {line}" for j, line in enumerate(table(st))]
