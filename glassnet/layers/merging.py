"""Merging layers: combine a list of tensors into one (Add, Concatenate, Dot...), as in Keras.

Each takes a list of inputs and its backward returns a list of input gradients (the multi-input
contract in ``glassnet/layers/base.py``). None of them has parameters. Time-step masks combine as
in Keras 3: the element-wise layers keep a step where every masked input keeps it, ``Concatenate``
joins the masks along the time axis (any input keeping a step keeps it along a feature axis), and
``Dot`` has none.
"""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet._registry import register
from glassnet.layers.base import Layer


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes where an input of ``shape`` was broadcast (size 1 -> n)."""
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def _sum(inputs: list) -> np.ndarray:
    y = inputs[0]
    for x in inputs[1:]:
        y = y + x  # not +=: a later input may broadcast y to a larger shape
    return y


class Merge(Layer):
    """Base of the element-wise merging layers: inputs of one shape (or broadcastable to it).

    As in Keras, a size-1 axis broadcasts against a larger one (``(N, 4)`` with ``(N, 1)``); the
    ranks must match. Subclasses write ``_merge`` (forward) and ``_merge_backward``.
    """

    takes_list = True
    #: the fewest and the most inputs the operation accepts (None: no limit)
    min_inputs, max_inputs = 2, None

    def build(self, input_shapes):
        self.input_shape = [tuple(s) for s in self._check_count(input_shapes)]
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def _check_count(self, input_shapes):
        if not isinstance(input_shapes, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in input_shapes):
            raise TypeError(f"{type(self).__name__} needs a list of input shapes; got {input_shapes!r}.")
        n = len(input_shapes)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            count = (f"exactly {self.min_inputs}" if self.min_inputs == self.max_inputs
                     else f"at least {self.min_inputs}")
            raise ValueError(f"{type(self).__name__} takes {count} inputs; got {n}.")
        return input_shapes

    def compute_output_shape(self, input_shapes):
        input_shapes = self._check_count(input_shapes)
        ranks = {len(s) for s in input_shapes}
        if len(ranks) > 1:
            raise ValueError(f"{type(self).__name__} needs inputs of one rank; got shapes "
                             f"{[tuple(s) for s in input_shapes]}.")
        out = []
        for sizes in zip(*input_shapes):
            known = {d for d in sizes if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError(f"{type(self).__name__} needs inputs of one shape (or size 1 where they "
                                 f"differ); got shapes {[tuple(s) for s in input_shapes]}.")
            out.append(known.pop() if known else (None if None in sizes else 1))
        return tuple(out)

    def compute_mask(self, x, mask=None):
        """Keras' rule: the logical AND of the inputs' masks (an input without one adds nothing).

        ``mask`` is None or one mask (or None) per input."""
        masks = [backend.asarray(m, dtype=bool) for m in (mask or []) if m is not None]
        return np.logical_and.reduce(np.broadcast_arrays(*masks)) if masks else None

    def forward(self, inputs, training=False):
        self._shapes = [x.shape for x in inputs]
        return self._merge(inputs)

    def backward(self, grad):
        return [_unbroadcast(g, shape) for g, shape in zip(self._merge_backward(grad), self._shapes)]

    def _merge(self, inputs):
        raise NotImplementedError

    def _merge_backward(self, grad):
        """Input gradients at the broadcast output shape; ``backward`` sums them back."""
        raise NotImplementedError


@register("layer")
class Add(Merge):
    """Element-wise sum of its inputs (the residual connection ``x + f(x)``).

    Shapes:
        inputs: n tensors of shape (N, ...) -> y: (N, ...).

    Math:
        forward y = Σᵢ xᵢ; backward dxᵢ = grad (summed over any broadcast axis).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.Add()([np.ones((2, 3)), np.full((2, 3), 2.0)])[0]
        array([3., 3., 3.])
    """

    def _merge(self, inputs):
        return _sum(inputs)

    def _merge_backward(self, grad):
        return [grad] * len(self._shapes)


@register("layer")
class Subtract(Merge):
    """The difference of exactly two inputs, ``inputs[0] - inputs[1]``.

    Math:
        forward y = x₀ - x₁; backward dx₀ = grad, dx₁ = -grad.
    """

    min_inputs = max_inputs = 2

    def _merge(self, inputs):
        return inputs[0] - inputs[1]

    def _merge_backward(self, grad):
        return [grad, -grad]


@register("layer")
class Multiply(Merge):
    """Element-wise product of its inputs (a gate: ``x * sigmoid(g)``).

    Math:
        forward y = Πᵢ xᵢ; backward dxᵢ = grad · Π_{j≠i} xⱼ (the product of the others,
        computed directly: dividing y by xᵢ would fail where xᵢ = 0).
    """

    def forward(self, inputs, training=False):
        self._inputs = inputs
        return super().forward(inputs, training)

    def _merge(self, inputs):
        y = inputs[0]
        for x in inputs[1:]:
            y = y * x  # not *=: a later input may broadcast y to a larger shape
        return y

    def _merge_backward(self, grad):
        grads = []
        for i in range(len(self._inputs)):
            g = grad
            for j, x in enumerate(self._inputs):
                if j != i:
                    g = g * x
            grads.append(g)
        return grads


@register("layer")
class Average(Merge):
    """Element-wise mean of its inputs.

    Math:
        forward y = (1/n) Σᵢ xᵢ; backward dxᵢ = grad / n.
    """

    def _merge(self, inputs):
        y = _sum(inputs)
        y /= y.dtype.type(len(inputs))
        return y

    def _merge_backward(self, grad):
        share = grad / len(self._shapes)
        return [share] * len(self._shapes)


class _Extremum(Merge):
    """Maximum and Minimum: the gradient goes to the input that was chosen."""

    pick = None  # np.argmax or np.argmin

    def _merge(self, inputs):
        stacked = np.stack(np.broadcast_arrays(*inputs))  # (n, N, ...)
        # On a tie the first input wins (as np.argmax); the function has no derivative there.
        self._choice = type(self).pick(stacked, axis=0)
        return np.take_along_axis(stacked, self._choice[None], axis=0)[0]

    def _merge_backward(self, grad):
        return [np.where(self._choice == i, grad, grad.dtype.type(0)) for i in range(len(self._shapes))]


@register("layer")
class Maximum(_Extremum):
    """Element-wise maximum of its inputs.

    Math:
        forward y = maxᵢ xᵢ; backward dxᵢ = grad where xᵢ is the maximum (the first on a tie), else 0.
    """

    pick = staticmethod(np.argmax)


@register("layer")
class Minimum(_Extremum):
    """Element-wise minimum of its inputs.

    Math:
        forward y = minᵢ xᵢ; backward dxᵢ = grad where xᵢ is the minimum (the first on a tie), else 0.
    """

    pick = staticmethod(np.argmin)


@register("layer")
class Concatenate(Merge):
    """Join its inputs along ``axis``; every other axis must agree.

    Args:
        axis: the axis to join along (-1, the features, by default; not the batch axis 0).
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Shapes:
        inputs: (N, ..., Dᵢ, ...) -> y: (N, ..., Σ Dᵢ, ...).

    Math:
        forward y = [x₀, x₁, ...] along ``axis``; backward dxᵢ = the slice of grad that xᵢ filled.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.Concatenate()([np.ones((2, 3)), np.zeros((2, 1))]).shape
        (2, 4)
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"Concatenate: axis must be an int; got {axis!r}.")
        self.axis = int(axis)

    def compute_output_shape(self, input_shapes):
        input_shapes = [tuple(s) for s in self._check_count(input_shapes)]
        rank = len(input_shapes[0])
        if any(len(s) != rank for s in input_shapes) or not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"Concatenate(axis={self.axis}) needs inputs of one rank with a non-batch "
                             f"axis {self.axis}; got shapes {input_shapes}.")
        axis = self.axis % rank
        out = []
        for i, sizes in enumerate(zip(*input_shapes)):
            if i == axis:
                out.append(None if None in sizes else sum(sizes))
                continue
            known = {d for d in sizes if d is not None}
            if len(known) > 1:
                raise ValueError(f"Concatenate(axis={self.axis}) needs every other axis to match; got "
                                 f"shapes {input_shapes}.")
            out.append(known.pop() if known else None)
        return tuple(out)

    def compute_mask(self, x, mask=None):
        """Keras 3's rule: along the time axis (1) the masks are joined, an input without one
        counting as all kept; along a feature axis a step is kept where any input keeps it."""
        if mask is None or all(m is None for m in mask):
            return None
        masks = [backend.array_module(xi).ones(xi.shape[:2], dtype=bool) if m is None
                 else backend.asarray(m, dtype=bool) for xi, m in zip(x, mask)]
        if self.axis % np.ndim(x[0]) == 1:
            return np.concatenate(masks, axis=1)
        return np.logical_or.reduce(masks)

    def forward(self, inputs, training=False):
        self._sizes = [x.shape[self.axis] for x in inputs]
        return np.concatenate(inputs, axis=self.axis)

    def backward(self, grad):
        return np.split(grad, np.cumsum(self._sizes)[:-1].tolist(), axis=self.axis)  # a list: CuPy takes no NumPy array

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@register("layer")
class Dot(Merge):
    """The dot product of two inputs along one axis each, sample by sample (Keras' ``batch_dot``).

    Args:
        axes: the axis of each input to contract: an int (the same for both) or a pair. Axes
            count the batch axis as 0, as in Keras; negative values count from the end.
        normalize: divide each input by its L2 norm along its axis first, so the product is the
            cosine similarity.
        **kwargs: ``name``, ``trainable``, ``dtype``.

    Shapes:
        a: (N, A..., K at axes[0]), b: (N, B..., K at axes[1]) -> y: (N, A..., B...),
        or (N, 1) when nothing else is left.

    Math:
        with a moved to (N, A, K) and b to (N, K, B):
        forward  y = a @ b  (einsum "nak,nkb->nab");
        backward da = grad @ bᵀ, db = aᵀ @ grad.
        normalize: â = a / ‖a‖ (‖a‖ floored at 1e-6, √ of Keras' 1e-12 on ‖a‖²), and
                   da = (dâ - â Σₖ dâ â) / ‖a‖ (the floored norm is a constant).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.Dot(axes=1)([np.ones((2, 3)), np.full((2, 3), 2.0)])
        array([[6.],
               [6.]])
    """

    min_inputs = max_inputs = 2
    _MIN_SQUARED_NORM = 1e-12  # Keras' l2_normalize floor on Σ x²

    def __init__(self, axes=-1, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        def is_int(a):
            return isinstance(a, (int, np.integer)) and not isinstance(a, bool)

        if is_int(axes):
            self.axes = int(axes)
        elif isinstance(axes, (list, tuple)) and len(axes) == 2 and all(is_int(a) for a in axes):
            self.axes = [int(a) for a in axes]
        else:
            raise ValueError(f"Dot: axes must be an int or a pair of ints; got {axes!r}.")
        self.normalize = bool(normalize)

    def _pair(self, shapes) -> tuple[int, int]:
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else self.axes
        out = []
        for a, shape in zip(pair, shapes):
            if not -len(shape) <= a < len(shape) or a % len(shape) == 0:
                raise ValueError(f"Dot(axes={self.axes}) has no non-batch axis {a} in an input of shape "
                                 f"{tuple(shape)}.")
            out.append(a % len(shape))
        return out[0], out[1]

    def compute_output_shape(self, input_shapes):
        a, b = [tuple(s) for s in self._check_count(input_shapes)]
        ax, bx = self._pair((a, b))
        if a[ax] is not None and b[bx] is not None and a[ax] != b[bx]:
            raise ValueError(f"Dot(axes={self.axes}) contracts axes of different sizes: {a[ax]} in {a} and "
                             f"{b[bx]} in {b}.")
        rest = (*a[1:ax], *a[ax + 1:], *b[1:bx], *b[bx + 1:])
        return (a[0], *rest) if rest else (a[0], 1)

    def compute_mask(self, x, mask=None):
        return None  # the time axis is contracted or mixed: no step-wise mask survives (Keras)

    def forward(self, inputs, training=False):
        a, b = inputs
        ax, bx = self._pair((a.shape, b.shape))
        self._axes = ax, bx
        a, b = np.moveaxis(a, ax, -1), np.moveaxis(b, bx, 1)  # (N, A..., K), (N, K, B...)
        self._moved_shapes = a.shape, b.shape
        a = a.reshape(a.shape[0], -1, a.shape[-1])  # (N, A, K)
        b = b.reshape(b.shape[0], b.shape[1], -1)  # (N, K, B)
        if self.normalize:
            a, self._norm_a = self._l2_normalize(a, axis=2)
            b, self._norm_b = self._l2_normalize(b, axis=1)
        self._a, self._b = a, b
        y = a @ b  # (N, A, K) @ (N, K, B) -> (N, A, B)
        a_shape, b_shape = self._moved_shapes
        rest = (*a_shape[1:-1], *b_shape[2:])
        return y.reshape(y.shape[0], *rest) if rest else y.reshape(y.shape[0], 1)

    def _l2_normalize(self, x, axis):
        norm = np.sqrt(np.maximum((x * x).sum(axis=axis, keepdims=True), x.dtype.type(self._MIN_SQUARED_NORM)))
        return x / norm, norm

    def backward(self, grad):
        a, b = self._a, self._b
        g = grad.reshape(a.shape[0], a.shape[1], b.shape[2])  # (N, A, B)
        da = g @ b.transpose(0, 2, 1)  # (N, A, B) @ (N, B, K) -> (N, A, K)
        db = a.transpose(0, 2, 1) @ g  # (N, K, A) @ (N, A, B) -> (N, K, B)
        if self.normalize:
            da = self._l2_normalize_backward(da, a, self._norm_a, axis=2)
            db = self._l2_normalize_backward(db, b, self._norm_b, axis=1)
        ax, bx = self._axes
        da = np.moveaxis(da.reshape(self._moved_shapes[0]), -1, ax)
        db = np.moveaxis(db.reshape(self._moved_shapes[1]), 1, bx)
        return [da, db]

    def _l2_normalize_backward(self, grad, x_hat, norm, axis):
        # Where the norm was floored it is a constant, and x̂ = x / floor is linear in x.
        floored = norm <= np.sqrt(x_hat.dtype.type(self._MIN_SQUARED_NORM))
        radial = np.where(floored, x_hat.dtype.type(0), (grad * x_hat).sum(axis=axis, keepdims=True))
        return (grad - x_hat * radial) / norm

    def get_config(self):
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}
