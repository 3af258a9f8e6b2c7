"""``explain`` for graph models (``gn.Model``): one batch through the layer calls in graph order.

Forward, each call shows what it reads, its formula, its parameters and output statistics (as
``explain`` does for a Sequential). Backward, in reverse order, each tensor shows the gradient
shares that reached it: a tensor read by several layers (a fan-out, a residual connection) gets
one share from each and their sum; a layer called several times (shared) sums its parameter
gradients over the calls. Nothing in the model or its optimizer changes.
"""

from __future__ import annotations

import math

from glassnet import optimizers as optimizers_module
from glassnet.diagnostics import recurrent_steps
from glassnet.diagnostics.explain import Explanation, _norm, _plural, _preview_update, _ratio, _record
from glassnet.layers.reshaping import Input as InputLayer
from glassnet.models import graph
from glassnet.models import outputs as outputs_module
from glassnet.models.nested import layer_kind


class GraphExplanation(Explanation):
    """An ``Explanation`` of a graph: ``records`` and ``outputs`` follow the layer calls in graph
    order (Inputs included); ``shares`` maps each call's label to the gradient shares (reader,
    norm) that added up at its output; ``output_gradients`` (with targets) holds, per call in the
    same order, dL/d(its output), the sum of those shares (None where no loss depends on it; an
    output whose loss is paired with its sigmoid or softmax gets it wrt the pre-activation);
    ``gradients`` and ``updated`` follow ``model.layers``; ``steps`` walks each recurrent layer
    called once, as for a Sequential."""

    def __init__(self, *args, shares=None, predictions=None, steps=None, output_gradients=None):
        super().__init__(*args, steps=steps)
        self.shares, self.predictions, self.output_gradients = shares, predictions, output_gradients

    @property
    def prediction(self):
        """The model's outputs, as ``model(x)`` returns them (an array, a list or a dict)."""
        return self.predictions

    def plot(self, ax=None, sample: int = 0):
        from glassnet.diagnostics.network_diagram import draw_network

        return draw_network(self, ax=ax, sample=sample)


def explain_graph(model, x, y=None, *, optimizer=None, print_fn=print) -> GraphExplanation:
    """Walk one batch through a graph model's layer calls in order (and back when ``y`` is given).

    Args:
        model: a ``gn.Model``; compiled when ``y`` is given (its losses and loss weights are used).
        x: the inputs as ``fit`` takes them: an array, a list in input order or a dict by name.
        y: the targets as ``fit`` takes them; then the loss, each call's gradient norms, the
            shares that add up at fan-outs and shared layers, and one optimizer step's
            update/weight ratio are reported.
        optimizer: the optimizer whose step is previewed instead of the compiled one (deep-copied).
        print_fn: called with the report; None prints nothing.

    Returns:
        GraphExplanation: per call a record (``layer``, ``type``, ``reads``, shapes, ``formula``,
        ``param_arithmetic``, output statistics; with ``y`` also ``output_grad_norm`` and
        ``grad_norm``), and the report as text.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> x = gn.Input((2,), name="x")
        >>> h = gn.layers.Dense(2, name="h")(x)
        >>> model = gn.Model(x, gn.layers.Add(name="residual")([x, h]), seed=0)
        >>> model.compile("sgd", "mse")
        >>> e = model.explain(np.ones((1, 2)), np.zeros((1, 2)), print_fn=None)
        >>> [reader for reader, _ in e.shares["x"]]  # x feeds the Add and the Dense: two shares
        ['residual', 'h']
    """
    if y is not None:
        if not model.compiled:
            raise ValueError("explain needs a loss to compute gradients: compile the model first.")
        xa, ya = outputs_module.prepare_xy(model, x, y)
        xs = xa.arrays
    else:
        xs = model._arrays(x)
    index = graph.node_indices(model.nodes)
    shared = {id(n.layer) for n in model.nodes if index[id(n)] > 0}  # layers called more than once

    def label(node):
        return f"{node.layer.name}[{index[id(node)]}]" if id(node.layer) in shared else node.layer.name

    values = {}
    with recurrent_steps.recording(model.layers) as recurrent:
        model.forward(xs, values=values)
        walked = _steps(model, recurrent, values)
    predictions = model._structure([values[id(t)] for t in model.outputs])
    records = []
    for node in model.nodes:
        out = values[id(node.output)]
        ins = [values[id(t)] for t in node.inputs] or [out]
        rec = _record(node.layer, ins[0], out)
        rec["type"] = layer_kind(node.layer)
        rec["call"] = label(node)
        rec["reads"] = [label(t.node) for t in node.inputs]
        if len(ins) > 1:
            rec["input_shape"] = [tuple(a.shape) for a in ins]
        if node.multi_output:  # a nested model with several outputs: every shape (the figures are its first's)
            rec["output_shape"] = [tuple(values[id(t)].shape) for t in node.outputs]
        records.append(rec)

    loss_value = grads = updated = opt = output_gradients = None
    shares: dict[str, list] = {}
    if y is not None:
        saved = [{k: g.copy() for k, g in layer.grads.items()} for layer in model.layers]
        try:
            with recurrent_steps.recording(model.layers) as recurrent:
                loss_value, _, out_grads = outputs_module.forward_loss(model, xa, ya, None, training=False)
                loss_value += sum(layer.regularization_loss() for layer in model.layers if layer.regularizers)
                by_tensor = {}
                model.backward(out_grads, logits=outputs_module._fused_outputs(model), shares=by_tensor)
                walked = _steps(model, recurrent, values, by_tensor)
            for layer in model.layers:
                if layer.regularizers:
                    layer.add_regularization_grads()
            grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in model.layers]
        finally:
            for layer, kept in zip(model.layers, saved):
                for k, g in kept.items():
                    layer.grads[k][...] = g
        output_gradients = []
        for node, rec in zip(model.nodes, records):
            # a nested model with several outputs gets shares at each: one gradient per output
            parts = [by_tensor.get(id(t), []) for t in (node.outputs if node.multi_output else [node.output])]
            shares[rec["call"]] = [("loss" if src is None else label(src), _norm(g)) for part in parts
                                   for src, g in part]
            sums = [sum(g for _, g in part) if part else None for part in parts]
            output_gradients.append(sums if node.multi_output else sums[0])
            norms = [0.0 if g is None else _norm(g) for g in sums]
            rec["output_grad_norm"] = math.hypot(*norms)  # over all its outputs
            if node.multi_output:
                rec["output_grad_norms"] = norms
                rec["output_shares"] = [[("loss" if src is None else label(src), _norm(g)) for src, g in part]
                                        for part in parts]
        opt = optimizer if optimizer is not None else model.optimizer
        if opt is not None:
            opt = optimizers_module.get(opt)
            updated = _preview_update(model.layers, grads, opt)
        steps = updated or [None] * len(grads)
        for layer, g, new, rec in zip(model.layers, grads, steps, _first_calls(model, records)):
            rec["grad_norm"] = {k: _norm(v) for k, v in g.items()}
            if new is not None:
                rec["update_ratio"] = {k: _ratio(new[k], layer.params[k]) for k in layer.params}
    report = "\n".join(_report(model, xs, records, shares, loss_value, opt, walked))
    result = GraphExplanation(model, xs[0] if len(xs) == 1 else xs, records,
                              [values[id(n.output)] for n in model.nodes], loss_value, None, grads, updated,
                              report, shares=shares or None, predictions=predictions, steps=walked,
                              output_gradients=output_gradients)
    if print_fn is not None:
        print_fn(report)
    return result


def _steps(model, recurrent, values, by_tensor=None) -> dict:
    """``RecurrentSteps`` per recurrent layer called once (a shared layer's calls run on replicas)."""
    steps = {}
    for name, layer, owner in recurrent:
        calls = [node for node in model.nodes if node.layer is owner]
        if len(calls) != 1 or not layer.trace:
            continue
        node = calls[0]
        into = None
        if by_tensor is not None and owner is layer:  # the share this call sent to what it read
            into = next((g for src, g in by_tensor.get(id(node.inputs[0]), []) if src is node), None)
        steps[name] = recurrent_steps.RecurrentSteps.from_trace(name, layer, layer.trace, values[id(node.inputs[0])],
                                                                into)
    return steps


def _first_calls(model, records):
    """The record of each layer's first call, in ``model.layers`` order."""
    first = {}
    for node, rec in zip(model.nodes, records):
        first.setdefault(id(node.layer), rec)
    return [first[id(layer)] for layer in model.layers]


def _report(model, xs, records, shares, loss_value, opt, steps):
    n = xs[0].shape[0]
    total = model.count_params()
    lines = [f'Explaining graph model "{model.name}": {_plural(len(records), "layer call")}, '
             f'{_plural(total, "parameter")}, a batch of {_plural(n, "sample")}'
             + ("" if loss_value is not None else " (forward only: pass y to see the loss and gradients)"),
             "", "FORWARD (layer calls in graph order: each runs after everything it reads)"]
    calls = {}
    for node in model.nodes:
        calls[id(node.layer)] = calls.get(id(node.layer), 0) + 1
    for i, (node, rec) in enumerate(zip(model.nodes, records)):
        if isinstance(node.layer, InputLayer):
            lines.append(f"{i + 1}. {rec['call']} (Input): {rec['output_shape']}")
            continue
        lines.append(f"{i + 1}. {rec['call']} ({rec['type']}) <- {', '.join(rec['reads'])}: "
                     f"{rec['input_shape']} -> {rec['output_shape']}")
        lines.append(f"   formula: {rec['formula']}")
        shared = f" (shared: called {calls[id(node.layer)]} times)" if calls[id(node.layer)] > 1 else ""
        lines.append(f"   parameters: {rec['param_arithmetic']}{shared}")
        first = "first " if isinstance(rec["output_shape"], list) else ""
        lines.append(f"   {first}output: mean {rec['mean']:.4g}, std {rec['std']:.4g}")
        lines += _step_lines(steps, node.layer, recurrent_steps.forward_lines)
    if loss_value is None:
        return lines
    lines += ["", f"LOSS = {loss_value:.6g} (" + ", ".join(
        f"{w:g} x {type(loss).__name__} on {name}" for name, loss, w in
        zip(model.output_names, model.loss, model.loss_weights)) + ")"]
    lines += ["", "BACKWARD (calls in reverse order; a tensor read by several layers gets one gradient "
                  "share from each, and they add up)"]
    for i in range(len(model.nodes) - 1, -1, -1):
        node, rec = model.nodes[i], records[i]
        arrived = shares.get(rec["call"], [])
        if "output_grad_norms" in rec:  # several outputs: each its own gradient, from its own readers
            norms = ", ".join(f"[{k}] {n:.4g}" for k, n in enumerate(rec["output_grad_norms"]))
            lines.append(f"{i + 1}. {rec['call']} ({rec['type']}): dL/d(outputs) norms {norms}")
            for k, part in enumerate(rec["output_shares"]):
                if part:
                    lines.append(f"   output {k}: " + " + ".join(f"from {src} ({norm:.4g})" for src, norm in part))
        else:
            lines.append(f"{i + 1}. {rec['call']} ({rec['type']}): dL/d(output) norm {rec['output_grad_norm']:.4g}")
        if len(arrived) > 1 and "output_grad_norms" not in rec:
            parts = " + ".join(f"from {src} ({norm:.4g})" for src, norm in arrived)
            lines.append(f"   fan-out: {len(arrived)} shares add up: {parts}")
        if "grad_norm" in rec and rec["grad_norm"]:
            norms = ", ".join(f"{k} {v:.4g}" for k, v in rec["grad_norm"].items())
            summed = f" (summed over its {calls[id(node.layer)]} calls)" if calls[id(node.layer)] > 1 else ""
            lines.append(f"   parameter gradient norms{summed}: {norms}")
        if rec.get("update_ratio"):
            ratios = ", ".join(f"{k} {'n/a (all zero)' if v is None else f'{v:.3g}'}"
                               for k, v in rec["update_ratio"].items())
            lines.append(f"   update/weight ratio of one {type(opt).__name__} step: {ratios}")
        lines += _step_lines(steps, node.layer, recurrent_steps.backward_lines)
    return lines


def _step_lines(steps, layer, table) -> list:
    lines = []
    for name, st in steps.items():
        if name == layer.name or name.startswith(layer.name + "/"):
            lines += recurrent_steps.report_lines(st, table)
    return lines
