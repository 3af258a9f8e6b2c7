"""Masks over time steps: the ``Masking`` layer, and how a model hands a mask from layer to layer.

A mask is a boolean (N, T) array, True for the steps to use. A layer creates one in
``compute_mask`` (``Masking``, ``Embedding(mask_zero=True)``), a layer with ``takes_mask`` reads
it in ``forward(x, training, mask=)`` (recurrent layers, ``GlobalAveragePooling1D``,
``GlobalMaxPooling1D``), and a layer with ``supports_masking`` passes it on unchanged (``Dense``,
``Dropout``, ``Activation``); every other layer drops it, as in Keras 3. A layer that takes a list
(``Add``, ``Concatenate``) gets one mask per input and combines them in its ``compute_mask``; a
model used as a layer runs its own layers with the mask and returns its output's
(``forward_with_mask``). The backward passes need no mask: each layer keeps the one its forward used.
"""

from __future__ import annotations

import numbers

import numpy as np

from glassnet import backend
from glassnet._registry import register
from glassnet.layers.base import Layer


def check_sequence_mask(mask, x: np.ndarray, layer: str) -> np.ndarray | None:
    """``mask`` as a boolean (N, T) array for inputs ``x`` of shape (N, T, ...), or None."""
    if mask is None:
        return None
    mask = backend.array_module(x).asarray(mask)
    if mask.shape != x.shape[:2] or mask.dtype.kind not in "bui":
        raise ValueError(f"{layer}: the mask must be a boolean array (N, T) = {x.shape[:2]}, one entry per "
                         f"sample and time step (True = use the step); got {mask.dtype} of shape {mask.shape}. "
                         f"Build it as ids != 0 for padded token ids, or use Masking / Embedding(mask_zero=True).")
    return mask.astype(bool)


def call_with_mask(layer, x, mask, training: bool = False, logits: bool = False):
    """Run one layer of a model with the mask it receives; returns (output, the mask for the next layer).

    Args:
        layer: any layer.
        x: its input (a list for a layer that takes a list).
        mask: the mask of ``x`` (None: no mask; for a list, one mask or None per input).
        training: training mode.
        logits: call ``forward_logits`` (a final activation fused with the loss) instead of ``forward``.
    """
    if isinstance(mask, list) and all(m is None for m in mask):
        mask = None
    with_mask = getattr(layer, "forward_with_mask", None)  # a nested model: its layers hand masks on
    if with_mask is not None:
        return with_mask(x, training=training, mask=mask, logits=logits)
    call = layer.forward_logits if logits else layer.forward
    if mask is not None and getattr(layer, "takes_mask", False):
        y = call(x, training=training, mask=mask)
    else:
        y = call(x, training=training)
    compute_mask = getattr(layer, "compute_mask", None)  # a hand-written layer may lack it
    return y, (compute_mask(x, mask) if compute_mask is not None else None)


@register("layer")
class Masking(Layer):
    """Marks the time steps whose features all equal ``mask_value`` as padding.

    The layers after it that honour masks skip those steps (a recurrent layer carries its state
    over them, global pooling leaves them out); the padded steps themselves are set to 0, as Keras does.

    Args:
        mask_value: the padding value (default 0.0).
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.

    Shapes:
        x: (N, T, D) -> y: (N, T, D); mask: (N, T).

    Math:
        forward m[n, t] = any_d x[n, t, d] ≠ mask_value; y = m ⊙ x; backward dx = m ⊙ grad

    Example:
        >>> import numpy as np, glassnet as gn
        >>> x = np.array([[[1.0], [2.0], [0.0]]])
        >>> gn.layers.Masking()(x).shape, gn.layers.Masking().compute_mask(x)
        ((1, 3, 1), array([[ True,  True, False]]))
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise ValueError(f"Masking: mask_value must be a number; got {mask_value!r}.")
        self.mask_value = float(mask_value)

    def compute_mask(self, x, mask=None):
        return np.any(backend.asarray(x) != self.mask_value, axis=-1)

    def forward(self, x, training=False):
        self._keep = self.compute_mask(x)[..., None]  # (N, T, 1)
        return x * self._keep

    def backward(self, grad):
        return grad * self._keep

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
