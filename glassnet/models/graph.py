"""The graph beneath ``gn.Model``: its nodes in order, shared layers' replicas, and its config.

A graph is the ``Node`` records that calling layers on symbolic tensors left behind
(glassnet/layers/symbolic.py). Here they are put in an order that can run, checked, and written
to or read from a JSON config (the model file's architecture), without running any code from it.
"""

from __future__ import annotations

import numpy as np

from glassnet._registry import deserialize
from glassnet.layers.base import Layer
from glassnet.layers.reshaping import Input as InputLayer
from glassnet.layers.symbolic import Node, SymbolicTensor, as_tensor

#: a config may describe at most this many layer calls: a hostile file cannot make loading crawl
MAX_CALLS = 16384


class GraphError(ValueError):
    """A graph that cannot be run: a disconnected output, an unused input, a cycle."""


def flatten(structure, what: str) -> tuple[list[SymbolicTensor], list[str] | None]:
    """Tensors from a tensor, list or dict (Keras' three forms); the dict's keys, if a dict."""
    if isinstance(structure, dict):
        keys = list(structure)
        if not all(isinstance(k, str) for k in keys):
            raise TypeError(f"Model {what} given as a dict need str keys; got {keys}.")
        return [as_tensor(structure[k]) for k in keys], keys
    if isinstance(structure, (list, tuple)):
        if not structure:
            raise ValueError(f"Model needs at least one of its {what}; got an empty list.")
        return [as_tensor(t) for t in structure], None
    return [as_tensor(structure)], None


def topological_nodes(outputs: list[SymbolicTensor]) -> list[Node]:
    """Every node the outputs depend on, each after the nodes it reads (depth-first, in call order).

    Raises:
        GraphError: the nodes form a cycle (only a hand-edited graph can).
    """
    order, state = [], {}  # state: id(node) -> "visiting" | "done"
    for out in outputs:
        stack = [(out.node, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                state[id(node)] = "done"
                order.append(node)
                continue
            if state.get(id(node)) == "done":
                continue
            if state.get(id(node)) == "visiting":
                raise GraphError(f"The graph has a cycle through layer {node.layer.name!r}: a layer's "
                                 f"input depends on its own output.")
            state[id(node)] = "visiting"
            stack.append((node, True))
            for t in reversed(node.inputs):
                if state.get(id(t.node)) == "visiting":
                    raise GraphError(f"The graph has a cycle through layer {t.node.layer.name!r}: a "
                                     f"layer's input depends on its own output.")
                if state.get(id(t.node)) != "done":
                    stack.append((t.node, False))
    return order


def replica(layer: Layer) -> Layer:
    """A copy of a built ``layer`` sharing its parameter and state arrays, with grads of its own."""
    if hasattr(layer, "replica"):  # a nested model (ModelLayer): replicas of its inner layers
        return layer.replica()
    twin = type(layer).from_config(layer.get_config())
    twin.build(layer.input_shape)  # sets what build derives besides weights; the weights are replaced
    twin.params, twin.state = layer.params, layer.state  # the same dicts: updates and swaps show
    twin.grads = {key: np.zeros_like(p) for key, p in layer.params.items()}
    twin.regularizers = {}  # penalties count once, on the layer itself
    return twin


def node_indices(nodes: list[Node]) -> dict[int, int]:
    """id(node) -> its index among its layer's calls in ``nodes`` (Keras' node index)."""
    seen, index = {}, {}
    for node in nodes:
        index[id(node)] = seen.get(id(node.layer), 0)
        seen[id(node.layer)] = index[id(node)] + 1
    return index


def graph_config(model) -> dict:
    """A graph model's JSON-ready config: each layer's class and arguments and, per call, the
    [layer, call index] pairs it reads; the inputs and outputs as such pairs (and their dict keys)."""
    index = node_indices(model.nodes)

    def ref(t):  # [layer, call] or, for a call's later outputs (return_state), [layer, call, output]
        return [t.node.layer.name, index[id(t.node)]] + ([t.index] if t.index else [])

    def inbound(node):
        refs = [ref(t) for t in node.inputs]
        if not node.state_inputs:
            return refs
        split = len(refs) - node.state_inputs
        return {"args": refs[:split], "initial_state": refs[split:]}
    layers = []
    for layer in model.layers:
        calls = [inbound(node) for node in model.nodes if node.layer is layer and not isinstance(layer, InputLayer)]
        layers.append({"class_name": type(layer).__name__, "config": layer.get_config(), "inbound_nodes": calls})
    return {"name": model.name, "seed": model.seed, "layers": layers,
            "input_layers": [ref(t) for t in model.inputs], "output_layers": [ref(t) for t in model.outputs],
            "input_keys": model.input_keys, "output_keys": model.output_keys}


def tensors_from_config(config: dict, custom_objects=None, build_layer=None, make_layer=None) -> tuple:
    """Re-create the layers and replay their calls; returns ``(inputs, outputs)`` for ``gn.Model``.

    Args:
        config: ``graph_config``'s dict.
        custom_objects: name -> class for your own layers.
        build_layer: ``build_layer(layer, input_shapes)`` builds each layer before its first
            call (the file loader checks every weight's shape against the file there).
        make_layer: ``make_layer(spec)`` makes each layer from ``{"class_name", "config"}``
            instead of the registry's ``deserialize`` (the file loader builds nested models there).

    Raises:
        GraphError: a call reads a layer or call that does not exist, or the calls form a cycle.
    """
    specs = config.get("layers")
    if not isinstance(specs, list) or not specs:
        raise GraphError("The graph config must list its layers.")
    layers, queues = {}, {}
    for spec in specs:
        if not isinstance(spec, dict) or not isinstance(spec.get("inbound_nodes", []), list):
            raise GraphError(f"A layer entry of the graph config is malformed: {str(spec)[:200]}.")
        layer_spec = {"class_name": spec.get("class_name"), "config": spec.get("config")}
        layer = make_layer(layer_spec) if make_layer is not None else deserialize("layer", layer_spec, custom_objects)
        if not isinstance(layer, Layer):
            raise GraphError(f"{str(spec.get('class_name'))[:100]!r} is not a glassnet layer.")
        if layer.name in layers:
            raise GraphError(f"Two layers of the graph config are named {layer.name[:100]!r}.")
        layers[layer.name] = layer
        queues[layer.name] = list(spec.get("inbound_nodes", []))
    if sum(len(q) for q in queues.values()) > MAX_CALLS:
        raise GraphError(f"The graph config lists more than {MAX_CALLS} layer calls.")
    outputs = {name: [layer.output] for name, layer in layers.items() if isinstance(layer, InputLayer)}

    def lookup(ref):
        if (not isinstance(ref, list) or len(ref) not in (2, 3) or not isinstance(ref[0], str) or ref[0] not in layers
                or not all(isinstance(i, int) and not isinstance(i, bool) for i in ref[1:])):
            raise GraphError(f"The graph config refers to {str(ref)[:100]}, which names no layer's call.")
        calls = outputs.get(ref[0], [])
        if not 0 <= ref[1] < len(calls):
            return None
        result, k = calls[ref[1]], (ref[2] if len(ref) == 3 else 0)
        if not isinstance(result, list):
            result = [result]
        if not 0 <= k < len(result):
            raise GraphError(f"The graph config refers to output {k} of {ref[0][:100]!r}, which returns {len(result)}.")
        return result[k]

    # A shared layer's later call may read layers listed after it: replay every call whose inputs
    # exist, each layer's calls in their order, until none is left (or none can run: a cycle).
    while any(queues.values()):
        progress = False
        for name, queue in queues.items():
            layer = layers[name]
            while queue:
                call = queue[0]
                state_refs = []
                if isinstance(call, dict):  # {"args": [...], "initial_state": [...]}
                    call, state_refs = call.get("args"), call.get("initial_state")
                    if not isinstance(state_refs, list) or not state_refs:
                        raise GraphError(f"Layer {name[:100]!r}: a call's initial_state in the graph config is malformed.")
                if not isinstance(call, list) or not call:
                    raise GraphError(f"Layer {name[:100]!r}: a call in the graph config lists no inputs.")
                inputs = [lookup(ref) for ref in call]
                states = [lookup(ref) for ref in state_refs]
                if any(t is None for t in inputs + states):
                    break
                if not layer.built and build_layer is not None:
                    build_layer(layer, [t.shape for t in inputs] if layer.takes_list else inputs[0].shape)
                if states and not hasattr(layer, "state_names"):
                    raise GraphError(f"Layer {name[:100]!r} ({type(layer).__name__}) takes no initial_state.")
                x = inputs if layer.takes_list else inputs[0]
                outputs.setdefault(name, []).append(layer(x, initial_state=states) if states else layer(x))
                queue.pop(0)
                progress = True
        if not progress:
            stuck = next(name for name, queue in queues.items() if queue)
            raise GraphError(f"Layer {stuck[:100]!r} reads a call that never happens: the graph config has a "
                             f"cycle or a dangling reference ({str(queues[stuck][0])[:100]}).")

    def tensors(refs, keys):
        found = [lookup(ref) for ref in refs] if isinstance(refs, list) else []
        if not found or any(t is None for t in found):
            raise GraphError(f"The graph config's inputs or outputs name calls that do not exist: "
                             f"{str(refs)[:100]}.")
        if keys is None:
            return found
        if not isinstance(keys, list) or len(keys) != len(found) or not all(isinstance(k, str) for k in keys):
            raise GraphError(f"The graph config's input or output keys are malformed: {str(keys)[:100]}.")
        return dict(zip(keys, found))
    return (tensors(config.get("input_layers"), config.get("input_keys")),
            tensors(config.get("output_layers"), config.get("output_keys")))
