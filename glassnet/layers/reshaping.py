"""Shape-only layers: Input, Flatten, Reshape, RepeatVector and Permute. Their backward undoes their forward."""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet._registry import register
from glassnet.layers import symbolic
from glassnet.layers.base import Layer, check_positive_int, normalize_shape


#: integer input types Keras code declares (token ids, counts); glassnet reads them as float32
INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


@register("layer")
class Input(Layer):
    """Declares the per-sample input shape: the first layer of a Sequential, or a graph's input.

    In a ``Sequential`` it is a layer (index 0 of ``model.layers``) that passes its input
    through. It also stands for the symbolic tensor it declares, ``self.output``, so layers can
    be called on it to build a graph, as on what ``gn.Input`` returns (Keras' ``keras.Input``).

    Args:
        shape: per-sample shape without the batch axis, e.g. ``(784,)``.
        name: the input's name; ``fit`` and ``predict`` match dict keys against it in graphs.
        dtype: "float32" (default), "float64", or "string" for raw text, which only a
            ``TextVectorization`` layer may read: ``Input(shape=(1,), dtype="string")``. An
            integer type ("int32", "int64", as Keras code declares token ids) reads as float32:
            the layers compute in float, and an Embedding checks that its ids are whole numbers.

    Example:
        >>> import glassnet as gn
        >>> gn.Sequential([gn.layers.Input((4,)), gn.layers.Dense(2)]).output_shape
        (None, 2)
        >>> gn.layers.Dense(2)(gn.layers.Input((4,))).shape
        (None, 2)
    """

    #: layers may be called on it (see glassnet/layers/symbolic.py)
    is_graph_input = True
    #: it passes its input through, and so the mask a nested Sequential's input carries
    supports_masking = True

    def __init__(self, shape, name: str | None = None, dtype: str = "float32"):
        if dtype in INTEGER_DTYPES:
            dtype = "float32"
        elif dtype not in ("float32", "float64", "string"):
            raise ValueError(f"Input: dtype must be 'float32', 'float64', 'string' (raw text) or an integer type "
                             f"({', '.join(INTEGER_DTYPES)}); got {dtype!r}.")
        # A string input computes nothing, so it has no float type of its own: it is "string" itself.
        super().__init__(name=name, input_shape=shape, dtype="float32" if dtype == "string" else dtype)
        self.dtype = dtype
        self.shape = list(normalize_shape(shape))
        self.build(self.input_shape)
        symbolic.Node(self, [], False, self.input_shape)  # its tensor: self.output, its first and only node's

    def forward(self, x, training=False):
        return x

    def backward(self, grad):
        return grad

    def get_config(self):
        return {"shape": list(self.shape), "name": self.name, "dtype": self.dtype}


@register("layer")
class Flatten(Layer):
    """Flattens every axis but the batch axis.

    Shapes:
        x: (N, d1, d2, ...) -> y: (N, d1·d2·...).

    Math:
        forward y = reshape(x); backward dx = reshape(grad, x.shape).
    """

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def forward(self, x, training=False):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad):
        return grad.reshape(self._shape)


@register("layer")
class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1).

    Args:
        target_shape: per-sample shape without the batch axis.

    Shapes:
        x: (N, ...) -> y: (N, *target_shape).
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = [int(d) for d in target_shape]
        if sum(d == -1 for d in self.target_shape) > 1 or any(d == 0 or d < -1 for d in self.target_shape):
            raise ValueError(f"Reshape target_shape must be positive with at most one -1; got {target_shape}.")

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape[1:], dtype=np.int64))
        target = list(self.target_shape)
        if -1 in target:
            known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
            if size % known:
                raise ValueError(f"Reshape cannot turn {input_shape[1:]} into {self.target_shape}.")
            target[target.index(-1)] = size // known
        if int(np.prod(target, dtype=np.int64)) != size:
            raise ValueError(
                f"Reshape: {tuple(input_shape[1:])} has {size} values per sample; "
                f"target_shape {tuple(self.target_shape)} holds {int(np.prod(target))}."
            )
        return (input_shape[0], *target)

    def forward(self, x, training=False):
        self._shape = x.shape
        return x.reshape(x.shape[0], *self.output_shape[1:])

    def backward(self, grad):
        return grad.reshape(self._shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


@register("layer")
class RepeatVector(Layer):
    """Repeats each sample's vector ``n`` times along a new time axis: an encoder's summary fed to
    every step of a decoder (Keras' LSTM autoencoder: LSTM -> RepeatVector(T) -> LSTM(return_sequences)).

    Args:
        n: how many time steps to make.

    Shapes:
        x: (N, D) -> y: (N, n, D).

    Math:
        forward y[:, t] = x for every t; backward dx = Σ_t grad[:, t].
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_positive_int(n, "n", "RepeatVector")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector takes one vector per sample, (N, D); got inputs of shape "
                             f"{tuple(input_shape)}. Flatten them first, or pool over time for a sequence.")
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, x, training=False):
        self.compute_output_shape(x.shape)
        return backend.array_module(x).repeat(x[:, None, :], self.n, axis=1)

    def backward(self, grad):
        return grad.sum(axis=1)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


@register("layer")
class Permute(Layer):
    """Reorders the axes of each sample, as Keras' ``Permute`` (the batch axis stays first).

    Args:
        dims: a permutation of 1..rank (1-based, the batch axis not counted): (2, 1) swaps the time
            and feature axes of (N, T, D).

    Shapes:
        x: (N, d₁, ..., d_r) -> y: (N, d_dims[0], ..., d_dims[r-1]).

    Math:
        forward y = transpose(x, (0, *dims)); backward dx = transpose(grad, the inverse order).
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = [int(d) for d in dims]
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute dims must be a permutation of 1..{len(self.dims)} (the batch axis is "
                             f"not counted); got {list(dims)}.")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"Permute(dims={self.dims}) takes inputs of {len(self.dims)} axes per sample; got "
                             f"{tuple(input_shape)}.")
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def forward(self, x, training=False):
        self.compute_output_shape(x.shape)
        # a copy, not a view: the next layer's products read it row by row
        return backend.array_module(x).ascontiguousarray(x.transpose(0, *self.dims))

    def backward(self, grad):
        inverse = np.argsort([0, *self.dims])
        return backend.array_module(grad).ascontiguousarray(grad.transpose(*inverse))

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}
