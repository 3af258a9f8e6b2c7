"""The Layer contract every glassnet layer follows.

- ``params`` and ``grads`` are dicts of named arrays with the same keys and shapes; saved arrays
  that are not trained (``"moving_mean"``) live in ``state``.
- ``build(input_shape)`` creates parameters lazily; shapes include the batch axis as ``None``.
- ``forward(x, training=False)`` returns the output and caches what ``backward`` needs.
- ``backward(grad)`` overwrites ``grads`` and returns the gradient with respect to the input.
- ``get_config()`` is exactly the constructor's arguments; ``from_config`` is ``cls(**config)``.
- Randomness comes from ``self.rng``, a generator the model seeds; never from NumPy's globals.

Layers that combine several tensors (the merging layers: ``Add``, ``Concatenate``, ``Dot``...) set
the class attribute ``takes_list = True`` and take lists throughout, one entry per input, in order:

- ``build(input_shapes)`` and ``compute_output_shape(input_shapes)`` get a list of shapes;
- ``forward(inputs, training=False)`` gets a list of arrays and returns ONE array;
- ``backward(grad)`` gets the gradient wrt that one output and returns a LIST of input gradients,
  ``dL/dinputs[i]`` at index i, each shaped like its input.

Calling such a layer on a single array, or a single-input layer on a list, is a clear error.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import re

import numpy as np

from glassnet import backend, initializers, regularizers, utils
from glassnet.layers import symbolic

# Keras' automatic names: per class, "dense", then "dense_1", "dense_2" ... for the process.
# Models draw from the same counters ("sequential", "functional"), as in Keras.
_name_counts: dict[str, itertools.count] = {}


def auto_name(base: str) -> str:
    """The next automatic name for ``base``: ``base`` itself the first time, then ``base_1``, ``base_2``..."""
    n = next(_name_counts.setdefault(base, itertools.count()))
    return base if n == 0 else f"{base}_{n}"


def _snake(name: str) -> str:
    # Keras' rule: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, BatchNormalization ->
    # batch_normalization (splitting before every capital would give conv2_d).
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def normalize_shape(shape) -> tuple:
    """A shape as a tuple of positive ints (or None): from ``(d1, d2...)`` or an int. Adds no batch axis."""
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(None if s is None else int(s) for s in shape)
    for s in shape:
        if s is not None and s <= 0:
            raise ValueError(f"input_shape dimensions must be positive integers; got {shape}.")
    return shape


def _unknown_arguments(cls, unknown: dict) -> str:
    """``Dense got an unknown argument 'unitz'; did you mean 'units'? Dense takes: ...``."""
    accepted = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            accepted |= {p.name for p in inspect.signature(klass.__init__).parameters.values()
                         if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"}
    first = next(iter(unknown))
    hint = difflib.get_close_matches(first, accepted, n=1)
    names = ", ".join(repr(k) for k in unknown)
    return (f"{cls.__name__} got {'unknown arguments' if len(unknown) > 1 else 'an unknown argument'} {names}"
            + (f"; did you mean {hint[0]!r}?" if hint else ".")
            + f" {cls.__name__} takes: {', '.join(sorted(accepted))}.")


class Layer:
    """Base class of all layers (the contract is in this module's docstring).

    Args:
        name: a unique name; defaults to the snake-case class name, then with a counter per
            class as Keras names them: ``dense``, ``dense_1``, ``dense_2`` ...
        input_shape: the per-sample shape when this is the first layer, without the batch
            axis, as in Keras: ``Dense(64, input_shape=(784,))``.
        input_dim: Keras' shorthand for a flat first layer: ``input_dim=784`` is
            ``input_shape=(784,)`` (and is stored as that in the config).
        trainable: False freezes the parameters (their gradients are still computed for
            the layers below, but the optimizer skips them).
        dtype: float32 (default) or float64 (gradient checks).
    """

    #: True for layers whose forward takes a list of arrays (see the module docstring).
    takes_list = False
    #: True for layers whose forward reads a time-step mask: ``forward(x, training, mask=None)``
    #: (see glassnet/layers/masking.py).
    takes_mask = False
    #: True for layers that pass the mask they receive on unchanged (``compute_mask``).
    supports_masking = False

    def __init__(self, name: str | None = None, input_shape=None, trainable: bool = True,
                 dtype: str = "float32", input_dim: int | None = None, **unknown):
        if unknown:  # what a subclass did not take reaches here: name it against the whole signature
            raise TypeError(_unknown_arguments(type(self), unknown))
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}.")
        if input_dim is not None:
            if input_shape is not None:
                raise ValueError(f"Give input_shape or input_dim, not both (got input_shape={input_shape!r}, "
                                 f"input_dim={input_dim!r}); input_dim=n means input_shape=(n,).")
            input_shape = (input_dim,)
        self.name = name or auto_name(_snake(type(self).__name__))
        self.trainable = bool(trainable)
        self.dtype = dtype
        self.input_shape = None if input_shape is None else (None, *normalize_shape(input_shape))
        self._input_shape_arg = None if input_shape is None else list(normalize_shape(input_shape))
        self.output_shape = None
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        self.regularizers: dict[str, regularizers.L1L2] = {}
        self.built = False
        self.rng: np.random.Generator | None = None
        # The model clears this on the first layer with parameters: no one needs dL/dx there.
        self.needs_input_grad = True
        #: this layer's calls on symbolic tensors, in order (see glassnet/layers/symbolic.py)
        self.nodes: list = []

    # -- building -----------------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create parameters for inputs of ``input_shape`` (batch axis included as None)."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def add_weight(self, name: str, shape: tuple, initializer="zeros", regularizer=None,
                   trainable: bool = True) -> np.ndarray:
        """Create, register and return a parameter (or a state array when not trainable)."""
        init = initializers.get(initializer)
        value = init(tuple(shape), self._generator(), dtype=self.dtype)
        if trainable:
            self.params[name] = value
            self.grads[name] = np.zeros_like(value)
            reg = regularizers.get(regularizer)
            if reg is not None:
                self.regularizers[name] = reg
        else:
            self.state[name] = value
        return value

    def _generator(self) -> np.random.Generator:
        # A layer used on its own gets a fixed generator, so a script without a model is
        # still reproducible; a model replaces it with one derived from its seed.
        if self.rng is None:
            self.rng = np.random.default_rng(0)
        return self.rng

    # -- computing ------------------------------------------------------------------------------
    def __call__(self, x, training: bool = False):
        """Compute on arrays, or, called on symbolic tensors (``gn.Input``), add a node to a graph."""
        if symbolic.is_symbolic(x):
            return symbolic.call(self, x)
        if self.takes_list:
            if not isinstance(x, (list, tuple)):
                raise TypeError(f"{type(self).__name__} {self.name!r} takes a list of arrays, one per input; "
                                f"got {type(x).__name__}.")
            x = [self._as_float(xi) for xi in x]
            if not self.built:
                self.build([(None, *xi.shape[1:]) for xi in x])
        else:
            x = self._as_float(x)
            if not self.built:
                self.build((None, *x.shape[1:]))
        return self._forward_where_x_lives(x, training)

    def _forward_where_x_lives(self, x, training: bool, **arrays):
        """``forward`` on arrays given directly: computed where ``x`` lives (a NumPy array or one
        on a device), the layer's own arrays moving there if needed (glassnet/models/placement.py)."""
        if backend.only_host_so_far() and not any(map(backend.is_device_array, x if isinstance(x, list) else [x])):
            return self.forward(x, training=training, **arrays)  # nothing can be on a device: no walk
        # imported here: placement walks layers, so it imports this module
        from glassnet.models import placement

        return placement.call_layer(self, x, training, **arrays)

    def _as_float(self, x) -> np.ndarray:
        x = backend.asarray(x)  # a device array stays there (np.asarray would refuse it)
        if x.dtype.kind != "f":  # raw uint8 pixels or integer counts: compute in the layer's float type,
            x = x.astype(self.dtype)  # as Keras does (and as fit and predict already cast)
        return x

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def compute_mask(self, x, mask=None):
        """The mask of this layer's output, given its input and the input's mask (None: no mask)."""
        return mask if self.supports_masking else None

    # Layers with an activation split at the pre-activation z, so a model can pair a final
    # softmax/sigmoid with its loss and use the fused gradient (p - y) on z directly.
    def forward_logits(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Output before the final activation (the layer's own output when it has none)."""
        return self.forward(x, training=training)

    def backward_logits(self, grad: np.ndarray) -> np.ndarray:
        """Backward from a gradient wrt the pre-activation that ``forward_logits`` returned."""
        return self.backward(grad)

    @property
    def output_activation(self):
        """The activation function applied last, or None; used to pair it with the loss."""
        return None

    # -- the layer in a graph (its calls on symbolic tensors, glassnet/layers/symbolic.py) ----------
    # A subclass that stores its last result as ``self.output`` (the NNFS book's layers, in
    # glassnet/nnfs/layers.py) declares ``output = None`` in its class, which shadows these.
    @property
    def output(self):
        """The tensor this layer returned when called on a symbolic tensor (Keras' ``layer.output``);
        a list for a layer that returns several. A shared layer has one per call: ``get_output_at(i)``."""
        return self._node_attribute(None, "output")

    @property
    def input(self):
        """The tensor this layer was called on (a list for a merging layer); an ``Input``'s is its own
        tensor. A shared layer has one per call: ``get_input_at(i)``."""
        return self._node_attribute(None, "input")

    def get_output_at(self, node_index: int):
        """The output of this layer's call number ``node_index`` (0 is the first), as in Keras."""
        return self._node_attribute(node_index, "output")

    def get_input_at(self, node_index: int):
        """The input of this layer's call number ``node_index`` (0 is the first), as in Keras."""
        return self._node_attribute(node_index, "input")

    def _node_attribute(self, node_index: int | None, what: str):
        if not self.nodes:
            # AttributeError, as Keras raises: hasattr(layer, "output") is then False
            raise AttributeError(f"Layer {self.name!r} has not been called on a tensor yet, so it has no {what}; "
                                 f"call it on one first (y = layer(gn.Input(shape=...))), as in a gn.Model.")
        if node_index is None:
            if len(self.nodes) > 1:
                raise AttributeError(f"Layer {self.name!r} has multiple inbound nodes (it is called {len(self.nodes)} "
                                     f"times), hence the notion of \"layer {what}\" is ill-defined. Use "
                                     f"get_{what}_at(node_index) instead.")
            node_index = 0
        if not -len(self.nodes) <= node_index < len(self.nodes):
            raise ValueError(f"Layer {self.name!r} was called {len(self.nodes)} time(s); get_{what}_at({node_index}) "
                             f"asks for a call it does not have.")
        node = self.nodes[node_index]
        if what == "output":
            return list(node.outputs) if node.multi_output else node.output
        if not node.inputs:  # an Input: its tensor is its input and its output
            return node.output
        inputs = node.inputs[:len(node.inputs) - node.state_inputs]  # without the initial_state tensors
        return list(inputs) if node.as_list else inputs[0]

    # -- regularization -------------------------------------------------------------------------
    def regularization_loss(self) -> float:
        return sum(reg(self.params[k]) for k, reg in self.regularizers.items())

    def add_regularization_grads(self) -> None:
        """Add each penalty's gradient to ``grads`` (after ``backward`` wrote the data part)."""
        for key, reg in self.regularizers.items():
            self.grads[key] += reg.gradient(self.params[key])

    # -- weights --------------------------------------------------------------------------------
    def count_params(self) -> int:
        return int(sum(p.size for p in self.params.values()) + sum(s.size for s in self.state.values()))

    def count_trainable_params(self) -> int:
        return int(sum(p.size for p in self.params.values())) if self.trainable else 0

    @property
    def weights(self) -> list[np.ndarray]:
        """The arrays themselves, parameters then state (Keras' ``layer.weights``); writing
        into one changes the layer. ``get_weights()`` gives copies."""
        return [*self.params.values(), *self.state.values()]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """The parameters the optimizer updates: none while the layer is frozen."""
        return list(self.params.values()) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """The state arrays, and the parameters too while the layer is frozen (as in Keras)."""
        return [*([] if self.trainable else self.params.values()), *self.state.values()]

    def weight_names(self) -> list[str]:
        """Parameter then state keys, in the order ``get_weights`` uses."""
        return [*self.params, *self.state]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the arrays as NumPy arrays, as Keras returns them (from a GPU too)."""
        return [backend.to_host(a) if backend.is_device_array(a) else a.copy()
                for a in (*self.params.values(), *self.state.values())]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        names = self.weight_names()
        if len(weights) != len(names):
            raise ValueError(
                f"Layer {self.name!r} expects {len(names)} weight arrays ({', '.join(names)}); "
                f"got {len(weights)}."
            )
        for key, value in zip(names, weights):
            target = self.params.get(key, self.state.get(key))
            value = backend.asarray(value)  # a list, or an array on any device
            if value.shape != target.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight {key!r} has shape {target.shape}; "
                    f"got an array of shape {value.shape}."
                )
            # Copy in place: optimizers and caches keep referring to the same arrays.
            target[...] = backend.placed_like(value, target)  # from any device to the one the layer is on

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._input_shape_arg is not None:
            config["input_shape"] = list(self._input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} output_shape={self.output_shape}>"



class ActivatedLayer(Layer):
    """A layer that computes a pre-activation z and then y = activation(z) (Dense, Conv).

    Subclasses write ``forward_logits`` (x -> z) and ``backward_logits`` (dL/dz -> dL/dx) side by
    side and set ``self.activation``; the composition with the activation lives here once.

    Math:
        forward y = act(z(x)); backward dL/dz = act'(z) ⊙ grad, then backward_logits.
    """

    activation = None  # an ActivationFunction, set by the subclass' constructor

    def forward(self, x, training=False):
        return self.activation.forward(self.forward_logits(x, training))

    def backward(self, grad):
        return self.backward_logits(self.activation.backward(grad))

    @property
    def output_activation(self):
        return self.activation


def check_channels_last(shape, rank: int, layer: str) -> None:
    """Raise unless ``shape`` is channels-last with ``rank`` spatial axes and a known channel count."""
    if len(shape) != rank + 2 or shape[-1] is None:
        layout = "(N, L, C)" if rank == 1 else "(N, H, W, C)"
        raise ValueError(
            f"{layer} needs channels-last inputs {layout} with a known channel count; got "
            f"{tuple(shape)}. Add a channel axis to grayscale images, e.g. x[..., None]."
        )


def check_positive_int(value, name: str, layer: str) -> int:
    return utils.check_positive_int(value, name, layer)
