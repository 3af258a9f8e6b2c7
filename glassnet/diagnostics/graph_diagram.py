"""``draw_network`` for graph models (``gn.Model``): each layer call a group of nodes, in columns by depth.

A call sits in the column of its depth, the longest path from an input to it, so everything it
reads lies to its left. A merge gets edges from each of its inputs; a tensor read by several calls
(a fan-out, the start of a residual connection) sends edges to each. The values, weights and
slopes are those of ``model.explain(x, y)`` (glassnet/diagnostics/explain_graph.py).
"""

from __future__ import annotations

import numpy as np

from glassnet import layers as layers_module
from glassnet.diagnostics.network_diagram import NODE_SPACING, draw_edges, draw_node, set_title
from glassnet.layers.dense import Dense
from glassnet.layers.merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from glassnet.layers.reshaping import Input as InputLayer
from glassnet.models.nested import ModelLayer, layer_kind

#: merging layers that combine their inputs unit by unit: unit j of the output reads unit j of each
UNITWISE_MERGES = (Add, Subtract, Multiply, Average, Maximum, Minimum)
#: layers whose units are not a column of neurons, and why (the first match names the layer)
NO_NEURON_PICTURE = (
    ((layers_module.Conv1D, layers_module.Conv2D, layers_module.MaxPooling1D, layers_module.MaxPooling2D,
      layers_module.AveragePooling1D, layers_module.AveragePooling2D, layers_module.GlobalAveragePooling1D,
      layers_module.GlobalAveragePooling2D, layers_module.GlobalMaxPooling1D, layers_module.GlobalMaxPooling2D),
     "it slides a window over positions, so its picture is feature maps, not a column of neurons"),
    ((layers_module.SimpleRNN, layers_module.LSTM, layers_module.GRU, layers_module.Bidirectional,
      layers_module.TimeDistributed),
     "it runs over time steps, so its picture is a sequence of states, not a column of neurons (its steps "
     "are in explanation.steps, and explanation.plot_steps() draws the gradient through time)"),
)
#: the vertical room between two calls stacked in one column (their labels sit in it)
GROUP_GAP = 2.4


def draw_graph(exp, ax, sample: int, max_units: int):
    """Draw ``exp`` (a ``GraphExplanation``) on ``ax`` (a new figure if None); returns the Axes.

    Every call is checked before anything is drawn: a graph with a call that has no neuron
    picture raises ``ValueError`` naming that call, and no half-drawn figure is left behind.
    """
    import matplotlib.pyplot as plt

    calls = _calls(exp, sample, max_units)
    columns: dict[int, list[dict]] = {}
    for call in calls:
        columns.setdefault(call["depth"], []).append(call)
    height = 0.0
    for members in columns.values():
        height = max(height, _place(members))
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 2.4 * len(columns)), max(3.0, 0.9 * height + 1.6)))
    for call in calls:
        for source, edges in call["edges"]:
            _draw_call_edges(ax, source, call, edges)
    for call in calls:
        x = call["depth"]
        ax.text(x, max(call["ys"]) + 0.55, call["title"], ha="center", va="bottom", fontsize=9, weight="bold")
        for j, (value, y) in enumerate(zip(call["values"], call["ys"])):
            draw_node(ax, x, y, value, None if call["slopes"] is None else call["slopes"][j])
        if call["readers"] > 1:  # a fan-out: one tensor read by several calls
            note = f"read by {call['readers']} calls"
            if call["slopes"] is not None:
                note += ": ∂ sums their shares"
            ax.text(x, min(call["ys"]) - 0.5, note, ha="center", va="top", fontsize=7, color="dimgray",
                    style="italic")
    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.set_ylim(-height / 2 - 1.0, height / 2 + 1.4)
    ax.axis("off")
    set_title(ax, exp)
    return ax


def _calls(exp, sample: int, max_units: int) -> list[dict]:
    """Per layer call in graph order: its depth, title, node values and slopes for ``sample``, and
    the edges from each call it reads. Raises ``ValueError`` for a call with no neuron picture."""
    model = exp.model
    index = {id(node): i for i, node in enumerate(model.nodes)}
    readers = {}
    for node in model.nodes:
        for t in node.inputs:
            readers[id(t)] = readers.get(id(t), 0) + 1
    calls_of = {}
    for node in model.nodes:
        calls_of[id(node.layer)] = calls_of.get(id(node.layer), 0) + 1
    layer_index = {id(layer): k for k, layer in enumerate(model.layers)}
    for node in model.nodes:  # a layer with no neuron picture is named before its inputs' shapes are
        _check_kind(node)
    for node, out in zip(model.nodes, exp.outputs):
        _check_shape(node, out, max_units)
    calls = []
    for i, (node, rec, out) in enumerate(zip(model.nodes, exp.records, exp.outputs)):
        layer = node.layer
        slopes = None
        grads = exp.output_gradients
        # As for a Sequential, a node shows dL/d(value) where a layer reads it: a pure output's
        # gradient may be wrt its pre-activation (the loss paired with a softmax or sigmoid).
        if grads is not None and grads[i] is not None and readers.get(id(node.output)):
            slopes = grads[i][sample]
        depth = 0 if not node.inputs else 1 + max(calls[index[id(t.node)]]["depth"] for t in node.inputs)
        sources = [calls[index[id(t.node)]] for t in node.inputs]
        title = rec["call"]
        if isinstance(layer, InputLayer):
            edges = []
        elif len(node.inputs) == 1:
            edges = [(sources[0], _single_input_edges(exp, node, out, sources[0], layer_index, calls_of))]
            act = layer.output_activation
            if act is not None and act.name != "linear":
                title += f"\n{act.name}"
            if calls_of[id(layer)] > 1 and exp.gradients is not None and "weights" in edges[0][1]:
                title += f"\n(∂w: sum of its {calls_of[id(layer)]} calls)"
        else:
            edges = _merge_edges(layer, sources, out)
            title += f"\n{type(layer).__name__}"
        calls.append({"depth": depth, "title": title, "values": out[sample], "slopes": slopes, "edges": edges,
                      "readers": readers.get(id(node.output), 0)})
    return calls


def _check_kind(node) -> None:
    layer = node.layer
    if isinstance(layer, ModelLayer):
        _refuse(layer, f"a nested model is drawn on its own: draw_network(model.get_layer({layer.name!r}), x) "
                       f"with the inputs it receives")
    for kinds, why in NO_NEURON_PICTURE:
        if isinstance(layer, kinds):
            _refuse(layer, why)
    if node.multi_output or node.state_inputs:
        _refuse(layer, "it returns or takes several tensors of states, which have no neuron picture")


def _check_shape(node, out, max_units: int) -> None:
    layer = node.layer
    if not np.issubdtype(out.dtype, np.number):
        _refuse(layer, "it holds raw text (strings): there are no node values nor slopes to draw")
    if out.ndim != 2:
        _refuse(layer, f"its values have shape {out.shape[1:]} per sample, and draw_network draws flat layers "
                       f"(Dense, activations, merges) whose values are one row of units per sample")
    if out.shape[1] > max_units:
        _refuse(layer, f"it has {out.shape[1]} units, and draw_network is for small networks (at most "
                       f"max_units={max_units} units per layer)")


def _refuse(layer, why: str):
    raise ValueError(
        f"draw_network cannot draw layer {layer.name!r} ({layer_kind(layer)}): {why}. Read what each call "
        f"computes, with its gradients, in print(model.explain(x, y)), and what each layer reads in "
        f"model.summary()'s 'Connected to' column.")


def _single_input_edges(exp, node, out, source, layer_index, calls_of) -> dict:
    """A Dense call's weights (and their slopes), or one edge per unit for a layer that keeps the
    width (an activation, dropout, a normalization), as ``draw_network`` draws a Sequential."""
    layer = node.layer
    if isinstance(layer, Dense):
        k = layer_index[id(layer)]
        return {"weights": layer.params["kernel"],
                "slopes": None if exp.gradients is None else exp.gradients[k]["kernel"],
                "bias": layer.params["bias"] if layer.use_bias else None}
    if out.shape[1] == len(source["values"]):
        act = layer.output_activation
        return {"label": act.name if act is not None else type(layer).__name__}
    _refuse(layer, f"it maps {len(source['values'])} units to {out.shape[1]} without a weight matrix to draw")


def _merge_edges(layer, sources: list[dict], out) -> list:
    """One ``(source, edges)`` pair per input of a merging layer: which of its units feed which
    output units (``pairs``), drawn grey (a merge has no weights)."""
    width = out.shape[1]
    if isinstance(layer, UNITWISE_MERGES):
        return [(s, {"pairs": [(j, j) for j in range(width)]}) for s in sources]
    if isinstance(layer, Concatenate):  # a flat tensor's only non-batch axis is the last
        edges, offset = [], 0
        for s in sources:
            units = len(s["values"])
            edges.append((s, {"pairs": [(j, offset + j) for j in range(units)]}))
            offset += units
        return edges
    if isinstance(layer, Dot):  # every output reads every unit of both inputs
        return [(s, {"pairs": [(j, k) for j in range(len(s["values"])) for k in range(width)]}) for s in sources]
    _refuse(layer, "it combines several inputs in a way this picture does not know")


def _place(members: list[dict]) -> float:
    """Stack the calls of one column top to bottom, centred on 0; returns the column's height."""
    sizes = [(len(call["values"]) - 1) * NODE_SPACING for call in members]
    height = sum(sizes) + GROUP_GAP * (len(members) - 1)
    top = height / 2
    for call, size in zip(members, sizes):
        call["ys"] = top - np.arange(len(call["values"])) * NODE_SPACING
        top -= size + GROUP_GAP
    return height


def _draw_call_edges(ax, source: dict, call: dict, edges: dict) -> None:
    x0, x1 = source["depth"], call["depth"]
    if "pairs" not in edges:
        draw_edges(ax, x0, x1, edges, source["ys"], call["ys"])
        return
    for j, k in edges["pairs"]:
        xs, ys = _path(x0, source["ys"][j], x1, call["ys"][k])
        ax.plot(xs, ys, color="gray", lw=1, zorder=1)


def _path(x0, y0, x1, y1, points: int = 20):
    """A straight edge to the next column; an edge that skips columns (a residual connection)
    bows upwards so that it does not run behind the nodes in between."""
    if x1 - x0 <= 1:
        return [x0, x1], [y0, y1]
    t = np.linspace(0.0, 1.0, points)
    lift = 0.6 * NODE_SPACING * (x1 - x0 - 1) + 0.4
    return x0 + t * (x1 - x0), y0 + t * (y1 - y0) + 4 * lift * t * (1 - t)
