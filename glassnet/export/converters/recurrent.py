"""SimpleRNN, LSTM and GRU as ONNX's own RNN, LSTM and GRU operators; Bidirectional; their masks.

Layout: ONNX's recurrent operators take (T, N, D) (layout=0, the one every runtime implements);
glassnet's (N, T, D) is transposed on the way in and Y (T, directions, N, U) on the way out.

Weights: ONNX stores W as (directions, G·U, D), the transpose of glassnet's kernel, and the bias
as [input biases | recurrent biases]. LSTM's gate blocks are ordered i, o, f, c there and i, f, c, o
in Keras; GRU's z, r, h agree, and Keras 3's reset_after is ONNX's linear_before_reset=1.

go_backwards is direction="reverse" (ONNX's Y is then in time order; glassnet's output sequence
is in processing order, so it is reversed back); Bidirectional is direction="bidirectional"
when its two layers are mirror copies, otherwise two single-direction operators.

Masks: glassnet skips a masked step wherever it is (the state is carried over), while ONNX's
``sequence_lens`` only cuts a tail. So the unmasked steps of each sample are first moved to the
front, in order (TopK on the key (1 - m)·T + t, then GatherElements), the operator runs with
sequence_lens = Σ m, and each output step t is gathered back from position Σ_{s≤t} m_s - 1 of the
result. That gives glassnet's numbers for masks anywhere in the sequence, not only trailing padding.
"""

from __future__ import annotations

import numpy as np

from glassnet import activations, layers
from glassnet.export.dtypes import INT32, INT64, float_type
from glassnet.export.registry import ExportError, converts, converts_mask

#: glassnet's activation functions as ONNX's recurrent operators name them (attribute
#: ``activations``), with their (alpha, beta) parameters, or None for none.
_ONNX_ACTIVATIONS = {
    activations.Tanh: lambda f: ("Tanh", None),
    activations.Sigmoid: lambda f: ("Sigmoid", None),
    activations.ReLU: lambda f: ("Relu", None),
    activations.Linear: lambda f: ("Affine", (1.0, 0.0)),  # alpha x + beta
    activations.ELU: lambda f: ("Elu", (f.alpha, None)),
    activations.LeakyReLUFunction: lambda f: ("LeakyRelu", (f.negative_slope, None)),
    activations.HardSigmoid: lambda f: ("HardSigmoid", (1 / 6, 0.5)),  # max(0, min(1, alpha x + beta))
    activations.Softsign: lambda f: ("Softsign", None),
    # ONNX lists Softplus too, but ONNX Runtime's GRU with it gave NaN where glassnet's values were
    # finite (session 7): left unmapped, so the export is refused by name instead.
}

#: Keras' LSTM gate blocks i, f, c, o reordered to ONNX's i, o, f, c.
_LSTM_ORDER = [0, 3, 1, 2]


def _activation(layer, function) -> tuple[str, tuple | None]:
    entry = _ONNX_ACTIVATIONS.get(type(function))
    if entry is None:
        names = ", ".join(f.name for f in _ONNX_ACTIVATIONS)
        raise ExportError(
            f"Layer {layer.name!r} ({type(layer).__name__}) uses the activation {type(function).__name__}, which "
            f"ONNX's {_op(layer)} operator cannot take (it takes {names}). Train it with one of those to export it.")
    return entry(function)


def _op(layer) -> str:
    return {layers.SimpleRNN: "RNN", layers.LSTM: "LSTM", layers.GRU: "GRU"}[type(layer)]


def _activations(layer) -> list[tuple[str, tuple | None]]:
    """One direction's activations and their parameters: RNN [f], GRU [f, g], LSTM [f, g, h]."""
    if isinstance(layer, layers.LSTM):
        functions = (layer.recurrent_activation, layer.activation, layer.activation)
    elif isinstance(layer, layers.GRU):
        functions = (layer.recurrent_activation, layer.activation)
    else:
        functions = (layer.activation,)
    return [_activation(layer, f) for f in functions]


def _activation_attributes(entries: list) -> dict:
    """``activations`` and the flat ``activation_alpha`` / ``activation_beta`` lists, which hold
    the parameters of only the functions that take them, in order (ONNX Runtime reads them so)."""
    attributes = {"activations": [name for name, _ in entries]}
    alphas = [p[0] for _, p in entries if p is not None]
    betas = [p[1] for _, p in entries if p is not None and p[1] is not None]
    if alphas:
        attributes["activation_alpha"] = alphas
    if betas:
        attributes["activation_beta"] = betas
    return attributes


def _onnx_weights(layer, params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One direction's W (G·U, D), R (G·U, U) and B (2·G·U,) in ONNX's gate order, from ``layer``'s
    arrays ``params`` (``kernel``, ``recurrent_kernel``, ``bias``)."""
    W, U = params["kernel"], params["recurrent_kernel"]
    bias = params.get("bias")
    units, gates = layer.units, layer.gates
    if isinstance(layer, layers.GRU):
        b = None if bias is None else np.concatenate([bias[0], bias[1]])  # [b_x | b_h], both z, r, h
    else:
        b = None if bias is None else np.concatenate([bias, np.zeros_like(bias)])  # no recurrent bias
    if isinstance(layer, layers.LSTM):
        def reorder(a):  # (..., 4U) blocks i f c o -> i o f c
            return a.reshape(*a.shape[:-1], gates, units)[..., _LSTM_ORDER, :].reshape(a.shape)

        W, U = reorder(W), reorder(U)
        b = None if b is None else np.concatenate([reorder(b[:gates * units]), b[gates * units:]])
    return W.T, U.T, b


def _mirrored(forward, backward) -> bool:
    """Whether one ONNX bidirectional operator computes both layers: same kind and settings, the
    first running forwards and the second backwards."""
    if type(forward) is not type(backward) or forward.go_backwards or not backward.go_backwards:
        return False
    same = ("units", "use_bias")
    if any(getattr(forward, k) != getattr(backward, k) for k in same):
        return False
    return _activations(forward) == _activations(backward)


# -- time-axis helpers -----------------------------------------------------------------------------
def _reverse_time(g, x: str, axis: int = 1) -> str:
    """x with its ``axis`` reversed (a Slice with step -1 works for any length)."""
    int64_min = np.iinfo(np.int64).min
    return g.node("Slice", [x, g.const([-1], dtype="int64"), g.const([int64_min], dtype="int64"),
                            g.const([axis], dtype="int64"), g.const([-1], dtype="int64")])


def _gather_steps(g, x: str, index: str) -> str:
    """y[n, t, :] = x[n, index[n, t], :] for x (N, T, C) and index (N, T) int64."""
    wide = g.node("Expand", [g.node("Unsqueeze", [index, g.const([2], dtype="int64")]), g.node("Shape", [x])])
    return g.node("GatherElements", [x, wide], axis=1)


class _Packed:
    """A mask's bookkeeping: the order that moves unmasked steps to the front, their count and the
    position each output step reads back (see the module docstring)."""

    def __init__(self, g, mask: str, like: str):
        m = g.node("Cast", [mask], to=INT64)  # (N, T)
        steps = g.node("Gather", [g.node("Shape", [like]), g.const([1], dtype="int64")])  # [T]
        t = g.node("Range", [g.const(0, dtype="int64"), g.node("Squeeze", [steps]), g.const(1, dtype="int64")])
        key = g.node("Add", [g.node("Mul", [g.node("Sub", [g.const(1, dtype="int64"), m]), steps]), t])
        _, self.order = g.node("TopK", [key, steps], outputs=2, largest=0, sorted=1)  # (N, T): kept steps first
        self.lengths = g.node("Cast", [g.node("ReduceSum", [m, g.const([1], dtype="int64")], keepdims=0)], to=INT32)
        # the step a kept step t landed on: Σ_{s≤t} m_s - 1 (-1 before the first kept step)
        self.position = g.node("Sub", [g.node("CumSum", [m, g.const(1, dtype="int64")]), g.const(1, dtype="int64")])
        self.mask = mask

    def pack(self, g, x: str) -> str:
        return _gather_steps(g, x, self.order)

    def unpack(self, g, y: str, zero_output: bool, dtype) -> str:
        """Outputs (N, T, U) of the packed run back at their time steps: a masked step repeats the
        last kept step's output (0 before the first one), or is 0 with ``zero_output``."""
        y = _gather_steps(g, y, g.node("Max", [self.position, g.const(0, dtype="int64")]))
        keep = self.mask if zero_output else g.node("GreaterOrEqual", [self.position, g.const(0, dtype="int64")])
        return g.node("Mul", [y, g.node("Unsqueeze", [g.node("Cast", [keep], to=float_type(dtype)),
                                                      g.const([2], dtype="int64")])])


# -- the operator ----------------------------------------------------------------------------------
def _run(g, owner, directions: list, x: str, direction: str, lengths: str = "", initial: list = ()):
    """The ONNX operator of ``directions`` (one layer, or the forward and backward layers) on
    x (N, T, D); returns Y as (N, T, directions, U) and the final states, each (directions, N, U).
    ``owner`` is the layer whose arrays these are (the Bidirectional wrapper holds its two layers').
    ``initial``: the starting states (N, U) of a single direction, in ``state_names`` order
    (ONNX's initial_h, initial_c); none: zeros."""
    first = directions[0]
    if np.dtype(first.dtype) != np.float32:
        raise ExportError(
            f"Layer {owner.name!r} ({type(owner).__name__}) computes in {first.dtype}; ONNX Runtime implements the "
            f"RNN, LSTM and GRU operators in float32 only. Build the model with dtype='float32' to export it.")
    weights = [_onnx_weights(layer, _params(owner, layer)) for layer in directions]
    suffix = "" if owner is first else "_" + "_".join(layer.name for layer in directions)
    W = g.weight(owner, f"onnx_W{suffix}", np.stack([w for w, _, _ in weights]))
    R = g.weight(owner, f"onnx_R{suffix}", np.stack([r for _, r, _ in weights]))
    B = g.weight(owner, f"onnx_B{suffix}", np.stack([b for _, _, b in weights])) if first.use_bias else ""
    attributes = {"hidden_size": first.units, "direction": direction,
                  **_activation_attributes([a for layer in directions for a in _activations(layer)])}
    if isinstance(first, layers.GRU):
        attributes["linear_before_reset"] = 1  # Keras 3's reset_after: r ⊙ (h U + b_h)
    n_outputs = 3 if isinstance(first, layers.LSTM) else 2  # Y, Y_h (, Y_c)
    starts = [g.node("Unsqueeze", [h, g.const([0], dtype="int64")]) for h in initial]  # (1, N, U)
    outputs = g.node(_op(first), [g.node("Transpose", [x], perm=[1, 0, 2]), W, R, B, lengths, *starts],
                     outputs=n_outputs, **attributes)
    y = g.node("Transpose", [outputs[0]], perm=[2, 0, 1, 3])  # (T, dirs, N, U) -> (N, T, dirs, U)
    return y, outputs[1:]


def _params(owner, layer) -> dict:
    if owner is layer:
        return layer.params
    prefix = "forward_" if layer is owner.forward_layer else "backward_"  # Bidirectional's keys
    return {key[len(prefix):]: value for key, value in owner.params.items() if key.startswith(prefix)}


def _direction(g, y: str, states: list[str], k: int):
    """Direction ``k`` of _run's results: its sequence (N, T, U) and its final states (N, U)."""
    seq = g.node("Squeeze", [g.node("Slice", [y, g.const([k], dtype="int64"), g.const([k + 1], dtype="int64"),
                                               g.const([2], dtype="int64")]), g.const([2], dtype="int64")])
    finals = [g.node("Squeeze", [g.node("Slice", [s, g.const([k], dtype="int64"), g.const([k + 1], dtype="int64"),
                                                   g.const([0], dtype="int64")]), g.const([0], dtype="int64")])
              for s in states]
    return seq, finals


def single(g, layer, x: str, mask: str | None = None, owner=None, initial: list = ()):
    """One recurrent layer: (its output sequence in processing order (N, T, U), its final states).
    ``initial``: its starting states (a graph's ``initial_state=[...]``), or none (zeros)."""
    owner = layer if owner is None else owner
    if mask is None:
        y, states = _run(g, owner, [layer], x, "reverse" if layer.go_backwards else "forward", initial=initial)
        seq, finals = _direction(g, y, states, 0)
        # ONNX's reverse Y is in time order; glassnet's in processing order (last step first)
        return (_reverse_time(g, seq) if layer.go_backwards else seq), finals
    if layer.go_backwards:  # processing the reversed sequence forwards is what go_backwards does
        x, mask = _reverse_time(g, x), _reverse_time(g, mask)
    packed = _Packed(g, mask, x)
    y, states = _run(g, owner, [layer], packed.pack(g, x), "forward", packed.lengths, initial)
    seq, finals = _direction(g, y, states, 0)
    return packed.unpack(g, seq, layer.zero_output_for_mask, layer.dtype), finals


@converts(layers.SimpleRNN, layers.LSTM, layers.GRU)
def recurrent(g, layer, x, mask=None, initial_state=None):
    """Dropout and recurrent dropout are the identity at inference: the weights go in as they are.
    ``initial_state``: tensor names (N, U), one per state, as the layer's call in a graph got them."""
    seq, finals = single(g, layer, x, mask, initial=initial_state or ())
    y = seq if layer.return_sequences else finals[0]
    return [y, *finals] if layer.return_state else y


@converts(layers.Bidirectional)
def bidirectional(g, layer, x, mask=None, initial_state=None):
    """Both directions in time order (the backward one's sequence turned back), then merged; with
    ``return_state``, the forward direction's final states and the backward's after the output(s).
    ``initial_state``: the forward direction's starting states, then the backward's (tensor names)."""
    forward, backward = layer.directions
    starts = [(), ()]
    if initial_state:
        k = len(forward.state_names)
        starts = [list(initial_state[:k]), list(initial_state[k:])]
    if _mirrored(forward, backward) and not initial_state:  # starting states: one operator per direction
        packed = None if mask is None else _Packed(g, mask, x)
        y, states = _run(g, layer, [forward, backward], x if packed is None else packed.pack(g, x), "bidirectional",
                         "" if packed is None else packed.lengths)
        (y_f, states_f), (y_b, states_b) = _direction(g, y, states, 0), _direction(g, y, states, 1)
        if packed is not None:  # ONNX's backward Y is already in time order, as Bidirectional wants
            y_f = packed.unpack(g, y_f, forward.zero_output_for_mask, layer.dtype)
            y_b = packed.unpack(g, y_b, backward.zero_output_for_mask, layer.dtype)
    else:
        y_f, states_f = single(g, forward, x, mask, layer, initial=starts[0])
        y_b, states_b = single(g, backward, x, mask, layer, initial=starts[1])
        if layer.return_sequences:
            y_b = _reverse_time(g, y_b)
    if not layer.return_sequences:
        y_f, y_b = states_f[0], states_b[0]
    merged = _merged(g, layer.merge_mode, y_f, y_b)
    if not layer.return_state:
        return merged
    return [*(merged if layer.merge_mode is None else [merged]), *states_f, *states_b]


def _merged(g, merge_mode, y_f: str, y_b: str):
    if merge_mode == "concat":
        return g.node("Concat", [y_f, y_b], axis=-1)
    if merge_mode == "sum":
        return g.node("Add", [y_f, y_b])
    if merge_mode == "mul":
        return g.node("Mul", [y_f, y_b])
    if merge_mode == "ave":
        return g.node("Div", [g.node("Add", [y_f, y_b]), g.const(2.0)])
    return [y_f, y_b]


@converts_mask(layers.SimpleRNN, layers.LSTM, layers.GRU, layers.Bidirectional)
def sequence_mask(g, layer, x, mask):
    return mask if layer.return_sequences else None
