"""Convolution layers, channels-last like Keras: Conv1D on (N, L, C), Conv2D on (N, H, W, C).

Both share one implementation for any number of spatial axes: an im2col copy assembled from one
strided slice per kernel offset (or per run of offsets along the last axis), then a single matrix
product. Pooling reuses the window helpers.
"""

from __future__ import annotations

import numpy as np

from glassnet import activations, backend, initializers, regularizers
from glassnet._registry import register, serialize
from glassnet.layers.base import ActivatedLayer, check_channels_last, check_positive_int
from glassnet.parallel import matmul, over_samples

PADDINGS = ("valid", "same")
#: im2col copies the last kernel axis' offsets in one go from this many input channels up
MERGE_MIN_CHANNELS = 8


# -- window geometry, shared with pooling ------------------------------------------------------
def as_tuple(value, rank: int, name: str, layer: str) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ``rank`` ints) as a tuple of positive ints."""
    values = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != rank:
        raise ValueError(f"{layer}: {name} must be an int or {rank} ints; got {value!r}.")
    return tuple(check_positive_int(v, name, layer) for v in values)


def window_geometry(sizes, kernel, strides, dilation, padding, layer: str):
    """Per spatial axis ``(out, pad_before, pad_after)``, TensorFlow's rules.

    "valid" keeps only whole windows: out = ⌊(n - k_eff) / s⌋ + 1 with k_eff = d (k - 1) + 1.
    "same" gives out = ⌈n / s⌉ and pads the shortfall, the odd pixel after (TF, not PyTorch).
    "causal" (Conv1D) pads k_eff - 1 before, so output t sees inputs up to t only.
    """
    geometry = []
    for n, k, s, d in zip(sizes, kernel, strides, dilation):
        k_eff = d * (k - 1) + 1
        if n is None:
            geometry.append((None, None, None))
        elif padding == "valid":
            if n < k_eff:
                raise ValueError(
                    f"{layer}: the window ({k_eff} wide after dilation) is larger than the input "
                    f"({n}) with padding='valid'; use padding='same', a smaller kernel_size/pool_size "
                    f"or a larger input."
                )
            geometry.append(((n - k_eff) // s + 1, 0, 0))
        elif padding == "causal":
            geometry.append(((n - 1) // s + 1, k_eff - 1, 0))
        else:
            out = -(-n // s)
            total = max((out - 1) * s + k_eff - n, 0)
            geometry.append((out, total // 2, total - total // 2))
    return geometry


def offset_slices(offset, strides, dilation, out_sizes) -> tuple[slice, ...]:
    """Slices of the padded input read by kernel offset ``offset`` for every output position.

    Output position o at offset k reads input o·s + k·d, so along each axis that is
    ``start = k·d, step = s``, ``out`` elements.
    """
    return tuple(slice(k * d, k * d + s * (n - 1) + 1, s)
                 for k, d, s, n in zip(offset, dilation, strides, out_sizes))


def pad_spatial(x: np.ndarray, geometry, value=0.0) -> np.ndarray:
    """``x`` padded on its spatial axes (1 .. rank) as ``geometry`` says; no copy when unpadded."""
    pads = [(before, after) for _, before, after in geometry]
    if not any(b or a for b, a in pads):
        return x
    return np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=value)


def unpad_spatial(xp: np.ndarray, geometry) -> np.ndarray:
    """The inverse of ``pad_spatial`` (a view)."""
    return xp[(slice(None), *(slice(before, xp.shape[i + 1] - after)
                              for i, (_, before, after) in enumerate(geometry)))]


# -- the layers ---------------------------------------------------------------------------------
class _Conv(ActivatedLayer):
    """Convolution over ``rank`` spatial axes (cross-correlation, as in every framework).

    Args:
        filters: number of output channels F.
        kernel_size: int or ``rank`` ints (k₁, ..., k_r).
        strides: int or ``rank`` ints.
        padding: "valid" (no padding) or "same" (output size ⌈n / stride⌉); Conv1D also "causal".
        dilation_rate: int or ``rank`` ints; the kernel taps are ``dilation_rate`` apart.
        activation: name, ActivationFunction or None (linear).
        use_bias: add a bias per filter.
        kernel_initializer / bias_initializer: "glorot_uniform" and "zeros" as in Keras.
        kernel_regularizer / bias_regularizer: penalties (``L1``, ``L2``, ``L1L2``) or names.
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.
    """

    #: elementwise passes over the batch as large as the products: fit and predict run them, and
    #: every product, on glassnet's own threads with BLAS held to one (glassnet.parallel.pays_off)
    splits_batch_work = True

    rank = 0
    paddings = PADDINGS

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", dilation_rate=1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.filters = check_positive_int(filters, "filters", cls)
        self.kernel_size = as_tuple(kernel_size, self.rank, "kernel_size", cls)
        self.strides = as_tuple(strides, self.rank, "strides", cls)
        self.dilation_rate = as_tuple(dilation_rate, self.rank, "dilation_rate", cls)
        if not isinstance(padding, str) or padding.lower() not in self.paddings:
            raise ValueError(f"{cls}: padding must be one of {self.paddings}; got {padding!r}.")
        self.padding = padding.lower()
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape):
        cls = type(self).__name__
        check_channels_last(input_shape, self.rank, cls)
        window_geometry(input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate,
                        self.padding, cls)  # fail at build time, not in the first batch
        self.add_weight("kernel", (*self.kernel_size, input_shape[-1], self.filters),
                        self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        geometry = window_geometry(input_shape[1:-1], self.kernel_size, self.strides,
                                   self.dilation_rate, self.padding, type(self).__name__)
        return (input_shape[0], *(out for out, _, _ in geometry), self.filters)

    def forward_logits(self, x, training=False):
        W = self.params["kernel"]  # (k₁..k_r, C, F)
        if x.ndim != self.rank + 2 or x.shape[-1] != W.shape[-2]:
            raise ValueError(f"{self.name}: expected inputs (N, ..., {W.shape[-2]}) with {self.rank} "
                             f"spatial axes; got {x.shape}.")
        geometry = window_geometry(x.shape[1:-1], self.kernel_size, self.strides,
                                   self.dilation_rate, self.padding, type(self).__name__)
        out_sizes = tuple(out for out, _, _ in geometry)
        xp = pad_spatial(x, geometry)
        # im2col: cols[n, o…, k…, c] = xp[n, o·s + k·d, c], one strided copy per kernel offset.
        # With a bias, cols gets a last column of ones and the kernel matrix a last row b, so
        # the product adds the bias and, in backward, 1ᵀg lands in dW's last row: adding b to
        # the (N·O, F) output separately took longer than the product for the first layer of the
        # benchmark CNN (1.1 ms against 0.6 ms).
        KC = W[..., 0].size
        arrays = backend.array_module(x)  # NumPy, or CuPy on a GPU (``xp`` here is the padded x)
        cols = arrays.empty((x.shape[0], *out_sizes, KC + self.use_bias), dtype=x.dtype)
        patches = cols[..., :KC].reshape(*cols.shape[:-1], *self.kernel_size, x.shape[-1])  # a view
        matrix = W.reshape(KC, self.filters)
        if self.use_bias:
            cols[..., KC] = 1
            matrix = np.concatenate([matrix, self.params["bias"][None]])
        z = arrays.empty((x.shape[0], *out_sizes, self.filters), dtype=np.result_type(cols, matrix))

        def im2col_product(start, stop):  # samples start..stop-1, on one of glassnet's threads
            self._im2col(xp[start:stop], out=patches[start:stop])
            # 'nokc,kcf->nof' as one product: (n·O, K·C [+ 1]) @ (K·C [+ 1], F) -> (n·O, F)
            np.matmul(cols[start:stop].reshape(-1, cols.shape[-1]), matrix,
                      out=z[start:stop].reshape(-1, self.filters))

        # The samples split over glassnet's threads (glassnet.parallel), each thread copying its
        # samples' windows and multiplying them in one hand-over: every row of the product is
        # the same BLAS sum wherever the batch is cut, so the bits do not depend on the split.
        over_samples(im2col_product, x.shape[0], macs=z.size * cols.shape[-1])
        self._cols, self._xp_shape, self._geometry = cols.reshape(-1, cols.shape[-1]), xp.shape, geometry
        return z

    def backward_logits(self, grad):
        W = self.params["kernel"]
        g2 = grad.reshape(-1, self.filters)  # (N·O, F)
        # dW[kc, f] = Σ_no cols[no, kc] grad[no, f]: (K·C [+ 1], N·O) @ (N·O, F); the ones
        # column gives db = 1ᵀ g as the last row. No out= here: with a view as out, NumPy
        # measured up to 20x slower on the tall, thin first-layer product.
        d_matrix = matmul(self._cols.T, g2)
        self.grads["kernel"][...] = d_matrix[:W[..., 0].size].reshape(W.shape)
        if self.use_bias:
            self.grads["bias"][...] = d_matrix[-1]
        if not self.needs_input_grad:
            return None
        # col2im, one kernel offset k at a time: dcols_k = g W_kᵀ, (N·O, F) @ (F, C), added to
        # the input pixels that offset read (overlapping windows add up). All offsets in one
        # product make an (N·O, K·C) array, 18 MB for the benchmark's second layer, whose
        # strided slices were slower to add back than nine small products (12.5 -> 9 ms).
        out_sizes = tuple(out for out, _, _ in self._geometry)
        arrays = backend.array_module(grad)  # NumPy, or CuPy on a GPU
        dxp = arrays.zeros(self._xp_shape, dtype=grad.dtype)
        g3 = grad.reshape(grad.shape[0], -1, self.filters)  # (N, O, F)

        def col2im(start, stop):  # samples start..stop-1, on one of glassnet's threads
            g2 = g3[start:stop].reshape(-1, self.filters)
            part = arrays.empty((g2.shape[0], W.shape[-2]), dtype=grad.dtype)
            for offset in np.ndindex(*self.kernel_size):
                np.matmul(g2, W[offset].T, out=part)
                read = dxp[(slice(start, stop), *offset_slices(offset, self.strides, self.dilation_rate, out_sizes))]
                read += part.reshape(stop - start, *out_sizes, W.shape[-2])

        # All nine (K) products and additions of a thread's samples in one hand-over: one per
        # offset took twice as many hand-overs as the rest of the step together.
        over_samples(col2im, grad.shape[0], macs=g3.size * W.shape[-2])  # per offset
        return unpad_spatial(dxp, self._geometry)

    def _im2col(self, xp, out):
        """out[n, o…, k…, c] = xp[n, o·s + k·d, c], one strided copy per kernel offset k.

        With stride and dilation 1 along the last spatial axis, the k_r offsets of that axis read
        k_r·C values side by side in xp, and out holds them side by side too: one copy then
        covers them all, in runs of k_r·C values instead of C (the benchmark CNN's second layer,
        3x3 over 32 channels: 2.3 -> 1.2 ms a batch on one thread). Below MERGE_MIN_CHANNELS
        channels the runs stay too short to gain (the first layer, C = 1, went 0.46 -> 1.3 ms).
        """
        out_sizes = out.shape[1:1 + self.rank]
        lead = (slice(None),) * (1 + self.rank)
        merge = (self.strides[-1] == 1 and self.dilation_rate[-1] == 1 and xp.shape[-1] >= MERGE_MIN_CHANNELS
                 and type(xp) is np.ndarray)
        for offset in np.ndindex(*(self.kernel_size[:-1] if merge else self.kernel_size)):
            if not merge:
                out[lead + offset] = xp[(slice(None), *offset_slices(offset, self.strides, self.dilation_rate,
                                                                     out_sizes))]
                continue
            # xp[n, o…, o_r + k_r, c] for every k_r: the first offset's window with one more axis
            # that steps one pixel along the last spatial axis (a read-only view, no copy).
            first = xp[(slice(None), *offset_slices(offset + (0,), self.strides, self.dilation_rate, out_sizes))]
            runs = np.lib.stride_tricks.as_strided(
                first, shape=(*first.shape[:-1], self.kernel_size[-1], first.shape[-1]),
                strides=(*first.strides[:-1], xp.strides[-2], xp.strides[-1]), writeable=False)
            out[lead + offset] = runs

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize(self.kernel_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": None if self.kernel_regularizer is None else serialize(self.kernel_regularizer),
            "bias_regularizer": None if self.bias_regularizer is None else serialize(self.bias_regularizer),
        }


@register("layer")
class Conv2D(_Conv):
    """2D convolution over images, channels last.

    Args: see the list below; Keras' names and defaults.
        filters: output channels F.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: "valid" or "same".
        dilation_rate: int or (dh, dw).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in ``Dense``.

    Shapes:
        x: (N, H, W, C) -> y: (N, Ho, Wo, F); kernel: (kh, kw, C, F); bias: (F,).
        "valid": Ho = ⌊(H - dh(kh-1) - 1) / sh⌋ + 1; "same": Ho = ⌈H / sh⌉ (likewise Wo).

    Math:
        forward  z[n,i,j,f] = Σ_{a,b,c} xp[n, i·sh + a·dh, j·sw + b·dw, c] W[a,b,c,f] + b[f],
                 y = act(z)  (xp is x zero-padded; computed as im2col @ W)
        backward dW[a,b,c,f] = Σ_{n,i,j} xp[n, i·sh + a·dh, j·sw + b·dw, c] g[n,i,j,f];
                 db[f] = Σ_{n,i,j} g[n,i,j,f];
                 dxp[n, i·sh + a·dh, j·sw + b·dw, c] += Σ_f g[n,i,j,f] W[a,b,c,f]

    Example:
        >>> import numpy as np, glassnet as gn
        >>> conv = gn.layers.Conv2D(8, 3, padding="same", activation="relu")
        >>> conv(np.zeros((2, 28, 28, 1), dtype="float32")).shape
        (2, 28, 28, 8)
    """

    rank = 2


@register("layer")
class Conv1D(_Conv):
    """1D convolution over sequences, channels last (time series, MNIST-1D, text embeddings).

    Args: as ``Conv2D`` with ints or 1-tuples; padding may also be "causal" (left padding only,
        so output t depends on inputs ≤ t).

    Shapes:
        x: (N, L, C) -> y: (N, Lo, F); kernel: (k, C, F); bias: (F,).

    Math:
        forward  z[n,t,f] = Σ_{a,c} xp[n, t·s + a·d, c] W[a,c,f] + b[f], y = act(z)
        backward dW[a,c,f] = Σ_{n,t} xp[n, t·s + a·d, c] g[n,t,f]; db[f] = Σ_{n,t} g[n,t,f];
                 dxp[n, t·s + a·d, c] += Σ_f g[n,t,f] W[a,c,f]

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.Conv1D(4, 5)(np.zeros((2, 40, 1), dtype="float32")).shape
        (2, 36, 4)
    """

    rank = 1
    paddings = (*PADDINGS, "causal")
