"""Wrappers: a layer applied in both directions of a sequence (Bidirectional) or at every step (TimeDistributed)."""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet._registry import deserialize, register, serialize
from glassnet.layers.base import Layer
from glassnet.layers.recurrent import Recurrent, call_with_sequence_arguments

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _copy(layer: Layer, **overrides) -> Layer:
    """A fresh, unbuilt layer made from ``layer``'s config with some arguments replaced."""
    return type(layer).from_config({**layer.get_config(), **overrides})


@register("layer")
class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards over the sequence, and merges the two.

    Each step's output then knows the whole sequence, what came before (forward layer) and what
    comes after (backward layer); the backward layer's output sequence is turned back into time
    order before merging, so that step t of both describes the same input step.

    Args:
        layer: a recurrent layer (``LSTM(64)``); the forward direction is a copy of it named
            ``forward_<name>``, and it sets ``return_sequences`` for both.
        merge_mode: "concat" (default), "sum", "mul", "ave", or None (a list ``[y_forward, y_backward]``).
        backward_layer: the backward direction's layer (its ``go_backwards`` must be the opposite of
            ``layer``'s); by default a copy of ``layer`` with ``go_backwards`` flipped, named ``backward_<name>``.
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.

    Shapes:
        x: (N, T, D) -> y: (N, [T,] U_f + U_b) with "concat", (N, [T,] U) otherwise (U_f = U_b = U
        unless backward_layer has other units; then only "concat" can merge them). With
        ``return_state=True`` on ``layer``, as in Keras: ``[y, *forward states, *backward states]``,
        each state (N, U) (an encoder joins them with Concatenate to start a decoder twice as wide).

    Math:
        forward  y_f = F(x), y_b = reverse_t(B(x)) (with return_sequences), y = merge(y_f, y_b)
        backward concat: g_f, g_b = g[..., :U], g[..., U:]; sum: g, g; ave: g/2, g/2; mul: g ⊙ y_b, g ⊙ y_f;
                 dx = F.backward(g_f) + B.backward(reverse_t(g_b))

    The wrapper owns the parameters (``forward_kernel``, ``backward_kernel``...); its two layers
    are pointed at those arrays before every pass, since a model may move them into one buffer.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.Bidirectional(gn.layers.LSTM(4, return_sequences=True))(np.ones((2, 5, 3))).shape
        (2, 5, 8)
    """

    takes_mask = True
    splits_batch_work = True  # as the recurrent layers it runs (see Recurrent)

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("layer", layer), ("backward_layer", backward_layer)):
            if value is not None and not isinstance(value, Recurrent):
                raise ValueError(f"Bidirectional: {name} must be a recurrent layer (SimpleRNN, LSTM, GRU); "
                                 f"got {type(value).__name__}.")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {MERGE_MODES}; got {merge_mode!r}.")
        if backward_layer is not None and backward_layer.return_state != layer.return_state:
            raise ValueError("Bidirectional: layer and backward_layer must agree on return_state.")
        self.layer = _copy(layer, dtype=self.dtype) if layer.dtype != self.dtype else layer
        self.merge_mode = merge_mode
        self.backward_layer = backward_layer
        self.forward_layer = _copy(layer, name=f"forward_{layer.name}", dtype=self.dtype)
        if backward_layer is None:
            self.backward_layer_ = _copy(layer, name=f"backward_{layer.name}", go_backwards=not layer.go_backwards,
                                         dtype=self.dtype)
        else:
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError("Bidirectional: backward_layer must have the opposite go_backwards of layer "
                                 f"(both are go_backwards={layer.go_backwards}); set go_backwards=True on it.")
            if backward_layer.units != layer.units and merge_mode not in ("concat", None):
                raise ValueError(f"Bidirectional: merge_mode={merge_mode!r} needs layer and backward_layer of the "
                                 f"same units ({layer.units} vs {backward_layer.units}); use merge_mode='concat'.")
            if backward_layer.return_sequences != layer.return_sequences:
                raise ValueError("Bidirectional: layer and backward_layer must agree on return_sequences.")
            self.backward_layer_ = _copy(backward_layer, dtype=self.dtype)
        self.return_sequences = layer.return_sequences
        # Keras: the output(s), then the forward direction's final states, then the backward's.
        self.return_state = layer.return_state
        # Keras' rule: with whole sequences, masked steps output 0 in both directions, so that the
        # reversed backward sequence lines up with the forward one.
        for sub in self.directions:
            sub.zero_output_for_mask = self.return_sequences

    @property
    def directions(self) -> tuple:
        return (self.forward_layer, self.backward_layer_)

    # -- building: the wrapper owns the arrays, prefixed by direction ----------------------------
    def build(self, input_shape):
        for prefix, sub in zip(("forward_", "backward_"), self.directions):
            sub.rng = self._generator()
            sub.build(input_shape)
            for key in sub.params:
                self.params[prefix + key], self.grads[prefix + key] = sub.params[key], sub.grads[key]
            for key, reg in sub.regularizers.items():
                self.regularizers[prefix + key] = reg
        super().build(input_shape)

    def _share_arrays(self) -> None:
        """Point both directions at the wrapper's arrays (rebinding, no copy)."""
        for prefix, sub in zip(("forward_", "backward_"), self.directions):
            for key in sub.params:
                sub.params[key], sub.grads[key] = self.params[prefix + key], self.grads[prefix + key]
            sub.rng = self._generator()  # the epoch's generator, which the model reseeds

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            return (*shape[:-1], shape[-1] + self.backward_layer_.units)
        return shape

    def compute_mask(self, x, mask=None):
        return mask if self.return_sequences else None

    # -- forward and backward ------------------------------------------------------------------
    def __call__(self, x, training: bool = False, mask=None, initial_state=None):
        """As ``Layer.__call__``, with Keras' call arguments ``mask`` (boolean (N, T)) for arrays, as
        the recurrent layers take it (in a graph the mask travels with the tensor instead), and
        ``initial_state``: the forward direction's starting states, then the backward's (arrays,
        or tensors in a graph)."""
        return call_with_sequence_arguments(self, x, training, mask, initial_state)

    @property
    def state_sizes(self) -> list[int]:
        """The units of each starting state ``initial_state`` takes: the forward direction's, then the backward's."""
        return [sub.units for sub in self.directions for _ in sub.state_names]

    def forward(self, x, training=False, mask=None, initial_state=None):
        self._share_arrays()
        starts = [None, None]
        if initial_state is not None:
            initial_state = list(initial_state)
            if len(initial_state) != len(self.state_sizes):
                raise ValueError(f"Bidirectional {self.name!r}: initial_state must be a list of "
                                 f"{len(self.state_sizes)} arrays, the forward direction's {len(self.forward_layer.state_names)} states then "
                                 f"the backward's; got {len(initial_state)}.")
            k = len(self.forward_layer.state_names)
            starts = [initial_state[:k], initial_state[k:]]
        self._has_initial_state = initial_state is not None
        y_f = self.forward_layer.forward(x, training=training, mask=mask, initial_state=starts[0])
        y_b = self.backward_layer_.forward(x, training=training, mask=mask, initial_state=starts[1])
        states = []
        if self.return_state:  # each direction gave [y, *its final states]
            (y_f, *states_f), (y_b, *states_b) = y_f, y_b
            states = [*states_f, *states_b]
        if self.return_sequences:
            y_b = y_b[:, ::-1]  # back to time order
        self._y = (y_f, y_b)
        y = self._merge(y_f, y_b)
        if not self.return_state:
            return y
        return [*(y if self.merge_mode is None else [y]), *states]

    def _merge(self, y_f, y_b):
        if self.merge_mode == "concat":
            return np.concatenate([y_f, y_b], axis=-1)
        if self.merge_mode == "sum":
            return y_f + y_b
        if self.merge_mode == "mul":
            return y_f * y_b
        if self.merge_mode == "ave":
            return (y_f + y_b) / 2
        return [y_f, y_b]

    def backward(self, grad):
        """dL/dx from dL/dy; with ``return_state``, ``grad`` is a list: the output's gradient(s),
        then the forward direction's states', then the backward's (None where no loss reads one)."""
        states_f = states_b = ()
        if self.return_state:
            grads = list(grad)
            outs = 2 if self.merge_mode is None else 1
            k = len(self.forward_layer.state_names)
            grad = grads[:outs] if outs == 2 else grads[0]
            states_f, states_b = grads[outs:outs + k], grads[outs + k:]
        y_f, y_b = self._y
        if grad is None:  # only the states are read (an encoder handing them to a decoder)
            g_f = g_b = None  # each direction's backward takes None as a zero gradient
        elif self.merge_mode == "concat":
            u = y_f.shape[-1]
            g_f, g_b = grad[..., :u], grad[..., u:]
        elif self.merge_mode == "sum":
            g_f = g_b = grad
        elif self.merge_mode == "mul":
            g_f, g_b = grad * y_b, grad * y_f
        elif self.merge_mode == "ave":
            g_f = g_b = grad / 2
        else:  # merge_mode=None: a graph may use one direction only, sending None for the other
            g_f, g_b = (np.zeros_like(y) if g is None else g for g, y in zip(grad, self._y))
        if self.return_sequences and g_b is not None:
            g_b = g_b[:, ::-1]
        for sub in self.directions:
            sub.needs_input_grad = self.needs_input_grad
        try:
            if g_f is not None:
                xp = backend.array_module(g_f, g_b)  # NumPy, or CuPy on a GPU
                g_f, g_b = xp.ascontiguousarray(g_f), xp.ascontiguousarray(g_b)
            dx_f = self.forward_layer.backward([g_f, *states_f] if self.return_state else g_f)
            dx_b = self.backward_layer_.backward([g_b, *states_b] if self.return_state else g_b)
        finally:
            for sub in self.directions:
                sub.needs_input_grad = True
        if self._has_initial_state:  # each direction gave [dx, d_state...]: dx, then both directions' states'
            (dx_f, *d_f), (dx_b, *d_b) = dx_f, dx_b
            return [None if dx_f is None else dx_f + dx_b, *d_f, *d_b]
        return None if dx_f is None else dx_f + dx_b

    # -- config ---------------------------------------------------------------------------------
    def get_config(self):
        return {**super().get_config(), "layer": serialize(self.layer), "merge_mode": self.merge_mode,
                "backward_layer": None if self.backward_layer is None else serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = deserialize("layer", config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize("layer", config["backward_layer"])
        return cls(**config)


@register("layer")
class TimeDistributed(Layer):
    """Applies one layer, with one set of weights, to every time step of a sequence.

    Args:
        layer: any single-input layer (``Dense``, ``Conv2D``...); it sees (N·T, ...) inputs.
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.

    Shapes:
        x: (N, T, ...) -> y: (N, T, ...layer's output per step).

    Math:
        forward  y[:, t] = layer(x[:, t]) for every t, as one call on (N·T, ...);
        backward dx[:, t] = layer.backward(grad[:, t]); dW = Σ_t (the layer's dW at step t), which the one
                 call on (N·T, ...) sums by itself.

    The wrapper's ``params``, ``grads`` and ``state`` are the wrapped layer's own dicts.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.TimeDistributed(gn.layers.Dense(2))(np.ones((4, 5, 3))).shape
        (4, 5, 2)
    """

    supports_masking = True  # each step is computed alone: the time mask still holds

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer) or layer.takes_list:
            raise ValueError(f"TimeDistributed wraps one single-input glassnet layer; got {type(layer).__name__}.")
        self.layer = _copy(layer, dtype=self.dtype) if layer.dtype != self.dtype else layer
        # One set of dicts: a model that moves the arrays into its buffer moves them for both.
        self.params, self.grads, self.state = self.layer.params, self.layer.grads, self.layer.state
        self.regularizers = self.layer.regularizers

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed needs inputs (N, T, ...) with a time axis; got {tuple(input_shape)}. "
                             f"Without a time axis, use the layer {type(self.layer).__name__} itself.")
        self.layer.rng = self._generator()
        if not self.layer.built:
            self.layer.build((None, *input_shape[2:]))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None, *input_shape[2:]))
        return (input_shape[0], input_shape[1], *inner[1:])

    def forward(self, x, training=False):
        self.layer.rng = self._generator()
        n, t = x.shape[:2]
        y = self.layer.forward(x.reshape(n * t, *x.shape[2:]), training=training)  # (N·T, ...)
        return y.reshape(n, t, *y.shape[1:])

    def backward(self, grad):
        n, t = grad.shape[:2]
        self.layer.needs_input_grad = self.needs_input_grad
        try:
            dx = self.layer.backward(grad.reshape(n * t, *grad.shape[2:]))
        finally:
            self.layer.needs_input_grad = True
        return None if dx is None else dx.reshape(n, t, *dx.shape[1:])

    def get_config(self):
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "layer": deserialize("layer", config["layer"])})
