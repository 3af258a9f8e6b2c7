"""The models' own structure as ONNX nodes: a Sequential's chain, a graph's calls in order."""

from __future__ import annotations

from glassnet.export.registry import ExportError, layer_converter, output_mask
from glassnet.layers.reshaping import Input as InputLayer


def call(g, layer, x, mask):
    """``layer`` on ``x`` with the mask of ``x`` (a name or None), as ``call_with_mask`` in
    ``predict``; returns (its output, the output's mask)."""
    convert = layer_converter(layer)
    if mask is not None and getattr(layer, "takes_mask", False):
        y = convert(g, layer, x, mask=mask)
    else:
        y = convert(g, layer, x)
    return y, output_mask(g, layer, x, mask)


def chain(g, model, x: str):
    """A Sequential's layers applied in turn to tensor ``x``, each handing the next its mask;
    returns the last output (a list of names for a last layer with ``return_state``)."""
    mask = None
    for layer in model.layers:
        x, mask = call(g, layer, x, mask)
    return x


def graph(g, model, inputs: list[str] = (), given: dict | None = None) -> list[str]:
    """A ``gn.Model``'s layer calls in topological order on ``inputs`` (one name per model input);
    returns its outputs' tensor names. A layer called twice is converted twice, and reads one
    copy of its weights (``GraphBuilder.weight`` names them after the layer). ``given`` maps
    ``id(tensor)`` to a name for tensors that come from elsewhere: the calls producing them are skipped."""
    value = {id(t): name for t, name in zip(model.inputs, inputs)} | (given or {})
    masks = {}
    for node in model.nodes:
        if isinstance(node.layer, InputLayer) or id(node.output) in value:
            continue
        args = [value[id(t)] for t in node.inputs]
        # A merging layer's inputs' masks are not combined: its output has none (as in predict).
        mask = None if node.as_list else masks.get(id(node.inputs[0]))
        y, masks[id(node.output)] = call(g, node.layer, args if node.as_list else args[0], mask)
        if isinstance(y, list):  # return_state: graph models give such a layer one output tensor
            raise ExportError(f"Layer {node.layer.name!r} ({type(node.layer).__name__}) returns several tensors "
                              f"(return_state or merge_mode=None), which a graph model's export cannot name yet; "
                              f"use it as the last layer of a Sequential, or without return_state.")
        value[id(node.output)] = y
    return [value[id(t)] for t in model.outputs]


def run(g, model, inputs: list[str]) -> list[str]:
    """Either kind of model on ``inputs``; returns its outputs."""
    if getattr(model, "is_graph", False):
        return graph(g, model, inputs)
    return [chain(g, model, inputs[0])]
