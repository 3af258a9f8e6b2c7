"""Symbolic tensors: calling a layer on one records a ``Node`` of a graph instead of computing.

``gn.Input(shape)`` starts a graph; ``Dense(3)(t)`` returns a new symbolic tensor of the shape the
layer would produce, and remembers where it came from. ``gn.Model(inputs, outputs)`` then walks
these records back from the outputs. No arrays flow here: only shapes, checked as each call is made.
A layer that returns several arrays (a recurrent layer with ``return_state``, ``Bidirectional``
with ``merge_mode=None``) returns a list of tensors, and a recurrent layer takes its
``initial_state`` as tensors too (``LSTM(8)(x, initial_state=[h, c])``, as in Keras).
"""

from __future__ import annotations


class SymbolicTensor:
    """A placeholder for a batch of arrays in a graph (Keras' ``KerasTensor``).

    Attributes:
        shape: the batch shape, batch axis None: ``(None, 28, 28, 1)``.
        dtype: the dtype the producing layer computes in.
        node: the ``Node`` (a layer call) that produces this tensor.
        name: the producing layer's name (an ``Input``'s is the input's name).
    """

    def __init__(self, shape: tuple, dtype: str, node: "Node", index: int = 0):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.index = index  # which of its node's outputs (a layer may return several)
        self.name = node.layer.name if index == 0 else f"{node.layer.name}_{index}"

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype} name={self.name!r}>"


class Node:
    """One call of a layer on symbolic tensors: ``output = layer(inputs)``.

    A layer called twice (a shared layer) has two nodes; ``layer.nodes`` lists them in call order.

    Attributes:
        layer: the layer called.
        inputs: the symbolic tensors it was called on, in order (empty for an ``Input``); the
            last ``state_inputs`` of them are its ``initial_state``.
        as_list: whether the layer took them as a list (merging layers) or one tensor.
        outputs: the symbolic tensors it returned (several for ``return_state``).
        output: the first of them, the layer's output proper.
        multi_output: whether the layer returns a list (then ``outputs`` holds one tensor per entry).
        state_inputs: how many of ``inputs`` are the ``initial_state`` (0: none).
    """

    def __init__(self, layer, inputs: list, as_list: bool, output_shape, state_inputs: int = 0):
        self.layer = layer
        self.inputs = list(inputs)
        self.as_list = as_list
        self.state_inputs = state_inputs
        self.multi_output = isinstance(output_shape, list)
        shapes = output_shape if self.multi_output else [output_shape]
        self.outputs = [SymbolicTensor(shape, layer.dtype, self, i) for i, shape in enumerate(shapes)]
        self.output = self.outputs[0]
        layer.nodes.append(self)

    def __repr__(self):
        return f"<Node {self.layer.name} <- {[t.name for t in self.inputs]}>"


def is_symbolic(x) -> bool:
    """True for a symbolic tensor, an ``Input`` layer standing for one, or a list holding any."""
    if isinstance(x, (list, tuple)):  # one level only: a nested list of numbers is data
        return any(_is_symbolic_item(item) for item in x)
    return _is_symbolic_item(x)


def _is_symbolic_item(x) -> bool:
    return isinstance(x, SymbolicTensor) or getattr(x, "is_graph_input", False) is True


def as_tensor(x) -> SymbolicTensor:
    """``x`` as a symbolic tensor: an ``Input`` layer stands for the tensor it declares."""
    if getattr(x, "is_graph_input", False):
        return x.output
    if not isinstance(x, SymbolicTensor):
        raise TypeError(f"Expected a symbolic tensor (from gn.Input or a layer called on one); got "
                        f"{type(x).__name__}. Arrays and symbolic tensors cannot be mixed in one call.")
    return x


def call(layer, x, initial_state=None):
    """Record ``layer(x)`` for symbolic ``x`` and return the output tensor, checking shapes now;
    a list of tensors for a layer that returns several arrays.

    An unbuilt layer stays unbuilt: its output shape comes from a throwaway copy built for these
    inputs (so a mismatch is reported at this call), and ``gn.Model`` builds the layer itself with
    weights drawn from the model's seed, as ``Sequential`` does. ``initial_state``: a recurrent
    layer's starting states as tensors (N, units), one per state.
    """
    inputs = [as_tensor(t) for t in x] if isinstance(x, (list, tuple)) else [as_tensor(x)]
    states = _state_tensors(layer, initial_state)
    text = [t.name for t in inputs if t.dtype == "string"]
    if text and not getattr(layer, "takes_text", False):
        raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}) cannot read the string input {text[0]!r}; "
                         f"turn the text into numbers first with gn.layers.TextVectorization.")
    shapes = [t.shape for t in inputs] if layer.takes_list else inputs[0].shape
    if layer.built:
        _check_same_shape(layer, layer.input_shape, shapes)
        output_shape = layer.compute_output_shape(shapes)
    else:
        if layer.nodes:  # a shared layer: every call must see the shape of the first
            first = [t.shape for t in layer.nodes[0].inputs] if layer.takes_list else layer.nodes[0].inputs[0].shape
            _check_same_shape(layer, first, shapes)
        probe = type(layer).from_config(layer.get_config())
        probe.build(shapes)
        output_shape = probe.output_shape
    output_shape = _all_output_shapes(layer, output_shape)
    node = Node(layer, inputs + states, layer.takes_list, output_shape, state_inputs=len(states))
    return list(node.outputs) if node.multi_output else node.output


def _state_tensors(layer, initial_state) -> list:
    """``initial_state`` as a checked list of tensors (N, units), or []."""
    if initial_state is None:
        return []
    names = getattr(layer, "state_names", None)
    if names is not None:  # a recurrent layer
        sizes, which = [layer.units] * len(names), f"of shape (None, {layer.units}) ({', '.join(names)})"
    elif hasattr(layer, "state_sizes"):  # Bidirectional: the forward direction's states, then the backward's
        sizes = layer.state_sizes
        which = f"of shapes {[(None, u) for u in sizes]} (the forward direction's states, then the backward's)"
    else:
        raise TypeError(f"Layer {layer.name!r} ({type(layer).__name__}) takes no initial_state.")
    states = [as_tensor(t) for t in (initial_state if isinstance(initial_state, (list, tuple)) else [initial_state])]
    if len(states) != len(sizes) or any(t.shape[1:] != (u,) for t, u in zip(states, sizes)):
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: initial_state must be a list of {len(sizes)} "
                         f"tensor(s) {which}; got {[t.shape for t in states]}.")
    return states


def returns_several(layer) -> bool:
    """Whether ``layer`` returns a list of arrays: a recurrent layer with ``return_state`` (the
    output, then its final states) or ``Bidirectional(merge_mode=None)`` (forward, backward)."""
    has_states = hasattr(layer, "state_names") or hasattr(layer, "directions")  # a recurrent layer, a Bidirectional
    return bool((getattr(layer, "return_state", False) and has_states)
                or (hasattr(layer, "merge_mode") and layer.merge_mode is None))


def _all_output_shapes(layer, output_shape):
    """The shapes of everything the layer returns: a list for ``return_state`` (the output, then
    each state (N, units)) and for ``Bidirectional(merge_mode=None)`` (forward, backward)."""
    if getattr(layer, "return_state", False) and hasattr(layer, "state_names"):
        return [tuple(output_shape)] + [(None, layer.units)] * len(layer.state_names)
    shapes = [output_shape]
    if hasattr(layer, "merge_mode") and layer.merge_mode is None:
        backward_units = (layer.backward_layer or layer.layer).units
        shapes = [tuple(output_shape), (*output_shape[:-1], backward_units)]
    if getattr(layer, "return_state", False) and hasattr(layer, "directions"):  # Bidirectional's states
        return shapes + [(None, d.units) for d in layer.directions for _ in d.state_names]
    return shapes if len(shapes) > 1 else output_shape


def _check_same_shape(layer, expected, got) -> None:
    expected_list = list(expected) if layer.takes_list else [expected]
    got_list = list(got) if layer.takes_list else [got]
    same = len(expected_list) == len(got_list) and all(
        len(e) == len(g) and all(a is None or b is None or a == b for a, b in zip(e[1:], g[1:]))
        for e, g in zip(expected_list, got_list))
    if not same:
        raise ValueError(f"Layer {layer.name!r} was built for inputs {expected} but is called on {got}; a "
                         f"layer called twice (shared) must get inputs of the same shape each time.")
