"""Pooling layers, channels-last: max and average over windows, and their global forms, 1D and 2D.

Window pooling loops over the few offsets of one window (4 for 2x2), each a strided slice of the
whole batch, so nothing loops over samples, pixels or channels.
"""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet._registry import register
from glassnet.layers.base import Layer, check_channels_last
from glassnet.layers.masking import check_sequence_mask
from glassnet.layers.convolutional import (PADDINGS, as_tuple, offset_slices, pad_spatial, unpad_spatial,
                                           window_geometry)
from glassnet.parallel import over_batch


class _Pooling(Layer):
    """Max or average over ``pool_size`` windows of ``rank`` spatial axes.

    Args:
        pool_size: int or ``rank`` ints (2 as in Keras).
        strides: int, ``rank`` ints or None (then equal to ``pool_size``: windows do not overlap).
        padding: "valid" (drop the incomplete border windows) or "same" (output ⌈n / stride⌉).
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.
    """

    #: elementwise passes over the batch as large as the products: fit and predict run them, and
    #: every product, on glassnet's own threads with BLAS held to one (glassnet.parallel.pays_off)
    splits_batch_work = True

    rank = 0

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = as_tuple(pool_size, self.rank, "pool_size", cls)
        self.strides = self.pool_size if strides is None else as_tuple(strides, self.rank, "strides", cls)
        self._strides_arg = None if strides is None else list(self.strides)
        if not isinstance(padding, str) or padding.lower() not in PADDINGS:
            raise ValueError(f"{cls}: padding must be one of {PADDINGS}; got {padding!r}.")
        self.padding = padding.lower()

    def build(self, input_shape):
        check_channels_last(input_shape, self.rank, type(self).__name__)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        geometry = self._window_geometry(input_shape[1:-1])
        return (input_shape[0], *(out for out, _, _ in geometry), input_shape[-1])

    def _window_geometry(self, sizes):
        return window_geometry(sizes, self.pool_size, self.strides, (1,) * self.rank, self.padding,
                               type(self).__name__)

    def _windows(self, out_sizes):
        """(slices into the padded input) for every offset within a window."""
        ones = (1,) * self.rank
        for offset in np.ndindex(*self.pool_size):
            yield (slice(None), *offset_slices(offset, self.strides, ones, out_sizes))

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": self._strides_arg,
                "padding": self.padding}


class _MaxPooling(_Pooling):
    def forward(self, x, training=False):
        geometry = self._window_geometry(x.shape[1:-1])
        out_sizes = tuple(out for out, _, _ in geometry)
        # -inf padding can never win a max, so "same" windows see only real pixels.
        xp = pad_spatial(x, geometry, value=-np.inf)
        y = over_batch(self._max_of_windows, xp,
                       out=backend.array_module(x).empty((x.shape[0], *out_sizes, x.shape[-1]), x.dtype))
        self._xp, self._y, self._geometry = xp, y, geometry
        return y

    def _max_of_windows(self, xp, out):
        """out = the maximum over each window of xp, one strided slice per window offset."""
        windows = self._windows(out.shape[1:-1])
        np.copyto(out, xp[next(windows)])
        for window in windows:
            np.maximum(out, xp[window], out=out)

    def backward(self, grad):
        # The gradient goes to the first input that equals the max (PyTorch's tie rule; ties are
        # common: a window of ReLU zeros has four maxima).
        if self.strides == self.pool_size:
            return self._backward_tiled(grad)
        # Overlapping windows: each offset claims the outputs it matches that no earlier
        # offset has claimed, and adds its share.
        xp, y = self._xp, self._y
        arrays = backend.array_module(grad)
        dxp = arrays.zeros(xp.shape, dtype=grad.dtype)
        unclaimed = arrays.ones(y.shape, dtype=bool)
        for window in self._windows(y.shape[1:-1]):
            hit = xp[window] == y
            hit &= unclaimed
            dxp[window] += grad * hit
            unclaimed ^= hit  # hit ⊆ unclaimed: this clears exactly the outputs just routed
        return unpad_spatial(dxp, self._geometry)

    def _backward_tiled(self, grad):
        """Windows side by side (strides = pool_size, Keras' default): view the input as
        (N, o₁, p₁, o₂, p₂, C), one axis pair per spatial axis, and route the gradient with
        whole-array operations (the benchmark CNN's first pooling, on pre-activations: 5.9 -> 3.5 ms)."""
        xp, y = self._xp, self._y
        covered = (slice(None), *(slice(0, o * p) for o, p in zip(y.shape[1:-1], self.pool_size)))
        x = xp[covered]  # the pixels some window reads
        arrays = backend.array_module(grad)
        dx = over_batch(self._route_tiled, x, y, grad, out=arrays.empty(x.shape, grad.dtype))
        if dx.shape != xp.shape:  # "valid" windows left the last rows or columns out
            dxp = arrays.zeros(xp.shape, dtype=grad.dtype)
            dxp[covered] = dx
            dx = dxp
        return unpad_spatial(dx, self._geometry)

    def _route_tiled(self, x, y, grad, out):
        """out = grad at the first maximum of each window of x, 0 elsewhere (a batch slice)."""
        out_sizes = y.shape[1:-1]
        paired = (y.shape[0], *(n for o, p in zip(out_sizes, self.pool_size) for n in (o, p)), y.shape[-1])
        spread = (slice(None), *(s for _ in out_sizes for s in (slice(None), None)), slice(None))
        hit = x.reshape(paired) == y[spread]  # every maximum of every window
        # Ties need the pass below; without them each window has exactly one hit (one with NaN
        # has none, hence the second test). Pre-activations rarely tie, ReLU outputs often do.
        # On a device the pass always runs: the test would cost two waits for the device per step.
        if backend.is_device_array(hit) or np.count_nonzero(hit) != y.size or np.isnan(y).any():
            claimed = None
            for offset in np.ndindex(*self.pool_size):  # keep only the first maximum of each window
                first = hit[(slice(None), *(s for k in offset for s in (slice(None), k)), slice(None))]
                if claimed is None:
                    claimed = first.copy()
                else:
                    np.greater(first, claimed, out=first)  # first and not claimed, in place in hit
                    claimed |= first
        np.multiply(hit, grad[spread], out=out.reshape(paired))  # out is contiguous: a view


class _AveragePooling(_Pooling):
    def forward(self, x, training=False):
        geometry = self._window_geometry(x.shape[1:-1])
        out_sizes = tuple(out for out, _, _ in geometry)
        xp = pad_spatial(x, geometry)
        arrays = backend.array_module(x)
        total = arrays.zeros((x.shape[0], *out_sizes, x.shape[-1]), dtype=x.dtype)
        for window in self._windows(out_sizes):
            total += xp[window]
        # Keras (TensorFlow) divides by the number of real pixels in each window, so "same"
        # border windows are not diluted by padding zeros (PyTorch's count_include_pad=False).
        ones = pad_spatial(arrays.ones((1, *x.shape[1:-1], 1), dtype=x.dtype), geometry)
        count = arrays.zeros((1, *out_sizes, 1), dtype=x.dtype)
        for window in self._windows(out_sizes):
            count += ones[window]
        self._count, self._xp_shape, self._geometry = count, xp.shape, geometry
        return total / count

    def backward(self, grad):
        share = grad / self._count
        dxp = backend.array_module(grad).zeros(self._xp_shape, dtype=grad.dtype)
        for window in self._windows(share.shape[1:-1]):
            dxp[window] += share
        return unpad_spatial(dxp, self._geometry)


@register("layer")
class MaxPooling2D(_MaxPooling):
    """Maximum over each pool_size window of an image, per channel.

    Args:
        pool_size: int or (ph, pw); default 2.
        strides: int, (sh, sw) or None (= pool_size).
        padding: "valid" or "same".

    Shapes:
        x: (N, H, W, C) -> y: (N, Ho, Wo, C); "valid": Ho = ⌊(H - ph) / sh⌋ + 1, "same": ⌈H / sh⌉.

    Math:
        forward  y[n,i,j,c] = max_{a,b} x[n, i·sh + a, j·sw + b, c]
        backward dx[n, i·sh + a*, j·sw + b*, c] += g[n,i,j,c] at the (first) argmax (a*, b*)

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.MaxPooling2D()(np.arange(16.).reshape(1, 4, 4, 1))[0, :, :, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """

    rank = 2


@register("layer")
class AveragePooling2D(_AveragePooling):
    """Mean over each pool_size window of an image, per channel.

    Args: as ``MaxPooling2D``.

    Shapes:
        x: (N, H, W, C) -> y: (N, Ho, Wo, C).

    Math:
        forward  y[n,i,j,c] = (1 / |w|) Σ_{a,b} x[n, i·sh + a, j·sw + b, c]  (|w| = real pixels)
        backward dx[n, i·sh + a, j·sw + b, c] += g[n,i,j,c] / |w|

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.AveragePooling2D()(np.arange(16.).reshape(1, 4, 4, 1))[0, :, :, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """

    rank = 2


@register("layer")
class MaxPooling1D(_MaxPooling):
    """Maximum over each window of a sequence, per channel.

    Args: pool_size (int, default 2), strides (int or None = pool_size), padding.

    Shapes:
        x: (N, L, C) -> y: (N, Lo, C).

    Math:
        forward y[n,t,c] = max_a x[n, t·s + a, c]; backward dx at the first argmax += g[n,t,c]
    """

    rank = 1


@register("layer")
class AveragePooling1D(_AveragePooling):
    """Mean over each window of a sequence, per channel.

    Args: pool_size (int, default 2), strides (int or None = pool_size), padding.

    Shapes:
        x: (N, L, C) -> y: (N, Lo, C).

    Math:
        forward y[n,t,c] = (1 / |w|) Σ_a x[n, t·s + a, c]; backward dx[n, t·s + a, c] += g[n,t,c] / |w|
    """

    rank = 1


# -- global pooling ------------------------------------------------------------------------------
class _GlobalPooling(Layer):
    """Reduce every spatial axis to one value per channel.

    Args:
        keepdims: keep the spatial axes with size 1 (Keras' ``keepdims``).
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.
    """

    rank = 0

    def __init__(self, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        check_channels_last(input_shape, self.rank, type(self).__name__)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0], *(1,) * self.rank, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def _shape_out(self, y):
        """(N, C) -> the output shape, (N, 1, ..., C) when keepdims."""
        return y.reshape(y.shape[0], *(1,) * self.rank, y.shape[-1]) if self.keepdims else y

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}


class _GlobalAveragePooling(_GlobalPooling):
    def forward(self, x, training=False):
        self._x_shape = x.shape
        return self._shape_out(x.mean(axis=tuple(range(1, self.rank + 1))))

    def backward(self, grad):
        n, *spatial, c = self._x_shape
        share = grad.reshape(n, *(1,) * self.rank, c) / grad.dtype.type(np.prod(spatial))
        return np.broadcast_to(share, self._x_shape).copy()


class _GlobalMaxPooling(_GlobalPooling):
    def forward(self, x, training=False):
        flat = x.reshape(x.shape[0], -1, x.shape[-1])  # (N, S, C), S = all spatial positions
        self._x_shape = x.shape
        self._argmax = flat.argmax(axis=1)  # (N, C): the first maximum, as MaxPooling's tie rule
        return self._shape_out(np.take_along_axis(flat, self._argmax[:, None, :], axis=1)[:, 0, :])

    def backward(self, grad):
        n, c = self._x_shape[0], self._x_shape[-1]
        dx = backend.array_module(grad).zeros((n, int(np.prod(self._x_shape[1:-1])), c), dtype=grad.dtype)
        np.put_along_axis(dx, self._argmax[:, None, :], grad.reshape(n, 1, c), axis=1)
        return dx.reshape(self._x_shape)


@register("layer")
class GlobalAveragePooling2D(_GlobalAveragePooling):
    """Mean over height and width, one value per channel (the usual head of modern CNNs).

    Args:
        keepdims: return (N, 1, 1, C) instead of (N, C).

    Shapes:
        x: (N, H, W, C) -> y: (N, C).

    Math:
        forward y[n,c] = (1 / HW) Σ_{i,j} x[n,i,j,c]; backward dx[n,i,j,c] = g[n,c] / HW

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.GlobalAveragePooling2D()(np.ones((2, 5, 5, 3))).shape
        (2, 3)
    """

    rank = 2


@register("layer")
class GlobalMaxPooling2D(_GlobalMaxPooling):
    """Maximum over height and width, one value per channel.

    Args:
        keepdims: return (N, 1, 1, C) instead of (N, C).

    Shapes:
        x: (N, H, W, C) -> y: (N, C).

    Math:
        forward y[n,c] = max_{i,j} x[n,i,j,c]; backward dx[n,i*,j*,c] = g[n,c] at the first argmax
    """

    rank = 2


@register("layer")
class GlobalAveragePooling1D(_GlobalAveragePooling):
    """Mean over the sequence axis.

    Shapes:
        x: (N, L, C) -> y: (N, C).

    With a mask (N, L) (after ``Masking`` or ``Embedding(mask_zero=True)``) the mean runs over
    the unmasked steps only; a sequence masked throughout gives 0.

    Math:
        forward y[n,c] = (1 / L) Σ_t x[n,t,c]; backward dx[n,t,c] = g[n,c] / L
        masked  y[n,c] = Σ_t m[n,t] x[n,t,c] / Σ_t m[n,t]; backward dx[n,t,c] = g[n,c] m[n,t] / Σ_t m[n,t]
    """

    rank = 1
    takes_mask = True

    def forward(self, x, training=False, mask=None):
        self._weights = None
        if mask is None:
            return super().forward(x, training)
        m = check_sequence_mask(mask, x, "GlobalAveragePooling1D")[:, :, None].astype(x.dtype)  # (N, L, 1)
        self._weights = m / np.maximum(m.sum(axis=1, keepdims=True), 1)  # m[n,t] / Σ_t m[n,t]
        return self._shape_out((x * self._weights).sum(axis=1))

    def backward(self, grad):
        if self._weights is None:
            return super().backward(grad)
        return grad.reshape(grad.shape[0], 1, grad.shape[-1]) * self._weights


@register("layer")
class GlobalMaxPooling1D(_GlobalMaxPooling):
    """Maximum over the sequence axis.

    Shapes:
        x: (N, L, C) -> y: (N, C).

    With a mask (N, L) the maximum runs over the unmasked steps only; a sequence masked
    throughout gives 0.

    Math:
        forward y[n,c] = max_t x[n,t,c]; backward dx[n,t*,c] = g[n,c] at the first argmax t*
    """

    rank = 1
    takes_mask = True

    def forward(self, x, training=False, mask=None):
        self._empty = None
        if mask is None:
            return super().forward(x, training)
        m = check_sequence_mask(mask, x, "GlobalMaxPooling1D")
        y = super().forward(np.where(m[:, :, None], x, -np.inf), training)  # a masked step never wins
        self._empty = ~m.any(axis=1)  # (N,)
        y[self._empty] = 0
        return y

    def backward(self, grad):
        dx = super().backward(grad)
        if self._empty is not None:
            dx[self._empty] = 0
        return dx
