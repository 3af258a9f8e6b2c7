"""Pooling layers: a plain-loop oracle, the gradient harness with torch, shapes and bad input."""

import itertools

import numpy as np
import pytest
from harness import F, check_layer, torch

import glassnet as gn
from glassnet import layers


def same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def loop_pool2d(x, pool, strides, padding, mode):
    """Each output is the max / mean of the real pixels in its window (padding never counts)."""
    (ph, pw), (sh, sw) = pool, strides
    N, H, W, C = x.shape
    if padding == "same":
        (top, _), (left, _) = same_pads(H, ph, sh), same_pads(W, pw, sw)
        Ho, Wo = -(-H // sh), -(-W // sw)
    else:
        top = left = 0
        Ho, Wo = (H - ph) // sh + 1, (W - pw) // sw + 1
    y = np.zeros((N, Ho, Wo, C))
    for n, i, j, c in itertools.product(range(N), range(Ho), range(Wo), range(C)):
        window = [x[n, r, q, c] for r in range(i * sh - top, i * sh - top + ph)
                  for q in range(j * sw - left, j * sw - left + pw) if 0 <= r < H and 0 <= q < W]
        y[n, i, j, c] = max(window) if mode == "max" else sum(window) / len(window)
    return y


def torch_pool(rank, mode, pool, strides=None, padding="valid"):
    """torch's pooling on NCHW; "same" max pooling via an explicit -inf pad."""
    k = (pool,) * rank if isinstance(pool, int) else tuple(pool)
    s = k if strides is None else ((strides,) * rank if isinstance(strides, int) else tuple(strides))

    def fn(x, p):
        x_t = x.permute(0, rank + 1, *range(1, rank + 1))
        fn_max = F.max_pool2d if rank == 2 else F.max_pool1d
        fn_avg = F.avg_pool2d if rank == 2 else F.avg_pool1d
        if mode == "max":
            pads = []
            for axis in reversed(range(rank)):
                pads += same_pads(x.shape[1 + axis], k[axis], s[axis]) if padding == "same" else (0, 0)
            y = fn_max(F.pad(x_t, pads, value=-float("inf")), k, s)
        else:
            # Only symmetric "same" padding maps onto torch: count_include_pad=False is Keras' rule.
            sym = tuple(same_pads(x.shape[1 + a], k[a], s[a])[0] for a in range(rank)) if padding == "same" else 0
            y = fn_avg(x_t, k, s, padding=sym, count_include_pad=False)
        return y.permute(0, *range(2, rank + 2), 1)
    return fn


POOL2D_CASES = [
    ({}, (2, 6, 6, 2)),
    ({}, (2, 7, 5, 2)),  # odd sizes: "valid" drops the last row/column
    ({"pool_size": 3, "strides": 1}, (2, 5, 6, 2)),  # overlapping windows
    ({"pool_size": (2, 3), "strides": (2, 1)}, (2, 6, 7, 1)),
    ({"pool_size": 3, "strides": 1, "padding": "same"}, (2, 5, 6, 2)),
]
ASYMMETRIC_SAME = [({"pool_size": 2, "padding": "same"}, (2, 5, 5, 2)),
                   ({"pool_size": 3, "strides": 2, "padding": "same"}, (1, 6, 7, 2))]


@pytest.mark.parametrize("cls, mode", [(layers.MaxPooling2D, "max"), (layers.AveragePooling2D, "average")])
@pytest.mark.parametrize("kwargs, input_shape", POOL2D_CASES + ASYMMETRIC_SAME)
def test_pool2d_equals_the_loop_definition(cls, mode, kwargs, input_shape):
    layer = cls(**kwargs, dtype="float64")
    x = np.random.default_rng(0).standard_normal(input_shape)
    expected = loop_pool2d(x, layer.pool_size, layer.strides, layer.padding, mode)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls, mode", [(layers.MaxPooling2D, "max"), (layers.AveragePooling2D, "average")])
@pytest.mark.parametrize("kwargs, input_shape", POOL2D_CASES)
def test_pool2d_contract_with_torch(cls, mode, kwargs, input_shape):
    check_layer(cls(**kwargs), input_shape,
                torch_pool(2, mode, kwargs.get("pool_size", 2), kwargs.get("strides"),
                           kwargs.get("padding", "valid")))


@pytest.mark.parametrize("cls", [layers.MaxPooling2D, layers.AveragePooling2D])
@pytest.mark.parametrize("kwargs, input_shape", ASYMMETRIC_SAME)
def test_pool2d_contract_with_asymmetric_same_padding(cls, kwargs, input_shape):
    check_layer(cls(**kwargs), input_shape)  # torch has no asymmetric padding; the loop oracle covers it


@pytest.mark.parametrize("cls, mode", [(layers.MaxPooling1D, "max"), (layers.AveragePooling1D, "average")])
@pytest.mark.parametrize("kwargs, input_shape", [({}, (2, 9, 3)), ({"pool_size": 3, "strides": 1}, (2, 7, 2)),
                                                 ({"pool_size": 3, "strides": 2, "padding": "same"}, (2, 9, 2))])
def test_pool1d_contract_with_torch(cls, mode, kwargs, input_shape):
    check_layer(cls(**kwargs), input_shape,
                torch_pool(1, mode, kwargs.get("pool_size", 2), kwargs.get("strides"),
                           kwargs.get("padding", "valid")))


def test_max_pooling_sends_a_tied_gradient_to_the_first_maximum_only():
    # Ties are common after ReLU (many zeros); the gradient must not be counted twice.
    x = np.zeros((1, 2, 2, 1))
    layer = layers.MaxPooling2D(dtype="float64")
    layer(x)
    dx = layer.backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0], [0, 0]])


def test_average_pooling_same_ignores_the_padding():
    y = layers.AveragePooling2D(padding="same")(np.ones((1, 3, 3, 1), dtype=np.float32))
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1)))


@pytest.mark.parametrize("cls, reduce", [
    (layers.GlobalAveragePooling2D, lambda x: x.mean(dim=(1, 2))),
    (layers.GlobalMaxPooling2D, lambda x: x.amax(dim=(1, 2))),
])
def test_global_pooling_2d_contract_with_torch(cls, reduce):
    check_layer(cls(), (3, 4, 5, 2), lambda x, p: reduce(x))
    check_layer(cls(keepdims=True), (2, 3, 3, 2), lambda x, p: reduce(x)[:, None, None, :])


@pytest.mark.parametrize("cls, reduce", [
    (layers.GlobalAveragePooling1D, lambda x: x.mean(dim=1)),
    (layers.GlobalMaxPooling1D, lambda x: x.amax(dim=1)),
])
def test_global_pooling_1d_contract_with_torch(cls, reduce):
    check_layer(cls(), (3, 7, 2), lambda x, p: reduce(x))


def test_pooling_shapes_follow_keras():
    assert layers.MaxPooling2D().compute_output_shape((None, 26, 26, 32)) == (None, 13, 13, 32)
    assert layers.MaxPooling2D(3, strides=2).compute_output_shape((None, 7, 7, 4)) == (None, 3, 3, 4)
    assert layers.AveragePooling2D(2, padding="same").compute_output_shape((None, 7, 5, 1)) == (None, 4, 3, 1)
    assert layers.MaxPooling1D(2).compute_output_shape((None, 9, 3)) == (None, 4, 3)
    assert layers.GlobalAveragePooling2D().compute_output_shape((None, 7, 7, 8)) == (None, 8)
    config = layers.MaxPooling2D(3).get_config()
    assert config["pool_size"] == [3, 3] and config["strides"] is None  # the constructor's arguments


def test_pooling_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"larger than the input \(2\) with padding='valid'"):
        gn.Sequential([layers.MaxPooling2D(3, input_shape=(2, 2, 1))])
    with pytest.raises(ValueError, match=r"channels-last inputs \(N, H, W, C\)"):
        layers.MaxPooling2D()(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match="padding must be one of"):
        layers.AveragePooling2D(padding="causal")
    with pytest.raises(ValueError, match="pool_size must be a positive integer"):
        layers.MaxPooling1D(0)


def test_torch_is_the_reference_for_max_pool_gradient_routing():
    if torch is None:
        pytest.skip("torch is not installed")
    x = np.random.default_rng(3).standard_normal((2, 8, 8, 3))
    layer = layers.MaxPooling2D(3, strides=2, dtype="float64")
    y = layer(x)
    g = np.random.default_rng(4).standard_normal(y.shape)
    x_t = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    y_t = F.max_pool2d(x_t, 3, 2)
    y_t.backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(layer.backward(g), x_t.grad.numpy().transpose(0, 2, 3, 1))


@pytest.mark.parametrize("pool, strides, shape", [(2, None, (3, 8, 9, 4)), ((2, 3), None, (2, 7, 9, 3)),
                                                  (3, 2, (2, 9, 9, 3))])
def test_tied_maxima_route_like_torch(pool, strides, shape):
    # ReLU outputs: about half the pixels are 0, so many windows hold several equal maxima,
    # and small integers make ties among positive values too.
    if torch is None:
        pytest.skip("torch is not installed")
    x = np.maximum(np.random.default_rng(5).integers(-3, 3, shape), 0).astype("float64")
    layer = layers.MaxPooling2D(pool, strides=strides, dtype="float64")
    y = layer(x)
    g = np.random.default_rng(6).standard_normal(y.shape)
    x_t = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    F.max_pool2d(x_t, pool, strides).backward(torch.tensor(g.transpose(0, 3, 1, 2)))
    dx = layer.backward(g)
    np.testing.assert_array_equal(dx, x_t.grad.numpy().transpose(0, 2, 3, 1))
    assert np.isclose(dx.sum(), g.sum())  # each output's gradient counted exactly once
