"""A ``Sequential`` as the loop's special case: a chain of calls, layer i reading slot i, writing slot i + 1.

Training and prediction run the chain with each ReLU-then-max-pooling pair fused into one call
(fusion.py); ``explain`` runs the plain chain, to show each layer's own output.
"""

from __future__ import annotations

from glassnet.models import fusion, loop


def plain_calls(layers) -> list[loop.Call]:
    """One call per layer: layer i reads slot i and writes slot i + 1."""
    return [loop.Call(layer, [i], [i + 1]) for i, layer in enumerate(layers)]


def fused_calls(layers) -> list[loop.Call]:
    """``plain_calls`` with each ReLU-then-max-pooling pair run as one ``PoolThenReLU`` call."""
    pairs = fusion.relu_then_max_pool(layers)
    calls, i = [], 0
    while i < len(layers):
        if i in pairs:
            calls.append(loop.Call(fusion.PoolThenReLU(layers[i], layers[i + 1]), [i], [i + 2]))
            i += 2
        else:
            calls.append(loop.Call(layers[i], [i], [i + 1]))
            i += 1
    return calls


def calls_of(model) -> list[loop.Call]:
    """``fused_calls(model.layers)``, kept on ``model`` until its list of layers changes
    (``add``, ``pop``, or an edit of ``model.layers``), so that a step does not rebuild it."""
    key = tuple(map(id, model.layers))
    cached = model.__dict__.get("_chain")
    if cached is None or cached[0] != key:
        cached = model._chain = (key, fused_calls(model.layers))
    return cached[1]


def forward(model, x, training: bool, mask=None, logits: bool = False):
    """(output, its mask) of ``model``'s chain for ``x`` (with ``mask``); ``logits`` stops the
    last layer before its final activation (a loss fused with it takes over)."""
    calls = calls_of(model)
    values, masks = [x] + [None] * len(model.layers), [mask] + [None] * len(model.layers)
    loop.forward(calls, values, masks, training, logits=(len(calls) - 1,) if logits else ())
    return values[-1], masks[-1]


def backward(model, grad, input_grads: bool = True, logits: bool = False):
    """dL/dx of ``forward(model, x, ...)`` from dL/dy, writing every layer's ``grads``;
    ``input_grads`` False when no one needs dL/dx (the result is then None)."""
    calls = calls_of(model)
    grads = [None] * len(model.layers) + [grad]
    loop.backward(calls, grads, logits=(len(calls) - 1,) if logits else (), input_grads=input_grads)
    return grads[0]
