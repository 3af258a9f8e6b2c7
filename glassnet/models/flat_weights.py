"""A speed trick beside the loop: a model's trainable weights side by side in one flat buffer
(and their gradients in another), so the optimizer updates them as one array."""

from __future__ import annotations

import numpy as np

from glassnet import backend


def pack(layers) -> None:
    """Move the trainable weights of every built layer into one flat buffer, and their
    gradients into another; each layer keeps views of its part, in layer order. A graph's
    shared layer is one entry (its replicas read the same ``params`` dict, so they see the
    views too, and their own grads are added into the layer's views).

    Nothing changes for the layers, which read and write ``params`` and ``grads`` in place.
    The optimizer finds the arrays side by side and updates them as one: Adam's dozen
    elementwise passes then cost a dozen NumPy calls per step, not a dozen per array (figures
    in benchmarks/README.md). Nothing is packed unless there are two arrays of one dtype.

    The buffer is made on the host: a model grown after a fit on a GPU (``add``) holds device
    arrays beside a new layer's host ones; they come back here, and the next fit moves the
    buffer to the device as one (glassnet/models/placement.py).
    """
    from glassnet.models.nested import ModelLayer  # nested.py imports the model modules

    # A nested model's arrays stay where its own layers (and its own flat buffer) hold them.
    slots = [(layer, key) for layer in layers if layer.built and not isinstance(layer, ModelLayer)
             for key in layer.params]
    dtypes = {layer.params[key].dtype for layer, key in slots}
    if len(slots) < 2 or len(dtypes) != 1:
        return
    offsets = np.cumsum([0] + [layer.params[key].size for layer, key in slots])
    dtype = dtypes.pop()
    weights, grads = np.zeros(offsets[-1], dtype), np.zeros(offsets[-1], dtype)
    for (layer, key), start in zip(slots, offsets):
        for table, flat in ((layer.params, weights), (layer.grads, grads)):
            view = flat[start:start + table[key].size].reshape(table[key].shape)
            view[...] = backend.to_host(table[key])  # a NumPy buffer cannot take CuPy arrays
            table[key] = view
