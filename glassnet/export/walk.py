"""The models' own structure as ONNX nodes: a Sequential's chain, a graph's calls in order."""

from __future__ import annotations

from glassnet.export.registry import layer_converter, output_mask
from glassnet.layers.reshaping import Input as InputLayer


def call(g, layer, x, mask, initial_state=None):
    """``layer`` on ``x`` with the mask of ``x`` (a name or None; a list of them for a layer that
    takes a list), as ``call_with_mask`` in ``predict``; returns (its output, the output's mask).
    ``initial_state``: a recurrent layer's starting states (names), as a graph's call gave them."""
    if isinstance(mask, list) and all(m is None for m in mask):
        mask = None
    if getattr(layer, "forward_with_mask", None) is not None:  # a nested model: its layers hand masks on
        layer_converter(layer)  # the check that it has one, and its error
        return nested(g, layer, x, mask)
    convert = layer_converter(layer)
    extra = {} if initial_state is None else {"initial_state": initial_state}
    if mask is not None and getattr(layer, "takes_mask", False):
        y = convert(g, layer, x, mask=mask, **extra)
    else:
        y = convert(g, layer, x, **extra)
    return y, output_mask(g, layer, x, mask)


def chain(g, model, x: str, mask: str | None = None, return_mask: bool = False):
    """A Sequential's layers applied in turn to tensor ``x`` (whose mask is ``mask``), each handing
    the next its mask; returns the last output (a list of names for a last layer with
    ``return_state``), and its mask with ``return_mask``."""
    for layer in model.layers:
        x, mask = call(g, layer, x, mask)
    return (x, mask) if return_mask else x


def nested(g, layer, x, mask):
    """A model used as a layer, inlined under its name, as ``ModelLayer.forward_with_mask``:
    returns (its output, the output's mask), a list of each for a graph with several outputs. A
    model called twice is inlined twice, reading one copy of its weights."""
    with g.scope(layer.name):
        if getattr(layer.model, "is_graph", False):
            masks = []
            given = mask if layer.takes_list else [mask]
            y = graph(g, layer.model, x if layer.takes_list else [x], input_masks=given, output_masks=masks)
            # several outputs: one name and one mask per output, as ModelLayer.forward_with_mask
            return (y, masks) if layer.multi_output else (y[0], masks[0])
        return chain(g, layer.model, x, mask, return_mask=True)


def graph(g, model, inputs: list[str] = (), given: dict | None = None, input_masks: list | None = None,
          output_masks: list | None = None) -> list[str]:
    """A ``gn.Model``'s layer calls in topological order on ``inputs`` (one name per model input);
    returns its outputs' tensor names. A layer called twice is converted twice, and reads one
    copy of its weights (``GraphBuilder.weight`` names them after the layer). ``given`` maps
    ``id(tensor)`` to a name for tensors that come from elsewhere: the calls producing them are skipped.
    ``input_masks``: the inputs' masks (a nested graph's); ``output_masks``, if given, receives the
    outputs' masks."""
    value = {id(t): name for t, name in zip(model.inputs, inputs)} | (given or {})
    masks = {id(t): m for t, m in zip(model.inputs, input_masks or [])}
    for node in model.nodes:
        if isinstance(node.layer, InputLayer) or id(node.output) in value:
            continue
        args = [value[id(t)] for t in node.inputs]
        # A merging layer gets its inputs' masks as a list and combines them (as in predict).
        mask = [masks.get(id(t)) for t in node.inputs] if node.as_list else masks.get(id(node.inputs[0]))
        split = len(args) - node.state_inputs  # the last state_inputs are the initial_state
        y, out_mask = call(g, node.layer, args if node.as_list else args[0], mask,
                           args[split:] if node.state_inputs else None)
        # return_state and Bidirectional(merge_mode=None): one name per output; states carry no
        # mask; a nested model with several outputs hands on one mask per output (a list)
        for k, t in enumerate(node.outputs):
            value[id(t)] = y[k] if node.multi_output else y
            masks[id(t)] = (out_mask[k] if isinstance(out_mask, list) and node.multi_output
                            else out_mask if k == 0 else None)
    if output_masks is not None:
        output_masks.extend(masks.get(id(t)) for t in model.outputs)
    return [value[id(t)] for t in model.outputs]


def run(g, model, inputs: list[str]) -> list[str]:
    """Either kind of model on ``inputs``; returns its outputs."""
    if getattr(model, "is_graph", False):
        return graph(g, model, inputs)
    return [chain(g, model, inputs[0])]
