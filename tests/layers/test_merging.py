"""Merging layers: each through the harness (every input's gradient, torch), shapes and clear errors."""

import numpy as np
import pytest
from harness import F, check_layer, torch

from glassnet import layers


def torch_dot(axes, normalize=False):
    """Keras' batch dot with torch: move each contracted axis into place, then a batched matmul."""
    def fn(xs, p):
        a, b = xs
        ax, bx = axes if isinstance(axes, (list, tuple)) else (axes, axes)
        ax, bx = ax % a.dim(), bx % b.dim()
        if normalize:
            a, b = F.normalize(a, dim=ax, eps=1e-6), F.normalize(b, dim=bx, eps=1e-6)
        a_moved, b_moved = a.movedim(ax, -1), b.movedim(bx, 1)
        y = a_moved.reshape(a.shape[0], -1, a_moved.shape[-1]) @ b_moved.reshape(b.shape[0], b_moved.shape[1], -1)
        rest = (*a_moved.shape[1:-1], *b_moved.shape[2:])
        return y.reshape(a.shape[0], *rest) if rest else y.reshape(a.shape[0], 1)
    return fn


@pytest.mark.parametrize("layer, shapes, torch_fn", [
    (layers.Add(), [(3, 4), (3, 4)], lambda xs, p: xs[0] + xs[1]),
    (layers.Add(), [(2, 3, 2), (2, 3, 2), (2, 3, 2)], lambda xs, p: xs[0] + xs[1] + xs[2]),
    (layers.Add(), [(3, 4), (3, 1)], lambda xs, p: torch.add(xs[0], xs[1])),  # broadcast
    (layers.Subtract(), [(3, 4), (3, 4)], lambda xs, p: torch.sub(xs[0], xs[1])),
    (layers.Multiply(), [(3, 4), (3, 4), (3, 4)], lambda xs, p: xs[0] * xs[1] * xs[2]),
    (layers.Multiply(), [(3, 1, 2), (3, 4, 2)], lambda xs, p: torch.mul(xs[0], xs[1])),
    (layers.Average(), [(3, 4), (3, 4), (3, 4)], lambda xs, p: torch.stack(xs).mean(0)),
    (layers.Maximum(), [(3, 4), (3, 4), (3, 4)], lambda xs, p: torch.stack(xs).amax(0)),
    (layers.Minimum(), [(3, 4), (3, 4)], lambda xs, p: torch.minimum(xs[0], xs[1])),
    (layers.Concatenate(), [(3, 2), (3, 4), (3, 1)], lambda xs, p: torch.cat(xs, dim=-1)),
    (layers.Concatenate(axis=1), [(2, 3, 4), (2, 1, 4)], lambda xs, p: torch.cat(xs, dim=1)),
    (layers.Concatenate(axis=-2), [(2, 2, 3, 2), (2, 2, 1, 2)], lambda xs, p: torch.cat(xs, dim=2)),
    (layers.Dot(axes=1), [(3, 4), (3, 4)], torch_dot(1)),
    (layers.Dot(axes=-1, normalize=True), [(3, 4), (3, 4)], torch_dot(-1, True)),
    (layers.Dot(axes=2), [(2, 3, 4), (2, 5, 4)], torch_dot(2)),  # attention scores q kᵀ
    (layers.Dot(axes=(1, 1)), [(2, 3, 4), (2, 3, 5)], torch_dot((1, 1))),
    (layers.Dot(axes=[2, 1], normalize=True), [(2, 3, 4), (2, 4, 2)], torch_dot((2, 1), True)),
    (layers.Dot(axes=(1, 1)), [(2, 3), (2, 3, 5)], torch_dot((1, 1))),
])
def test_merging_contract_with_torch(layer, shapes, torch_fn):
    check_layer(layer, shapes, torch_fn)


@pytest.mark.parametrize("layer, shapes, expected", [
    (layers.Add(), [(None, 4), (None, 4)], (None, 4)),
    (layers.Add(), [(None, 4), (None, 1)], (None, 4)),
    (layers.Multiply(), [(None, None, 3), (None, 5, 3)], (None, 5, 3)),
    (layers.Concatenate(), [(None, 2), (None, 3)], (None, 5)),
    (layers.Concatenate(axis=1), [(None, 2, 8), (None, None, 8)], (None, None, 8)),
    (layers.Dot(axes=1), [(None, 6), (None, 6)], (None, 1)),
    (layers.Dot(axes=2), [(None, 3, 6), (None, 5, 6)], (None, 3, 5)),
])
def test_compute_output_shape(layer, shapes, expected):
    assert layer.compute_output_shape(shapes) == expected


def test_a_gradient_reaches_only_the_input_that_won_the_maximum():
    a, b = np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])
    layer = layers.Maximum()
    np.testing.assert_array_equal(layer([a, b]), [[3.0, 5.0]])
    da, db = layer.backward(np.array([[10.0, 20.0]]))
    np.testing.assert_array_equal(da, [[0.0, 20.0]])
    np.testing.assert_array_equal(db, [[10.0, 0.0]])


def test_multiply_gradient_is_finite_where_an_input_is_zero():
    a, b = np.array([[0.0, 2.0]]), np.array([[3.0, 0.0]])
    layer = layers.Multiply()
    layer([a, b])
    da, db = layer.backward(np.ones((1, 2)))
    np.testing.assert_array_equal(da, [[3.0, 0.0]])
    np.testing.assert_array_equal(db, [[0.0, 2.0]])


@pytest.mark.parametrize("layer, shapes, match", [
    (layers.Add(), [(None, 4)], "at least 2 inputs"),
    (layers.Subtract(), [(None, 4)] * 3, "exactly 2 inputs"),
    (layers.Add(), [(None, 4), (None, 3)], "one shape"),
    (layers.Add(), [(None, 4), (None, 4, 1)], "one rank"),
    (layers.Concatenate(), [(None, 2, 3), (None, 3, 3)], "every other axis"),
    (layers.Concatenate(axis=0), [(None, 2), (None, 3)], "non-batch axis"),
    (layers.Dot(axes=1), [(None, 3), (None, 4)], "different sizes"),
    (layers.Dot(axes=0), [(None, 3), (None, 3)], "no non-batch axis"),
])
def test_mismatched_inputs_get_a_named_error(layer, shapes, match):
    with pytest.raises(ValueError, match=match):
        layer.build(shapes)


def test_a_merging_layer_called_on_one_array_says_it_takes_a_list():
    with pytest.raises(TypeError, match="takes a list of arrays"):
        layers.Add()(np.ones((2, 3)))


def test_a_single_input_layer_still_takes_a_plain_list_of_numbers():
    assert layers.Dense(2)([[1.0, 2.0, 3.0]]).shape == (1, 2)


@pytest.mark.parametrize("axes", ["1", (1, 2, 3), True, 1.0])
def test_dot_rejects_bad_axes(axes):
    with pytest.raises(ValueError, match="axes must be an int or a pair"):
        layers.Dot(axes=axes)
