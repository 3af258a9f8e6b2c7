"""The loop every model runs (fit, explain, check_gradients): forward over its layer calls in
order, backward in reverse. A call reads and writes numbered slots of one list of values: a
``Sequential`` is a chain of calls (chain.py), a ``gn.Model`` a graph in topological order.
"""

from __future__ import annotations

from glassnet.layers.masking import call_with_mask


class Call:
    """One layer call of a model: the layer (or a stand-in) and the slots it reads and writes.

    Args:
        layer: what runs: a layer, a replica of a shared one, or a fused pair (fusion.py).
        inputs: the slots it reads; ``as_list`` True hands it a list (a merging layer).
        outputs: the slots it writes; ``multi_output`` True when it returns a list (return_state).
        state_inputs: how many of the last ``inputs`` are a recurrent layer's ``initial_state``.
    """

    __slots__ = ("layer", "inputs", "outputs", "as_list", "multi_output", "state_inputs")

    def __init__(self, layer, inputs: list[int], outputs: list[int], as_list: bool = False,
                 multi_output: bool = False, state_inputs: int = 0):
        self.layer, self.inputs, self.outputs = layer, inputs, outputs
        self.as_list, self.multi_output, self.state_inputs = as_list, multi_output, state_inputs


def forward(calls: list[Call], values: list, masks: list, training: bool, logits=()) -> None:
    """Run every call in order, filling ``values`` (and ``masks``) in place.

    Args:
        values: one entry per slot: the inputs' arrays at their slots, None elsewhere.
        masks: the slots' time-step masks (glassnet/layers/masking.py), None where none.
        logits: indices of calls run as ``forward_logits`` (their final activation left to a fused loss).

    Math:
        for each call in order: values[call.outputs] = layer.forward(values[call.inputs]).
    """
    for i, call in enumerate(calls):
        args = [values[s] for s in call.inputs]
        # A merging layer gets its inputs' masks as a list and combines them (compute_mask).
        mask = [masks[s] for s in call.inputs] if call.as_list else masks[call.inputs[0]]
        if call.state_inputs:  # a recurrent layer started from other tensors (initial_state=[h, c])
            split = len(args) - call.state_inputs
            y = call.layer.forward(args[0], training=training, initial_state=args[split:],
                                   **({} if mask is None else {"mask": mask}))
            out_mask = call.layer.compute_mask(args[0], mask)
        else:
            y, out_mask = call_with_mask(call.layer, args if call.as_list else args[0], mask, training,
                                         logits=i in logits)
        # return_state: the states carry no mask (Keras); a nested model with several outputs
        # hands on one mask per output (a list)
        for k, s in enumerate(call.outputs):
            values[s] = y[k] if call.multi_output else y
            masks[s] = (out_mask[k] if isinstance(out_mask, list) and call.multi_output
                        else out_mask if k == 0 else None)


def backward(calls: list[Call], grads: list, logits=(), input_grads: bool = True, shares: list | None = None) -> None:
    """Run every call's backward in reverse, adding up the gradients that reach each slot.

    Each layer's ``grads`` is overwritten, as its backward does.

    Args:
        grads: one entry per slot: the loss gradients at the output slots, None elsewhere; on
            return, the inputs' slots hold dL/d(input) (None where nothing reached them).
        logits: the calls whose gradient is wrt their pre-activation (as ``forward`` ran them).
        input_grads: False (training) skips what only a gradient wrt the data would need: the
            calls with no parameters at or before them, and the first layers' input gradients.
        shares: if given (one list per slot), receives every ``(call index, gradient)`` that
            reached a slot, index None for the loss's: ``explain`` shows where they add up.

    Math:
        for each call in reverse: g = Σ (gradients reaching its outputs); layer.backward(g)
        gives each input's share, added to what already reached it (a fan-out, a residual).
    """
    wanted = None if input_grads else _behind_parameters(calls, len(grads))
    if shares is not None:
        for s, g in enumerate(grads):
            if g is not None:
                shares[s].append((None, g))
    for i in range(len(calls) - 1, -1, -1):
        call = calls[i]
        if wanted is not None and not wanted[call.outputs[0]]:
            continue  # no parameter at or before this call: nobody needs its gradient
        g = [grads[s] for s in call.outputs]
        for s in call.outputs:
            grads[s] = None  # handed to the call: free it as soon as the call is done
        if all(gk is None for gk in g):  # no loss depends on this call: its parameters get zero gradients
            for grad in call.layer.grads.values():
                grad[...] = 0  # in place: gradients may be views of one buffer
            continue
        layer = call.layer
        layer.needs_input_grad = wanted is None or any(wanted[s] for s in call.inputs)
        try:
            g = g if call.multi_output else g[0]
            dx = layer.backward_logits(g) if i in logits else layer.backward(g)
        finally:
            layer.needs_input_grad = True
        # a list back for a list in, and [dx, d_state...] for a layer given initial_state
        for s, dxi in zip(call.inputs, dx if call.as_list or call.state_inputs else [dx]):
            if dxi is not None:  # None: a layer told that no one needs its input's gradient
                grads[s] = dxi if grads[s] is None else grads[s] + dxi
                if shares is not None:
                    shares[s].append((i, dxi))


def _behind_parameters(calls: list[Call], n_slots: int) -> list[bool]:
    """Per slot: whether a layer with parameters computed it, or anything it was computed from."""
    behind = [False] * n_slots
    for call in calls:
        flag = bool(call.layer.params) or any(behind[s] for s in call.inputs)
        for s in call.outputs:
            behind[s] = flag
    return behind
