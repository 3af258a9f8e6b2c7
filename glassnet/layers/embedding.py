"""Embedding: token ids to learned vectors, the first layer of a text model."""

from __future__ import annotations

import numpy as np

from glassnet import backend, initializers, regularizers
from glassnet._registry import register, serialize
from glassnet.layers.base import Layer, check_positive_int


@register("layer")
class Embedding(Layer):
    """Looks up one row of a (V, E) table per token id.

    Args:
        input_dim: the vocabulary size V; ids must lie in [0, V).
        output_dim: the embedding size E.
        embeddings_initializer: Keras' default is ``RandomUniform(-0.05, 0.05)``.
        embeddings_regularizer: an ``L1``/``L2`` penalty on the table (or a name).
        mask_zero: id 0 is padding: the layer hands the mask ``ids != 0`` to the layers after it
            that honour masks (recurrent layers, global pooling), which then skip those steps.
            Id 0 then cannot be a real token, so ``input_dim`` should be vocabulary size + 1.
        input_length: Keras 2's argument, still accepted: the fixed sequence length L, used as
            ``input_shape=(L,)`` when none is given (so ``Flatten`` after it knows its size).
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.

    Shapes:
        ids: (N, ...) integers (or floats holding integers, as ``fit`` passes them)
        -> y: (N, ..., E); table W: (V, E).

    Math:
        forward  y[n, t] = W[ids[n, t]]
        backward dW[v] = Σ_{(n, t): ids[n, t] = v} grad[n, t]; the ids get no gradient.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> layer = gn.layers.Embedding(10, 4)
        >>> layer(np.array([[1, 2, 0]])).shape
        (1, 3, 4)
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, mask_zero: bool = False, input_length: int | None = None,
                 **kwargs):
        if input_length is not None:
            input_length = check_positive_int(input_length, "input_length", "Embedding")
            kwargs.setdefault("input_shape", (input_length,))
        super().__init__(**kwargs)
        self.input_dim = check_positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = check_positive_int(output_dim, "output_dim", "Embedding")
        # Keras' "uniform" for embeddings is U(-0.05, 0.05), glassnet's RandomUniform default.
        self.embeddings_initializer = initializers.get(
            "random_uniform" if embeddings_initializer == "uniform" else embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length

    def build(self, input_shape):
        if self.input_length is not None and len(input_shape) > 1 and input_shape[1] not in (None, self.input_length):
            raise ValueError(f"Embedding {self.name!r} has input_length={self.input_length} but receives "
                             f"sequences of length {input_shape[1]}; pad or cut them to {self.input_length} "
                             f"or drop input_length.")
        self.add_weight("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
                        self.embeddings_regularizer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def _as_float(self, x):
        return backend.asarray(x)  # ids stay as they are: forward checks and converts them

    def token_ids(self, x) -> np.ndarray:
        """``x`` as an integer array, checked: whole numbers in [0, input_dim)."""
        xp = backend.array_module(x)
        x = xp.asarray(x)
        # On a device, one test of every id (one wait for the device, not four); CuPy would wrap an
        # id out of range silently. Only a batch that fails it goes through the checks that explain.
        if xp is not np and bool(((x >= 0) & (x < self.input_dim) & (x == xp.floor(x))).all()):
            return x.astype(np.int64)
        if x.dtype.kind == "f":
            if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
                raise ValueError(f"Embedding {self.name!r} takes integer token ids; got non-integer values "
                                 f"such as {x[x != np.round(x)].flat[0]!r}. Map text to ids first "
                                 f"(TextVectorization, or your own vocabulary).")
        elif x.dtype.kind not in "iub":
            raise ValueError(f"Embedding {self.name!r} takes integer token ids; got an array of dtype {x.dtype}.")
        ids = x.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            bad = ids[(ids < 0) | (ids >= self.input_dim)].flat[0]
            raise ValueError(f"Embedding {self.name!r}: token id {bad} is outside [0, input_dim={self.input_dim}). "
                             f"Raise input_dim to the vocabulary size (+1 when id 0 is padding), or map "
                             f"unknown tokens to an out-of-vocabulary id below it.")
        return ids

    def forward(self, x, training=False):
        self._ids = self.token_ids(x)
        return self.params["embeddings"][self._ids]  # fancy indexing: a copy, (N, L) -> (N, L, E)

    def compute_mask(self, x, mask=None):
        """The padding mask ``ids != 0`` (N, L) when ``mask_zero``, else None."""
        if not self.mask_zero:
            return None
        return backend.asarray(x) != 0

    def backward(self, grad):
        import scipy.sparse  # here, not at import time: glassnet starts without SciPy loaded

        # dW = Oᵀ grad, O the (N·T, V) one-hot matrix of the ids: repeated ids add up (a plain
        # table[ids] += grad would keep only the last one), in a fixed order, several times faster
        # than np.add.at's element-by-element scatter (benchmarks/README.md).
        ids = self._ids.ravel()
        if backend.is_device_array(grad):  # SciPy's sparse product takes host arrays only: scatter-add there
            table = self.grads["embeddings"]  # in place: grads may be a view of the model's flat buffer
            table[...] = 0
            np.add.at(table, ids, grad.reshape(-1, self.output_dim))
            return None if not self.needs_input_grad else backend.array_module(grad).zeros(self._ids.shape, grad.dtype)
        one_hot = scipy.sparse.csr_array((np.ones(ids.size, grad.dtype), ids, np.arange(ids.size + 1)),
                                         shape=(ids.size, self.input_dim))
        # In place: grads may be a view of the model's flat gradient buffer.
        self.grads["embeddings"][...] = one_hot.T @ grad.reshape(-1, self.output_dim)
        if not self.needs_input_grad:
            return None
        return np.zeros(self._ids.shape, dtype=grad.dtype)  # a lookup is flat in its (integer) ids

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": serialize(self.embeddings_initializer),
            "embeddings_regularizer": None if self.embeddings_regularizer is None
            else serialize(self.embeddings_regularizer),
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        }
