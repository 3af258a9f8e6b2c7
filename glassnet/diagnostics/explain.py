"""``explain``: walk one batch through a model layer by layer and say what happens at each step.

Forward it reports shapes, the formula, the parameter-count arithmetic and activation
statistics; with targets it adds the loss, gradient norms and the update the optimizer would
make. For a network of a handful of units and one sample it writes out every node's sum and
every weight's slope, so the hand calculations of an introductory course can be checked.
Nothing in the model or its optimizer changes: gradients are restored and the update is made
on copies.
"""

from __future__ import annotations

import copy
import math
import re

import numpy as np

from glassnet import backend
from glassnet import losses as losses_module
from glassnet import optimizers as optimizers_module
from glassnet.diagnostics import recurrent_steps
from glassnet.layers.dense import Dense
from glassnet.models import chain, data, loop, prepare, training

#: a sigmoid output below 1 - SATURATION or above SATURATION, or a tanh output with
#: |y| > SATURATION, is saturated: its slope is under 4% (sigmoid) or 2% (tanh) of its peak.
SATURATION = 0.99


class Explanation:
    """What ``explain`` found; ``str()`` is the report, ``records`` the same as data.

    Attributes:
        records: one dict per layer (see ``explain``); ``to_dataframe()`` tabulates them.
        x: the input batch (N, ...).
        outputs: each layer's output for the batch, in layer order.
        prediction: the model's output (``outputs[-1]``).
        loss: the loss on the batch (penalties included), or None without targets.
        input_gradients: dL/d(layer input) per layer (None without targets).
        gradients: per layer, ``{key: dL/dparam}`` (penalty gradients included).
        updated: per layer, ``{key: param after one optimizer step}`` (copies; the model
            keeps its weights), or None when there is no optimizer.
        steps: per recurrent layer name (a Bidirectional's directions as "bi/forward_lstm"), a
            ``RecurrentSteps``: every time step's gates and states, and with targets the gradient
            reaching each step (``steps[name].grad_norms()``); ``plot_steps()`` draws the latter.
        report: the text ``str()`` returns.
    """

    def __init__(self, model, x, records, outputs, loss, input_gradients, gradients, updated,
                 report, steps=None):
        self.model, self.x, self.records, self.outputs = model, x, records, outputs
        self.loss, self.input_gradients, self.gradients, self.updated = loss, input_gradients, gradients, updated
        self.report = report
        self.steps = steps or {}

    @property
    def prediction(self) -> np.ndarray:
        return self.outputs[-1]

    def to_dataframe(self):
        """One row per layer; dict fields become ``grad_norm_<key>`` / ``update_ratio_<key>`` columns."""
        import pandas as pd

        rows = []
        for rec in self.records:
            row = {k: v for k, v in rec.items() if not isinstance(v, dict)}
            for field in ("grad_norm", "update_ratio"):
                for key, value in (rec.get(field) or {}).items():
                    row[f"{field}_{key}"] = value
            rows.append(row)
        return pd.DataFrame(rows).set_index("layer")

    def plot(self, ax=None, sample: int = 0):
        """Draw the network with node values and edge weights (small networks only); returns the
        matplotlib Axes (see ``glassnet.diagnostics.draw_network``)."""
        from glassnet.diagnostics.network_diagram import draw_network

        return draw_network(self, ax=ax, sample=sample)

    def plot_steps(self, ax=None, sample: int | None = None, key: str = "state"):
        """One line per recurrent layer: the norm of the gradient reaching each time step, log
        scale (a SimpleRNN's falls towards step 0, an LSTM's holds better); returns the Axes.

        Args:
            sample: one sample's gradients instead of the whole batch's.
            key: "state" (all states together), "h", "c" or "input" (dL/dx at the step).
        """
        if not self.steps:
            raise ValueError("plot_steps needs a recurrent layer (SimpleRNN, LSTM, GRU) in the model.")
        return recurrent_steps.plot_gradients_through_time(self.steps, ax=ax, sample=sample, key=key)

    def __str__(self):
        return self.report

    def __repr__(self):
        return f"<Explanation of {self.model.name!r}: {len(self.records)} layers, loss={self.loss}>"


def explain(model, x, y=None, *, loss=None, optimizer=None, print_fn=print, max_units: int = 8,
            max_samples: int = 4) -> Explanation:
    """Walk one batch forward (and backward when ``y`` is given) and report every layer.

    Args:
        model: a ``Sequential`` (it is built from ``x`` if needed); a graph (``gn.Model``) is
            explained call by call by ``glassnet.diagnostics.explain_graph``.
        x: one batch of inputs, (N, ...).
        y: its targets; then the loss, gradients and the optimizer's update are reported.
        loss: the loss to use instead of the compiled one (a name or Loss).
        optimizer: the optimizer whose step is previewed instead of the compiled one. It is
            deep-copied: its slots and step count do not change.
        print_fn: called with the report; None prints nothing.
        max_units: layers at most this wide (and with at most this many inputs) show every node.
        max_samples: batches at most this large show node values; one sample shows the sums.

    Returns:
        Explanation: the report as text and data. Each record holds ``layer``, ``type``,
        ``input_shape``, ``output_shape``, ``formula``, ``params``, ``param_arithmetic``,
        ``activation``, ``mean``, ``std``, ``zero_share`` and ``dead_units`` (ReLU),
        ``saturated_share`` (sigmoid, tanh), and with targets ``input_grad_norm``,
        ``grad_norm`` and ``update_ratio`` (dicts keyed by parameter, ||Δθ|| / ||θ||).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> model = gn.Sequential([gn.layers.Dense(1, use_bias=False, input_shape=(1,))], seed=0)
        >>> model.set_weights([np.array([[2.0]])])
        >>> model.compile(optimizer=gn.optimizers.SGD(0.01), loss="mse")
        >>> e = model.explain(np.array([[3.0]]), np.array([[10.0]]), print_fn=None)
        >>> float(e.gradients[0]["kernel"][0, 0]), round(float(e.updated[0]["kernel"][0, 0]), 4)
        (-24.0, 2.24)
    """
    if getattr(model, "is_graph", False):  # layer calls in graph order: glassnet/diagnostics/explain_graph.py
        from glassnet.diagnostics.explain_graph import explain_graph

        if loss is not None:
            raise ValueError("explain on a graph model uses its compiled losses and loss weights; compile it "
                             "instead of passing loss=....")
        return explain_graph(model, x, y, optimizer=optimizer, print_fn=print_fn)
    if not model.layers:
        raise ValueError("explain needs a model with layers.")
    if data.takes_text(model.layers):  # raw strings for a first TextVectorization layer
        x = data.as_text(x, "x", model.input_shape[1:] if model.built else None)
        if not model.built:
            model.build(x.shape[1:])
    else:
        x = data.as_array(x, "x", model.layers[0].dtype)
        if not model.built:
            model.build(x.shape[1:])
        data.check_features(x, model.input_shape)
    loss_fn = fused = None
    if y is not None:
        loss_fn = losses_module.get(loss) if loss is not None else model.loss
        if loss_fn is None:
            raise ValueError("explain needs a loss to compute gradients: compile the model or pass loss=...")
        x, y = prepare.prepare_xy(model, x, y, loss=loss_fn)
        fused = losses_module.fused_with(loss_fn, model.layers[-1].output_activation)
    opt = optimizer if optimizer is not None else model.optimizer
    if opt is not None:
        opt = optimizers_module.get(opt)

    layers = model.layers
    saved_grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in layers]
    recurrent = recurrent_steps.start_recording(layers)
    try:
        # -- forward: the loop fit runs, over the plain chain (every layer's own output) -------
        calls = chain.plain_calls(layers)
        last = (len(layers) - 1,) if fused is not None else ()
        values, masks = [x] + [None] * len(layers), [None] * (len(layers) + 1)
        loop.forward(calls, values, masks, training=False, logits=last)
        inputs, outputs, logits = values[:-1], values[1:], None
        if fused is not None:
            logits = outputs[-1]
            outputs[-1] = layers[-1].output_activation.forward(logits)
        # -- loss and backward -----------------------------------------------------------
        loss_value = penalty = input_grads = grads = out_grads = None
        if y is not None:
            if fused is not None:
                data_loss, grad = fused.value_and_gradient(y, logits)
            else:
                data_loss, grad = loss_fn.value_and_gradient(y, outputs[-1])
            penalty = training.regularization_loss(model)
            loss_value = data_loss + penalty
            shares = [[] for _ in values]  # one gradient reaches each slot of a chain
            loop.backward(calls, [None] * len(layers) + [grad], logits=last, shares=shares)
            out_grads = [arrived[0][1] if arrived else None for arrived in shares[1:]]
            input_grads = [arrived[0][1] if arrived else None for arrived in shares[:-1]]
            for layer in layers:
                layer.add_regularization_grads()
            grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in layers]
    finally:
        for layer, saved in zip(layers, saved_grads):
            for k, g in saved.items():
                layer.grads[k][...] = g
        traces = recurrent_steps.stop_recording(recurrent)
    steps = {}
    index = {id(layer): i for i, layer in enumerate(layers)}
    for name, layer, owner in recurrent:
        i = index[id(owner)]
        # A Bidirectional's input gradient is the sum of its two directions': not one's own.
        into = input_grads[i] if input_grads is not None and owner is layer else None
        steps[name] = recurrent_steps.RecurrentSteps.from_trace(name, layer, traces[name], inputs[i], into)
    updated = _preview_update(layers, grads, opt) if grads is not None and opt is not None else None

    records = []
    for i, layer in enumerate(layers):
        rec = _record(layer, inputs[i], outputs[i])
        if grads is not None:
            rec["input_grad_norm"] = _norm(input_grads[i])
            rec["grad_norm"] = {k: _norm(g) for k, g in grads[i].items()}
            if updated is not None:
                rec["update_ratio"] = {k: _ratio(updated[i][k], layer.params[k]) for k in layer.params}
        records.append(rec)

    ctx = _Context(model, x, y, inputs, outputs, loss_fn, fused, loss_value, penalty, out_grads,
                   input_grads, grads, updated, opt, max_units, max_samples, steps)
    report = "\n".join(_report(ctx, records))
    result = Explanation(model, x, records, outputs, loss_value, input_grads, grads, updated, report,
                         steps=steps)
    if print_fn is not None:
        print_fn(report)
    return result


# -- pieces of the computation ----------------------------------------------------------------------
def _preview_update(layers, grads, opt):
    """Each parameter after one step of a copy of ``opt``; the model and ``opt`` are untouched."""
    opt = copy.deepcopy(opt)
    new = [{k: p.copy() for k, p in layer.params.items()} for layer in layers]
    opt.apply_gradients((f"{layer.name}/{k}", new[i][k], grads[i][k])
                        for i, layer in enumerate(layers) if layer.trainable for k in layer.params)
    return new


def _norm(a) -> float | None:
    if a is None:
        return None
    return float(np.sqrt(np.square(a, dtype=np.float64).sum()))


def _ratio(new, old) -> float | None:
    """||new - old|| / ||old||; None when the weights are all zero (a fresh bias)."""
    denominator = _norm(old)
    if not denominator:
        return None
    return _norm(new.astype(np.float64) - old) / denominator  # astype: on a device too (Diagnostics)


def _record(layer, x, y) -> dict:
    act = layer.output_activation
    name = None if act is None else act.name
    rec = {
        "layer": layer.name,
        "type": type(layer).__name__,
        "input_shape": tuple(x.shape),
        "output_shape": tuple(y.shape),
        "formula": formula(layer),
        "params": layer.count_params(),
        "param_arithmetic": param_arithmetic(layer),
        "activation": name,
    }
    if np.issubdtype(y.dtype, np.number):  # an Input of raw strings has no mean
        rec.update(mean=float(np.mean(y, dtype=np.float64)), std=float(np.std(y, dtype=np.float64)))
    stats = activation_stats(name, y)
    rec.update(stats)
    return rec


def activation_stats(name: str | None, y: np.ndarray) -> dict:
    """Share of zeros and of dead units for ReLU, share of saturated outputs for sigmoid/tanh.

    A unit (a position on the last axis) is dead when it outputs 0 for every sample of ``y``.
    """
    y = backend.asarray(y)  # a device array stays there: Diagnostics reads its figures only
    if name == "relu":
        zero = y == 0
        dead = zero.reshape(-1, y.shape[-1]).all(axis=0)
        return {"zero_share": float(zero.mean()), "dead_units": int(dead.sum())}
    if name == "sigmoid":
        return {"saturated_share": float(((y < 1 - SATURATION) | (y > SATURATION)).mean())}
    if name == "tanh":
        return {"saturated_share": float((np.abs(y) > SATURATION).mean())}
    return {}


def param_arithmetic(layer) -> str:
    """The parameter count written as a sum of shape products: ``784 x 128 + 128 = 100,480``."""
    arrays = [*layer.params.values(), *layer.state.values()]
    total = sum(a.size for a in arrays)
    if not arrays:
        return "0"
    expr = " + ".join(" x ".join(str(d) for d in a.shape) or "1" for a in arrays)
    text = f"{total:,}" if expr == str(total) else f"{expr} = {total:,}"
    if layer.state:
        text += f" ({sum(a.size for a in layer.state.values()):,} not trained)"
    elif not layer.trainable:
        text += " (frozen)"
    return text


def formula(layer) -> str:
    """The layer's forward formula: its ``formula`` attribute, or from its type or the ``Math:``
    section of its docstring."""
    if isinstance(getattr(layer, "formula", None), str):
        return layer.formula
    act = layer.output_activation
    if isinstance(layer, Dense):
        z = "x W + b" if layer.use_bias else "x W"
        return f"y = {z}" if act.name == "linear" else f"y = {act.name}({z})"
    if act is not None and type(layer).__name__ in ("Activation", "ReLU", "LeakyReLU", "ELU", "Softmax"):
        suffix = " along the last axis" if act.name == "softmax" else ""
        return f"y = {act.name}(x){suffix}"
    doc = type(layer).__doc__ or ""
    math_part = re.search(r"Math:\s*\n((?:[ \t]+\S.*\n?)+)", doc)
    if math_part:
        entries = _math_entries(math_part.group(1))
        # explain runs the layers as predict does: a layer whose inference differs (dropout,
        # batch statistics) is shown by its inference entry
        text = entries.get("inference", entries.get("forward", next(iter(entries.values()))))
        text = re.split(r";\s*backward\b", text)[0].replace("``", "").rstrip(" ,;.")
        act = layer.output_activation  # "act(z)" named as Dense's formula names it: relu(z), or z
        if act is None:
            return text
        return re.sub(r"\bact\(([^()]*)\)", r"\1" if act.name == "linear" else rf"{act.name}(\1)", text)
    summary = doc.strip().splitlines()[0] if doc.strip() else type(layer).__name__
    return summary


def _math_entries(section: str) -> dict[str, str]:
    """A docstring's ``Math:`` lines as {keyword: formula}: an entry opens with ``forward``,
    ``backward``, ``training`` or ``inference`` (or nothing: key "") and goes on over the lines
    indented deeper than it, joined into one line."""
    entries, key, indent = {}, None, None
    for line in section.splitlines():
        depth, text = len(line) - len(line.lstrip()), line.strip()
        if key is not None and depth > indent:
            entries[key] += " " + text
            continue
        word = re.match(r"(forward|backward|training|inference)\b\s*", text)
        key = word.group(1) if word else ("" if not entries else key or "")
        if key in entries and not word:
            entries[key] += " " + text
        else:
            entries[key] = text[word.end():] if word else text
        indent = depth
    return {k: re.sub(r"\s+", " ", v).strip() for k, v in entries.items()}


# -- the text report ----------------------------------------------------------------------------------
class _Context:
    def __init__(self, model, x, y, inputs, outputs, loss_fn, fused, loss, penalty, out_grads,
                 input_grads, grads, updated, opt, max_units, max_samples, steps):
        self.__dict__.update(locals())
        del self.__dict__["self"]


def num(v) -> str:
    """A number the way one writes it by hand: 9, -24, 2.24, 0.9999, 1.238."""
    v = float(v)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return str(v)
    if v == round(v) and abs(v) < 1e6:
        return str(int(round(v)))
    return f"{v:.4g}"


def _num_after(old, new) -> str:
    """``new`` with enough digits to differ from ``old`` when it does (1 - 0.01 x 0.0003 = 0.999997)."""
    text = num(new)
    digits = 4
    while float(old) != float(new) and text == num(old) and digits < 9:
        digits += 1
        text = f"{float(new):.{digits}g}"
    return text


def _p(v) -> str:
    """A factor in a product: negative numbers in parentheses, 2 x (-1)."""
    s = num(v)
    return f"({s})" if s.startswith("-") else s


def _values(a) -> str:
    """A small array written with ``num``: [2, 3] or [[5, 1], [0.5, 2]]; raw text quoted: ['a cat']."""
    a = np.asarray(a)
    if a.ndim == 0:
        value = a.item()
        return repr(value) if isinstance(value, str) else num(value)
    return "[" + ", ".join(_values(row) for row in a) + "]"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _small(ctx, layer, i) -> bool:
    out = ctx.outputs[i]
    inp = ctx.inputs[i]
    return out.ndim == 2 and inp.ndim == 2 and out.shape[1] <= ctx.max_units and inp.shape[1] <= ctx.max_units


def _report(ctx, records):
    model, x = ctx.model, ctx.x
    n = x.shape[0]
    total = sum(r["params"] for r in records)
    lines = [f'Explaining model "{model.name}": {_plural(len(records), "layer")}, '
             f'{_plural(total, "parameter")}, '
             f"a batch of {_plural(n, 'sample')}"
             + ("" if ctx.y is not None else " (forward only: pass y to see the loss and gradients)")]
    lines.append(f"input x: shape {tuple(x.shape)}")
    if n <= ctx.max_samples and x.ndim == 2 and x.shape[1] <= ctx.max_units:
        lines.append(f"  values: {_values(x[0] if n == 1 else x)}")
    lines += ["", "FORWARD"]
    for i, (layer, rec) in enumerate(zip(model.layers, records)):
        lines.append(f"{i + 1}. {rec['layer']} ({rec['type']}): {rec['input_shape']} -> {rec['output_shape']}")
        lines.append(f"   formula: {rec['formula']}")
        lines.append(f"   parameters: {rec['param_arithmetic']}")
        small = _small(ctx, layer, i)
        if small and n == 1:
            lines += ["   " + s for s in _node_sums(ctx, layer, i)]
        elif small and n <= ctx.max_samples:
            lines.append(f"   values (one row per sample): {_values(ctx.outputs[i])}")
        stats = f"   output: mean {rec['mean']:.4g}, std {rec['std']:.4g}" if "mean" in rec else "   output: strings"
        if "zero_share" in rec:
            stats += (f", zeros {rec['zero_share']:.1%}, dead units {rec['dead_units']} of "
                      f"{rec['output_shape'][-1]} (zero for every sample)")
        if "saturated_share" in rec:
            stats += f", saturated {rec['saturated_share']:.1%} (slope near 0)"
        lines.append(stats)
        for st in _steps_of(ctx, layer):
            lines += recurrent_steps.report_lines(st, recurrent_steps.forward_lines)
    pred = ctx.outputs[-1]
    if n == 1 and pred.size <= ctx.max_units:
        lines.append(f"prediction: {_values(pred[0])}")
    if ctx.y is None:
        return lines
    lines += ["", "LOSS"]
    loss_line = f"{ctx.loss_fn.name} = {ctx.loss:.6g}"
    if n == 1 and pred.size <= ctx.max_units and isinstance(ctx.loss_fn, losses_module.MeanSquaredError) and pred.shape[1] == 1:
        loss_line = f"{ctx.loss_fn.name} = ({num(pred[0, 0])} - {num(ctx.y[0, 0])})^2 = {num(ctx.loss)}"
    if ctx.penalty:
        loss_line += f" (weight penalties included: {ctx.penalty:.4g})"
    lines.append(loss_line)
    lines += ["", "BACKWARD (from the loss towards the input; a slope is dL/d(that value))"]
    for i in range(len(model.layers) - 1, -1, -1):
        layer, rec = model.layers[i], records[i]
        lines.append(f"{i + 1}. {rec['layer']} ({rec['type']})")
        if _small(ctx, layer, i) and n == 1 and isinstance(layer, Dense):
            lines += ["   " + s for s in _slopes(ctx, layer, i)]
        norms = ", ".join(f"{k} {v:.4g}" for k, v in rec["grad_norm"].items())
        into = rec["input_grad_norm"]  # None where no gradient exists: a TextVectorization's strings
        grad_line = f"   gradient norms: input {'none (raw strings)' if into is None else f'{into:.4g}'}"
        lines.append(grad_line + (f", {norms}" if norms else ""))
        for st in _steps_of(ctx, layer):
            lines += recurrent_steps.report_lines(st, recurrent_steps.backward_lines)
        if rec.get("update_ratio"):
            ratios = ", ".join(f"{k} {'n/a (all zero)' if v is None else f'{v:.3g}'}"
                               for k, v in rec["update_ratio"].items())
            lines.append(f"   update/weight ratio of one {type(ctx.opt).__name__} step: {ratios}")
    if ctx.updated is not None:
        lines.append("(an update/weight ratio around 1e-3 is healthy; far above: the steps are too big, "
                     "far below: too small)")
    return lines


def _steps_of(ctx, layer) -> list:
    """The ``RecurrentSteps`` recorded in ``layer`` (itself recurrent, or a Bidirectional's two)."""
    return [st for name, st in ctx.steps.items() if name == layer.name or name.startswith(layer.name + "/")]


def _node_sums(ctx, layer, i):
    """Each node of a one-sample batch written out: node 0 = 2 x 1 + 3 x 1 = 5."""
    x, y = ctx.inputs[i][0], ctx.outputs[i][0]
    act = layer.output_activation
    if isinstance(layer, Dense):
        W = layer.params["kernel"]
        b = layer.params["bias"] if layer.use_bias else None
        lines = []
        for j in range(W.shape[1]):
            terms = " + ".join(f"{_p(x[k])} x {_p(W[k, j])}" for k in range(W.shape[0]))
            z = float(np.dot(x.astype(np.float64), W[:, j].astype(np.float64)) + (0.0 if b is None else b[j]))
            if b is not None:
                terms += f" + {_p(b[j])}"
            if act.name == "linear":
                lines.append(f"node {j} = {terms} = {num(y[j])}")
            elif act.name == "softmax":  # a function of all the nodes together, shown below
                lines.append(f"z of node {j} = {terms} = {num(z)}")
            else:
                lines.append(f"node {j} = {act.name}({terms}) = {act.name}({num(z)}) = {num(y[j])}")
        if act.name == "softmax":
            lines.append(f"softmax: node j = e^(z_j) / sum of e^z = {_values(y)}")
        return lines
    if act is not None and act.name != "linear" and y.shape == x.shape:
        if act.name == "softmax":
            return [f"node {j} = e^{_p(x[j])} / sum(e^x) = {num(y[j])}" for j in range(y.shape[0])]
        return [f"node {j} = {act.name}({num(x[j])}) = {num(y[j])}" for j in range(y.shape[0])]
    return [f"values: {_values(y)}"]


def _slopes(ctx, layer, i):
    """Per node dL/dz and per weight dL/dw = dL/dz x input, plus the optimizer's step."""
    last = i == len(ctx.model.layers) - 1
    g_out = ctx.out_grads[i]
    g_z = g_out if (last and ctx.fused is not None) else layer.activation.backward(g_out)
    # activation.backward only reads its cache from this same forward pass, so g_z is exact.
    g_z = g_z[0]
    x = ctx.inputs[i][0]
    exprs = [_grad_expression(ctx, j) if last else None for j in range(g_z.shape[0])]
    lines = []
    z_name = "node" if layer.activation.name == "linear" else "z of node"
    for j in range(g_z.shape[0]):
        expr = exprs[j]
        lines.append(f"dL/d({z_name} {j}) = " + (f"{expr} = {num(g_z[j])}" if expr else num(g_z[j])))
    W = layer.params["kernel"]
    new = ctx.updated[i] if ctx.updated is not None else None
    plain = _plain_sgd(ctx.opt)
    penalised = "kernel" in layer.regularizers
    for k in range(W.shape[0]):
        for j in range(W.shape[1]):
            slope = ctx.grads[i]["kernel"][k, j]
            factor = exprs[j] if exprs[j] else _p(g_z[j])
            text = f"w(input {k} -> node {j}) = {num(W[k, j])}: slope = {factor} x {_p(x[k])}"
            text += f" + penalty = {num(slope)}" if penalised else f" = {num(slope)}"
            if new is not None:
                after = _num_after(W[k, j], new["kernel"][k, j])
                if plain is not None:
                    text += f"; step: {num(W[k, j])} - {num(plain)} x {_p(slope)} = {after}"
                else:
                    text += f"; one {type(ctx.opt).__name__} step moves it to {after}"
            lines.append(text)
    if layer.use_bias:
        for j in range(W.shape[1]):
            slope = ctx.grads[i]["bias"][j]
            text = f"b(node {j}) = {num(layer.params['bias'][j])}: slope = {num(slope)}"
            if new is not None:
                text += f"; after one step {_num_after(layer.params['bias'][j], new['bias'][j])}"
            lines.append(text)
    return lines


def _grad_expression(ctx, j) -> str | None:
    """dL/dz for one output of a one-sample batch written as the course does: 2 x (6 - 10)."""
    pred, y = ctx.outputs[-1][0], ctx.y
    k = pred.shape[0]
    if y.ndim != 2:  # sparse labels: the one-hot target of output j is [label == j]
        target = float(int(y[0]) == j)
    else:
        target = float(y[0, j])
    name = type(ctx.loss_fn).__name__
    act = ctx.model.layers[-1].output_activation.name
    if name == "MeanSquaredError" and act == "linear":
        scale = "2" if k == 1 else f"2/{k}"
        return f"{scale} x ({num(pred[j])} - {num(target)})"
    if ctx.fused is not None:
        base = f"({num(pred[j])} - {num(target)})"
        return base if name != "BinaryCrossentropy" or k == 1 else f"{base} / {k}"
    return None


def _plain_sgd(opt) -> float | None:
    """The learning rate when ``opt`` is plain SGD (θ ← θ - lr g), else None."""
    if (type(opt) is optimizers_module.SGD and not opt.momentum and not opt.weight_decay
            and opt.clipnorm is None and opt.clipvalue is None and opt.global_clipnorm is None):
        return opt.current_learning_rate
    return None
