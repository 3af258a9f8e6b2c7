"""The merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot; and
their masks as ``compute_mask`` combines them (glassnet/layers/merging.py)."""

from __future__ import annotations

from glassnet import layers
from glassnet.export.registry import converts, converts_mask


def _chain(g, op: str, xs: list[str]) -> str:
    """x₀ op x₁ op x₂ ..., left to right as glassnet sums (ONNX's variadic Sum fixes no order)."""
    y = xs[0]
    for x in xs[1:]:
        y = g.node(op, [y, x])
    return y


@converts(layers.Add)
def add(g, layer, xs):
    return _chain(g, "Add", xs)


@converts(layers.Subtract)
def subtract(g, layer, xs):
    return g.node("Sub", xs)


@converts(layers.Multiply)
def multiply(g, layer, xs):
    return _chain(g, "Mul", xs)


@converts(layers.Average)
def average(g, layer, xs):
    return g.node("Div", [_chain(g, "Add", xs), g.const(float(len(xs)))])


@converts(layers.Maximum)
def maximum(g, layer, xs):
    return g.node("Max", xs)


@converts(layers.Minimum)
def minimum(g, layer, xs):
    return g.node("Min", xs)


@converts(layers.Concatenate)
def concatenate(g, layer, xs):
    return g.node("Concat", xs, axis=layer.axis % len(layer.input_shape[0]))


@converts(layers.Dot)
def dot(g, layer, xs):
    """a moved to (N, A, K), b to (N, K, B), y = a @ b reshaped to (N, A..., B...) or (N, 1)."""
    (a, b), (a_shape, b_shape) = xs, layer.input_shape
    pair = [layer.axes, layer.axes] if isinstance(layer.axes, int) else layer.axes
    ax, bx = pair[0] % len(a_shape), pair[1] % len(b_shape)
    a_rest = [i for i in range(1, len(a_shape)) if i != ax]
    b_rest = [i for i in range(1, len(b_shape)) if i != bx]
    a = g.node("Transpose", [a], perm=[0, *a_rest, ax])
    b = g.node("Transpose", [b], perm=[0, bx, *b_rest])
    k = a_shape[ax]
    a = g.node("Reshape", [a, g.const([0, -1, k], dtype="int64")])
    b = g.node("Reshape", [b, g.const([0, k, -1], dtype="int64")])
    if layer.normalize:
        a, b = _l2_normalize(g, layer, a, 2), _l2_normalize(g, layer, b, 1)
    y = g.node("MatMul", [a, b])
    return g.node("Reshape", [y, g.const([0, *layer.output_shape[1:]], dtype="int64")])


def _l2_normalize(g, layer, x, axis: int) -> str:
    # x / max(Σ x², floor)^½, the floor as glassnet's Dot (Keras' l2_normalize).
    squares = g.node("ReduceSum", [g.node("Mul", [x, x]), g.const([axis], dtype="int64")], keepdims=1)
    norm = g.node("Sqrt", [g.node("Max", [squares, g.const(layer._MIN_SQUARED_NORM)])])
    return g.node("Div", [x, norm])


# -- masks: each a bool (N, T) tensor name, or None for an input without one ----------------------
@converts_mask(layers.Add, layers.Subtract, layers.Multiply, layers.Average, layers.Maximum, layers.Minimum)
def elementwise_mask(g, layer, xs, masks):
    given = [m for m in (masks or []) if m is not None]
    return _chain(g, "And", given) if given else None


@converts_mask(layers.Concatenate)
def concatenate_mask(g, layer, xs, masks):
    if masks is None or all(m is None for m in masks):
        return None
    full = [_all_kept(g, x) if m is None else m for x, m in zip(xs, masks)]
    if layer.axis % len(layer.input_shape[0]) == 1:
        return g.node("Concat", full, axis=1)
    return _chain(g, "Or", full)


@converts_mask(layers.Dot)
def dot_mask(g, layer, xs, masks):
    return None


def _all_kept(g, x: str) -> str:
    """A bool (N, T) of True for an input (N, T, ...) without a mask: ConstantOfShape's zeros == 0."""
    steps = g.node("Slice", [g.node("Shape", [x]), g.const([0], dtype="int64"), g.const([2], dtype="int64")])
    return g.node("Equal", [g.node("ConstantOfShape", [steps]), g.const(0.0, dtype="float32")])
