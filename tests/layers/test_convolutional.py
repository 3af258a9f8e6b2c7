"""Conv1D and Conv2D: a plain-loop oracle, the gradient harness with torch, shapes and bad input."""

import itertools

import numpy as np
import pytest
from harness import F, check_layer, torch

import glassnet as gn
from glassnet import layers
from glassnet.layers import convolutional


# -- the oracle: the definition of a convolution, written as loops -----------------------------
def same_pads(n, k, s, d):
    """TensorFlow's "same" padding: output ⌈n/s⌉, shortfall split with the odd pixel after."""
    out = -(-n // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def loop_conv2d(x, W, b, strides, padding, dilation):
    """z[n,i,j,f] = Σ_{a,b,c} xp[n, i·sh + a·dh, j·sw + b·dw, c] W[a,b,c,f] + b[f], one term at a time."""
    (sh, sw), (dh, dw) = strides, dilation
    kh, kw, C, Fo = W.shape
    N, H, Wd, _ = x.shape
    if padding == "same":
        (pt, pb), (pl, pr) = same_pads(H, kh, sh, dh), same_pads(Wd, kw, sw, dw)
        x = np.pad(x, [(0, 0), (pt, pb), (pl, pr), (0, 0)])
    Ho = (x.shape[1] - dh * (kh - 1) - 1) // sh + 1
    Wo = (x.shape[2] - dw * (kw - 1) - 1) // sw + 1
    z = np.zeros((N, Ho, Wo, Fo))
    for n, i, j, f in itertools.product(range(N), range(Ho), range(Wo), range(Fo)):
        total = b[f]
        for a, bb, c in itertools.product(range(kh), range(kw), range(C)):
            total += x[n, i * sh + a * dh, j * sw + bb * dw, c] * W[a, bb, c, f]
        z[n, i, j, f] = total
    return z


def loop_conv1d(x, W, b, stride, padding, dilation):
    k, C, Fo = W.shape
    N, L, _ = x.shape
    if padding == "same":
        x = np.pad(x, [(0, 0), same_pads(L, k, stride, dilation), (0, 0)])
    elif padding == "causal":
        x = np.pad(x, [(0, 0), (dilation * (k - 1), 0), (0, 0)])
    Lo = (x.shape[1] - dilation * (k - 1) - 1) // stride + 1
    z = np.zeros((N, Lo, Fo))
    for n, t, f in itertools.product(range(N), range(Lo), range(Fo)):
        z[n, t, f] = b[f] + sum(x[n, t * stride + a * dilation, c] * W[a, c, f]
                                for a in range(k) for c in range(C))
    return z


# -- the torch oracle: NHWC <-> NCHW and kernel layouts -----------------------------------------
def torch_conv(rank, kernel_size, strides=1, padding="valid", dilation=1, activation=None):
    """``fn(x, params)`` computing glassnet's conv with torch.

    glassnet: x (N, *S, C), kernel (*k, C, F). torch: x (N, C, *S), weight (F, C, *k).
    "same" and "causal" become an explicit F.pad, since torch's padding is symmetric only.
    """
    k = (kernel_size,) * rank if isinstance(kernel_size, int) else tuple(kernel_size)
    s = (strides,) * rank if isinstance(strides, int) else tuple(strides)
    d = (dilation,) * rank if isinstance(dilation, int) else tuple(dilation)

    def fn(x, p):
        x_t = x.permute(0, rank + 1, *range(1, rank + 1))
        weight = p["kernel"].permute(rank + 1, rank, *range(rank))
        pads = []
        for axis in reversed(range(rank)):  # F.pad lists the last axis first
            if padding == "same":
                pads += same_pads(x.shape[1 + axis], k[axis], s[axis], d[axis])
            elif padding == "causal":
                pads += (d[axis] * (k[axis] - 1), 0)
            else:
                pads += (0, 0)
        x_t = F.pad(x_t, pads)
        conv = F.conv2d if rank == 2 else F.conv1d
        z = conv(x_t, weight, p.get("bias"), stride=s, dilation=d)
        z = z.permute(0, *range(2, rank + 2), 1)
        return z if activation is None else activation(z)
    return fn


CONV2D_CASES = [
    ({"filters": 4, "kernel_size": 3}, (2, 6, 7, 3)),
    ({"filters": 3, "kernel_size": 3, "padding": "same"}, (2, 5, 6, 2)),
    ({"filters": 2, "kernel_size": (2, 3), "strides": 2}, (2, 7, 8, 2)),
    # stride 2 with "same" on odd sizes: the padding is asymmetric (the extra pixel after).
    ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 7, 6, 2)),
    ({"filters": 2, "kernel_size": 2, "strides": (1, 2), "padding": "same"}, (1, 6, 6, 2)),
    ({"filters": 3, "kernel_size": 3, "dilation_rate": 2}, (2, 7, 7, 2)),
    ({"filters": 2, "kernel_size": 3, "dilation_rate": (2, 1), "padding": "same"}, (2, 6, 5, 2)),
    ({"filters": 3, "kernel_size": 1}, (2, 4, 4, 3)),
    ({"filters": 3, "kernel_size": 3, "use_bias": False}, (2, 5, 5, 2)),
    ({"filters": 3, "kernel_size": 3, "bias_initializer": "random_normal"}, (2, 5, 5, 2)),
    # 8 channels and more: im2col copies the last kernel axis' offsets in one go where that axis has
    # stride and dilation 1 (MERGE_MIN_CHANNELS), and one by one where it has not.
    ({"filters": 3, "kernel_size": 3}, (2, 6, 7, 8)),
    ({"filters": 2, "kernel_size": (2, 3), "strides": (2, 1), "padding": "same"}, (2, 7, 6, 9)),
    ({"filters": 2, "kernel_size": 3, "dilation_rate": (2, 1)}, (1, 7, 6, 8)),
    ({"filters": 2, "kernel_size": 3, "strides": (1, 2)}, (1, 6, 7, 8)),
    ({"filters": 2, "kernel_size": 2, "dilation_rate": (1, 2), "padding": "same"}, (1, 5, 6, 8)),
]


@pytest.mark.parametrize("kwargs, input_shape", CONV2D_CASES)
def test_conv2d_equals_the_loop_definition(kwargs, input_shape):
    layer = layers.Conv2D(**kwargs, dtype="float64")
    x = np.random.default_rng(0).standard_normal(input_shape)
    y = layer(x)
    W = layer.params["kernel"]
    b = layer.params.get("bias", np.zeros(W.shape[-1]))
    expected = loop_conv2d(x, W, b, layer.strides, layer.padding, layer.dilation_rate)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs, input_shape", CONV2D_CASES)
def test_conv2d_contract_with_torch(kwargs, input_shape):
    torch_fn = torch_conv(2, kwargs["kernel_size"], kwargs.get("strides", 1), kwargs.get("padding", "valid"),
                          kwargs.get("dilation_rate", 1))
    check_layer(layers.Conv2D(**kwargs), input_shape, torch_fn)


@pytest.mark.parametrize("activation, torch_act", [("tanh", "tanh"), ("sigmoid", "sigmoid")])
def test_conv2d_with_activation_contract(activation, torch_act):
    act = getattr(torch, torch_act) if torch is not None else None
    check_layer(layers.Conv2D(3, 3, padding="same", activation=activation), (2, 5, 5, 2),
                torch_conv(2, 3, padding="same", activation=act))


CONV1D_CASES = [
    ({"filters": 3, "kernel_size": 3}, (2, 9, 2)),
    ({"filters": 2, "kernel_size": 4, "padding": "same"}, (2, 7, 3)),
    ({"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 8, 2)),
    ({"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 9, 2)),
    ({"filters": 2, "kernel_size": 2, "strides": 3, "use_bias": False}, (3, 10, 1)),
    ({"filters": 3, "kernel_size": 3, "padding": "same"}, (2, 9, 8)),  # the merged im2col copy
    ({"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 8, 8)),
]


@pytest.mark.parametrize("kwargs, input_shape", CONV1D_CASES)
def test_conv1d_equals_the_loop_definition(kwargs, input_shape):
    layer = layers.Conv1D(**kwargs, dtype="float64")
    x = np.random.default_rng(1).standard_normal(input_shape)
    y = layer(x)
    W = layer.params["kernel"]
    b = layer.params.get("bias", np.zeros(W.shape[-1]))
    expected = loop_conv1d(x, W, b, layer.strides[0], layer.padding, layer.dilation_rate[0])
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs, input_shape", CONV1D_CASES)
def test_conv1d_contract_with_torch(kwargs, input_shape):
    torch_fn = torch_conv(1, kwargs["kernel_size"], kwargs.get("strides", 1), kwargs.get("padding", "valid"),
                          kwargs.get("dilation_rate", 1))
    check_layer(layers.Conv1D(**kwargs), input_shape, torch_fn)


def test_causal_conv1d_output_never_depends_on_later_inputs():
    layer = layers.Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64")
    x = np.random.default_rng(0).standard_normal((1, 10, 1))
    y = layer(x)
    later = x.copy()
    later[:, 6:] += 5.0
    np.testing.assert_array_equal(layer(later)[:, :6], y[:, :6])


def test_im2col_reads_the_same_windows_from_an_input_that_is_not_contiguous():
    # The merged copy reads windows through the input's own strides: a transposed or sliced
    # array must give what its contiguous copy gives.
    layer = layers.Conv2D(3, 3, padding="same", dtype="float64")
    x = np.random.default_rng(2).standard_normal((2, 9, 7, 16)).transpose(0, 2, 1, 3)[:, ::-1, :, ::2]
    assert not x.flags["C_CONTIGUOUS"] and x.shape[-1] >= convolutional.MERGE_MIN_CHANNELS
    np.testing.assert_array_equal(layer(x), layer(np.ascontiguousarray(x)))


def test_conv2d_keras_shapes_and_parameter_count():
    layer = layers.Conv2D(32, 3, input_shape=(28, 28, 1))
    model = gn.Sequential([layer, layers.Conv2D(64, (3, 3), strides=2, padding="same")])
    assert layer.params["kernel"].shape == (3, 3, 1, 32) and layer.params["bias"].shape == (32,)
    assert layer.output_shape == (None, 26, 26, 32) and layer.count_params() == 320  # Keras' figure
    assert model.output_shape == (None, 13, 13, 64)
    assert layers.Conv1D(8, 5).compute_output_shape((None, 40, 1)) == (None, 36, 8)


def test_conv2d_keeps_float32_and_skips_input_grad_when_not_needed():
    layer = layers.Conv2D(4, 3)
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 3)).astype(np.float32)
    y = layer(x)
    assert y.dtype == np.float32
    grad = np.ones_like(y)
    dx = layer.backward(grad)
    kernel_grad = layer.grads["kernel"].copy()
    layer.needs_input_grad = False  # what the model sets on its first layer with parameters
    assert layer.backward(grad) is None
    np.testing.assert_array_equal(layer.grads["kernel"], kernel_grad)
    assert dx.dtype == np.float32 and dx.shape == x.shape


def test_conv2d_config_keeps_every_argument():
    layer = layers.Conv2D(5, (3, 2), strides=(2, 1), padding="same", dilation_rate=1, activation="relu",
                          use_bias=False, kernel_initializer="he_normal",
                          kernel_regularizer=gn.regularizers.L2(1e-3))
    twin = layers.Conv2D.from_config(layer.get_config())
    config = twin.get_config()
    assert config["kernel_size"] == [3, 2] and config["strides"] == [2, 1] and config["padding"] == "same"
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 1e-3}}
    assert config == layer.get_config()


def test_kernel_larger_than_its_input_with_valid_padding_is_a_clear_error():
    with pytest.raises(ValueError, match=r"larger than the input \(4\) with padding='valid'.*padding='same'"):
        gn.Sequential([layers.Conv2D(2, 5, input_shape=(4, 4, 1))])
    with pytest.raises(ValueError, match="larger than the input"):
        layers.Conv2D(2, 3, dilation_rate=2)(np.zeros((1, 4, 9, 1)))  # 5 wide once dilated
    assert layers.Conv2D(2, 5, padding="same")(np.zeros((1, 4, 4, 1))).shape == (1, 4, 4, 2)


@pytest.mark.parametrize("kwargs, match", [
    ({"filters": 0, "kernel_size": 3}, "filters must be a positive integer"),
    ({"filters": 2, "kernel_size": (3, 3, 3)}, "kernel_size must be an int or 2 ints"),
    ({"filters": 2, "kernel_size": 3, "strides": 0}, "strides must be a positive integer"),
    ({"filters": 2, "kernel_size": 3, "padding": "causal"}, "padding must be one of"),
    ({"filters": 2, "kernel_size": 3, "padding": "full"}, "padding must be one of"),
])
def test_conv2d_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Conv2D(**kwargs)


def test_conv2d_on_images_without_a_channel_axis_says_how_to_add_one():
    with pytest.raises(ValueError, match=r"channels-last inputs \(N, H, W, C\).*x\[\.\.\., None\]"):
        layers.Conv2D(2, 3)(np.zeros((2, 8, 8)))


def test_conv2d_fed_rgb_after_being_built_for_grayscale_names_the_channels():
    layer = layers.Conv2D(2, 3)
    layer(np.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"expected inputs \(N, \.\.\., 1\)"):
        layer(np.zeros((1, 8, 8, 3)))
    model = gn.Sequential([layers.Conv2D(2, 3, input_shape=(8, 8, 1)), layers.Flatten(), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"per-sample shape \(8, 8, 3\).*\(8, 8, 1\)"):
        model.predict(np.zeros((1, 8, 8, 3)))


def test_small_cnn_model_gradient_through_the_training_loss():
    # Conv -> pool -> flatten -> dense softmax: the fused loss path and the stop at the first
    # layer (needs_input_grad False on the conv) together give exact parameter gradients.
    model = gn.Sequential([
        layers.Conv2D(2, 3, activation="tanh", input_shape=(6, 6, 1), dtype="float64"),
        layers.AveragePooling2D(dtype="float64"),
        layers.Flatten(dtype="float64"),
        layers.Dense(3, activation="softmax", dtype="float64"),
    ], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((4, 6, 6, 1))
    result = gn.gradcheck.check_gradients(model, x, np.array([0, 1, 2, 1]))
    assert result.passed, result
