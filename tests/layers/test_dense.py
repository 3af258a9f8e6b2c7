"""Dense: gradients, the torch oracle, shapes, config, regularizer wiring and bad arguments."""

import numpy as np
import pytest
from harness import F, check_layer, torch, torch_dense

import glassnet as gn
from glassnet import layers


@pytest.mark.parametrize("kwargs, input_shape, torch_fn", [
    ({"units": 3}, (4, 5), torch_dense()),
    ({"units": 1}, (6, 2), torch_dense()),
    ({"units": 3, "use_bias": False}, (4, 5), torch_dense()),
    ({"units": 4, "activation": "tanh"}, (3, 5), torch_dense(lambda z: torch.tanh(z))),
    ({"units": 3, "activation": "softmax"}, (4, 5), torch_dense(lambda z: F.softmax(z, dim=-1))),
    # Inputs with middle axes: Dense acts on the last axis, as Keras' does.
    ({"units": 3}, (2, 4, 5), torch_dense()),
    ({"units": 2, "activation": "sigmoid"}, (2, 3, 2, 4), torch_dense(lambda z: torch.sigmoid(z))),
    ({"units": 3, "kernel_initializer": "he_normal", "bias_initializer": "ones"}, (4, 5), torch_dense()),
])
def test_dense_contract(kwargs, input_shape, torch_fn):
    check_layer(layers.Dense(**kwargs), input_shape, torch_fn)


def test_dense_matches_torch_linear_module_with_transposed_kernel():
    # glassnet's kernel is (in, out) so x @ W needs no transpose; torch's weight is (out, in).
    torch_mod = pytest.importorskip("torch")
    layer = layers.Dense(3, activation="relu", dtype="float64")
    x = np.random.default_rng(0).standard_normal((4, 5))
    y = layer(x)
    linear = torch_mod.nn.Linear(5, 3, dtype=torch_mod.float64)
    with torch_mod.no_grad():
        linear.weight.copy_(torch_mod.tensor(layer.params["kernel"].T))
        linear.bias.copy_(torch_mod.tensor(layer.params["bias"]))
    x_t = torch_mod.tensor(x, requires_grad=True)
    y_t = torch_mod.relu(linear(x_t))
    g = np.random.default_rng(1).standard_normal(y.shape)
    (y_t * torch_mod.tensor(g)).sum().backward()
    dx = layer.backward(g)
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["kernel"], linear.weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["bias"], linear.bias.grad.numpy(), rtol=1e-12)


def test_dense_builds_lazily_with_keras_shapes_and_param_count():
    layer = layers.Dense(7)
    assert not layer.built and layer.params == {}
    layer.build((None, 5))
    assert layer.params["kernel"].shape == (5, 7) and layer.params["bias"].shape == (7,)
    assert layer.output_shape == (None, 7) and layer.count_params() == 5 * 7 + 7
    assert layers.Dense(7, use_bias=False, input_shape=(5,)).get_config()["input_shape"] == [5]


def test_dense_default_initializers_are_glorot_uniform_kernel_and_zero_bias():
    layer = layers.Dense(50)
    layer.build((None, 40))
    limit = np.sqrt(6 / (40 + 50))
    assert np.abs(layer.params["kernel"]).max() <= limit
    assert np.abs(layer.params["kernel"]).max() > 0.9 * limit  # uniform fills the interval
    np.testing.assert_array_equal(layer.params["bias"], 0)


def test_dense_float32_default_keeps_float32():
    layer = layers.Dense(3)
    y = layer(np.ones((2, 4), dtype="float32"))
    assert layer.params["kernel"].dtype == np.float32 and y.dtype == np.float32


def test_dense_skips_the_input_gradient_when_not_needed():
    layer = layers.Dense(3, dtype="float64")
    layer(np.ones((2, 4)))
    layer.needs_input_grad = False
    assert layer.backward(np.ones((2, 3))) is None
    np.testing.assert_array_equal(layer.grads["bias"], [2.0, 2.0, 2.0])


@pytest.mark.parametrize("units", [0, -3, 2.5, "8", True, None])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Dense(units)


def test_dense_rejects_unknown_activation_with_valid_names():
    with pytest.raises(ValueError, match="Valid activation identifiers: .*relu"):
        layers.Dense(3, activation="rellu")


def test_dense_rejects_bad_dtype():
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        layers.Dense(3, dtype="float16")


def test_dense_regularizers_survive_config_roundtrip():
    layer = layers.Dense(3, kernel_regularizer=gn.regularizers.L1L2(l1=0.1, l2=0.2), bias_regularizer="l2")
    twin = layers.Dense.from_config(layer.get_config())
    assert twin.kernel_regularizer.get_config() == {"l1": 0.1, "l2": 0.2}
    assert twin.bias_regularizer.get_config() == {"l2": 0.01}
