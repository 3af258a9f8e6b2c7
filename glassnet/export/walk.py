"""The models' own structure as ONNX nodes: a Sequential's chain, a graph's calls in order."""

from __future__ import annotations

from glassnet.layers.reshaping import Input as InputLayer


def chain(g, model, x: str) -> str:
    """A Sequential's layers applied in turn to tensor ``x``; returns the last output."""
    for layer in model.layers:
        x = g.layer(layer, x)
    return x


def graph(g, model, inputs: list[str]) -> list[str]:
    """A ``gn.Model``'s layer calls in topological order on ``inputs`` (one name per model input);
    returns its outputs' tensor names. A layer called twice is converted twice, and reads one
    copy of its weights (``GraphBuilder.weight`` names them after the layer)."""
    value = {id(t): name for t, name in zip(model.inputs, inputs)}
    for node in model.nodes:
        if isinstance(node.layer, InputLayer):
            continue
        args = [value[id(t)] for t in node.inputs]
        value[id(node.output)] = g.layer(node.layer, args if node.as_list else args[0])
    return [value[id(t)] for t in model.outputs]


def run(g, model, inputs: list[str]) -> list[str]:
    """Either kind of model on ``inputs``; returns its outputs."""
    if getattr(model, "is_graph", False):
        return graph(g, model, inputs)
    return [chain(g, model, inputs[0])]
