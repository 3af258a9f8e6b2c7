"""Draw a small network as nodes and edges with matplotlib: values on nodes, weights on edges."""

from __future__ import annotations

import numpy as np

from glassnet.diagnostics.explain import Explanation, explain, num
from glassnet.diagnostics.explain_graph import GraphExplanation
from glassnet.layers.dense import Dense

#: edges of one layer are labelled with their weight only up to this many (beyond, only colour).
MAX_EDGE_LABELS = 16
#: the vertical distance between two nodes of one layer
NODE_SPACING = 1.2


def draw_network(subject, x=None, y=None, *, ax=None, sample: int = 0, max_units: int = 12):
    """Draw every node with its value for one sample and every weight on its edge.

    Blue edges are positive weights, red negative; the line width grows with |w|. With
    targets, each edge label also shows the weight's slope dL/dw and each hidden node the
    slope of the loss with respect to its value.

    A graph (``gn.Model``) is drawn call by call, each call in the column of its depth (the
    longest path from an input): a merge (``Add``, ``Concatenate`` ...) gets grey edges from
    each input, an edge that skips columns (a residual connection) bows upwards, and a tensor
    read by several calls says so under its nodes (its slope is the sum of their shares).

    Args:
        subject: an ``Explanation``, or a model (then ``x`` and optionally ``y`` are explained
            silently first; a graph takes ``x`` and ``y`` as ``fit`` does).
        x, y: the batch to explain when ``subject`` is a model.
        ax: a matplotlib Axes to draw on; a new figure otherwise.
        sample: which row of the batch the node values come from.
        max_units: refuse layers wider than this (a drawing of hundreds of nodes says nothing).

    Raises:
        ValueError: a layer with no picture as a column of neurons (wider than ``max_units``, a
            convolution, a recurrent layer, a nested model, raw text), named, with where to look
            instead (``explain``'s report, ``summary``'s "Connected to" column).

    Returns:
        matplotlib.axes.Axes: ``ax``, or a new one on a pyplot figure (shown once in a notebook,
        by ``plt.show()`` in a script; ``ax.figure.savefig(path)`` saves it).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> model = gn.Sequential([gn.layers.Dense(2, activation="tanh", input_shape=(2,)),
        ...                        gn.layers.Dense(1)], seed=0)
        >>> ax = gn.diagnostics.draw_network(model, np.array([[2.0, 3.0]]))
        >>> x = gn.Input((2,))
        >>> h = gn.layers.Dense(2, activation="tanh")(x)
        >>> graph = gn.Model(x, gn.layers.Dense(1)(gn.layers.Add()([x, h])), seed=0)  # a residual
        >>> ax = gn.diagnostics.draw_network(graph, np.array([[2.0, 3.0]]))
    """
    import matplotlib.pyplot as plt

    exp = subject if isinstance(subject, Explanation) else explain(subject, x, y, print_fn=None)
    count = (exp.x[0] if isinstance(exp.x, list) else exp.x).shape[0]  # a graph's inputs: a list
    if not 0 <= sample < count:
        raise ValueError(f"sample must index the batch of {count}; got {sample}.")
    if isinstance(exp, GraphExplanation):  # calls in columns by depth: glassnet/diagnostics/graph_diagram.py
        from glassnet.diagnostics.graph_diagram import draw_graph

        return draw_graph(exp, ax, sample, max_units)
    columns = _columns(exp, sample, max_units)
    if ax is None:
        width = max(4.0, 2.4 * len(columns))
        height = max(3.0, 1.1 * max(len(c["values"]) for c in columns) + 1.2)
        _, ax = plt.subplots(figsize=(width, height))
    positions = [node_positions(len(c["values"])) for c in columns]
    for ci in range(1, len(columns)):
        draw_edges(ax, ci - 1, ci, columns[ci]["edges"], positions[ci - 1], positions[ci])
    top = max(max(ys) for ys in positions)
    for ci, (col, ys) in enumerate(zip(columns, positions)):
        ax.text(ci, top + 0.7, col["title"], ha="center", va="bottom", fontsize=9, weight="bold")
        for j, (value, yy) in enumerate(zip(col["values"], ys)):
            draw_node(ax, ci, yy, value, None if col["slopes"] is None else col["slopes"][j])
    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.set_ylim(-top - 0.8, top + 1.4)
    ax.axis("off")
    set_title(ax, exp)
    return ax


def set_title(ax, exp) -> None:
    title = "node values for one sample; edges: weights"
    if exp.gradients is not None:
        title += f" (∂: slope of the loss, {num(exp.loss)})"
    ax.set_title(title, fontsize=9)


def _columns(exp, sample, max_units):
    """The node columns: the input, then one per layer, with values, slopes and edge data."""
    x = exp.x
    # Text first: one string per sample is (N,), which would otherwise be refused as "not flat".
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError("draw_network draws numbers in its nodes; this model reads raw text (strings). Read "
                         "the layers' statistics and gradients in print(explanation) instead"
                         + _steps_hint(exp) + ".")
    if x.ndim != 2:
        raise ValueError(f"draw_network draws flat inputs (N, D); this model takes {x.shape[1:]} per sample. "
                         f"Read the layers' statistics and gradients in print(explanation) instead"
                         + _steps_hint(exp) + ".")
    grads = exp.input_gradients
    cols = [{"title": "input", "values": x[sample], "slopes": None if grads is None else grads[0][sample],
             "edges": None}]
    for i, (layer, out) in enumerate(zip(exp.model.layers, exp.outputs)):
        if out.ndim != 2:  # a sequence (N, T, D) or an image: no single column of units
            raise ValueError(
                f"draw_network draws flat layers, one row of units per sample; {layer.name} has output shape "
                f"{out.shape[1:]}. Read its statistics and gradients in print(explanation) instead"
                + _steps_hint(exp) + ".")
        if out.shape[1] > max_units or x.shape[1] > max_units:
            raise ValueError(
                f"draw_network is for small networks (at most {max_units} units per layer); "
                f"{layer.name} has output shape {out.shape[1:]}. Use explain()'s statistics instead."
            )
        slopes = None
        if grads is not None and i + 1 < len(grads):
            slopes = grads[i + 1][sample]
        act = layer.output_activation
        title = f"{layer.name}" + (f"\n{act.name}" if act is not None and act.name != "linear" else "")
        if isinstance(layer, Dense):
            edges = {"weights": layer.params["kernel"],
                     "slopes": None if exp.gradients is None else exp.gradients[i]["kernel"],
                     "bias": layer.params["bias"] if layer.use_bias else None}
        elif out.shape[1] == cols[-1]["values"].shape[0]:
            edges = {"label": act.name if act is not None else type(layer).__name__}
        else:
            raise ValueError(f"draw_network cannot draw {type(layer).__name__} ({layer.name}).")
        cols.append({"title": title, "values": out[sample], "slopes": slopes, "edges": edges})
    return cols


def _steps_hint(exp) -> str:
    """Where a recurrent model's picture is: its gradient through time, step by step."""
    return ("; explanation.plot_steps() draws the gradient reaching each time step of its recurrent layers"
            if exp.steps else "")


def node_positions(count: int) -> np.ndarray:
    """The heights of ``count`` nodes in one column, top to bottom, centred on 0."""
    return (np.arange(count)[::-1] - (count - 1) / 2) * NODE_SPACING


def draw_node(ax, x, y, value, slope=None) -> None:
    """One node: a circle with its value and, below it, the slope of the loss wrt that value."""
    ax.scatter([x], [y], s=1100, color="white", edgecolors="black", zorder=3)
    label = num(value) if slope is None else f"{num(value)}\n∂ {num(slope)}"
    ax.text(x, y, label, ha="center", va="center", fontsize=8, zorder=4)


def draw_edges(ax, x0, x1, edges, ys_from, ys_to):
    """The edges from the nodes at (x0, ys_from) to those at (x1, ys_to): one per unit for an
    elementwise layer (``edges["label"]``), else one per weight (``edges["weights"]`` (from, to))."""
    if "weights" not in edges:  # an elementwise layer: one edge per node
        for y0, y1 in zip(ys_from, ys_to):
            ax.plot([x0, x1], [y0, y1], color="gray", lw=1, zorder=1)
        ax.text((x0 + x1) / 2, max(ys_to) + 0.15, edges["label"], ha="center", fontsize=8, color="gray")
        return
    W = np.asarray(edges["weights"], dtype=np.float64)
    scale = float(np.abs(W).max()) or 1.0
    label = W.size <= MAX_EDGE_LABELS
    for k, y0 in enumerate(ys_from):
        for j, y1 in enumerate(ys_to):
            w = W[k, j]
            ax.plot([x0, x1], [y0, y1], color="tab:blue" if w >= 0 else "tab:red",
                    lw=0.5 + 3 * abs(w) / scale, alpha=0.7, zorder=1)
            if label:
                # Stagger the labels along the edges by target so crossing edges keep them apart.
                t = 0.3 + 0.4 * j / max(len(ys_to) - 1, 1)
                text = f"w {num(w)}"
                if edges["slopes"] is not None:
                    text += f"\n∂ {num(edges['slopes'][k, j])}"
                ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0), text, fontsize=7, ha="center", va="center",
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
                        zorder=2)
    if edges["bias"] is not None and len(ys_to) <= MAX_EDGE_LABELS:
        for j, y1 in enumerate(ys_to):
            ax.text(x1, y1 - 0.42, f"b {num(edges['bias'][j])}", fontsize=7, ha="center", va="top",
                    color="dimgray")
