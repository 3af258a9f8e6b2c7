"""Every activation, as a Dense ``activation=`` string, as a function and as a layer."""

import numpy as np
import pytest
from harness import F, check_activation_function, check_layer, torch, torch_dense

from glassnet import activations, layers

#: name -> the torch function with the same defaults as the glassnet function of that name.
TORCH_ACTIVATIONS = {
    "relu": lambda z: F.relu(z),
    "leaky_relu": lambda z: F.leaky_relu(z, 0.2),  # Keras' function default, 0.2
    "elu": lambda z: F.elu(z),
    "sigmoid": lambda z: torch.sigmoid(z),
    "tanh": lambda z: torch.tanh(z),
    "softmax": lambda z: F.softmax(z, dim=-1),
    "linear": lambda z: z,
    # Keras 3's definition, relu6(x + 3) / 6, written out: F.hardsigmoid's backward multiplies
    # by a float32 1/6 even in float64 (off by 3e-8 relative), which the oracle must not be.
    "hard_sigmoid": lambda z: torch.clamp(z + 3, 0, 6) / 6,
    "selu": lambda z: F.selu(z),
    "gelu": lambda z: F.gelu(z),  # approximate="none", Keras' default too
    "silu": lambda z: F.silu(z),
    "swish": lambda z: F.silu(z),  # Keras' alias of silu
    "softplus": lambda z: F.softplus(z),
    "softsign": lambda z: F.softsign(z),
    "relu6": lambda z: F.relu6(z),
    "exponential": lambda z: torch.exp(z),
    "mish": lambda z: F.mish(z),
}
NAMES = list(TORCH_ACTIVATIONS)
#: exactly at the kinks (0) and far beyond float overflow of a naive exp (±1000).
EDGES = np.array([[-1000.0, -30.0, -1.0, -1e-12, 0.0, 1e-12, 1.0, 30.0, 1000.0]])


@pytest.mark.parametrize("name", NAMES)
def test_activation_string_in_dense(name):
    check_layer(layers.Dense(4, activation=name), (5, 3), torch_dense(TORCH_ACTIVATIONS[name]))


@pytest.mark.parametrize("name", NAMES)
def test_activation_layer(name):
    check_layer(layers.Activation(name), (4, 6), lambda x, p: TORCH_ACTIVATIONS[name](x))


@pytest.mark.parametrize("name", NAMES)
def test_activation_function_at_kinks_and_extremes_matches_torch(name):
    # eˣ itself overflows at 1000, as Keras' and PyTorch's do: its extremes stop at ±30.
    edges = EDGES[:, 1:-1] if name == "exponential" else EDGES
    check_activation_function(activations.get(name), TORCH_ACTIVATIONS[name], edges)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_in_both_forms_matches_torch_and_keeps_the_dtype(dtype):
    check_layer(layers.Dense(4, activation=activations.GELU(approximate=True)), (5, 3),
                torch_dense(lambda z: F.gelu(z, approximate="tanh")))
    x = np.linspace(-4, 4, 9).astype(dtype)
    for fn in (activations.GELU(), activations.GELU(approximate=True), activations.get("mish"),
               activations.get("selu"), activations.get("softplus")):
        assert fn.forward(x).dtype == x.dtype and fn.backward(np.ones_like(x)).dtype == x.dtype
    assert activations.serialize(activations.GELU(approximate=True)) == {"class_name": "GELU",
                                                                          "config": {"approximate": True}}
    assert activations.serialize(activations.get("swish")) == "silu"  # as Keras 3 names it


@pytest.mark.parametrize("layer, torch_fn", [
    (layers.ReLU(), lambda x, p: F.relu(x)),
    (layers.LeakyReLU(), lambda x, p: F.leaky_relu(x, 0.3)),  # Keras' layer default, 0.3
    (layers.LeakyReLU(negative_slope=0.05), lambda x, p: F.leaky_relu(x, 0.05)),
    (layers.ELU(), lambda x, p: F.elu(x)),
    (layers.ELU(alpha=0.5), lambda x, p: F.elu(x, alpha=0.5)),
    (layers.Softmax(), lambda x, p: F.softmax(x, dim=-1)),
    (layers.Softmax(axis=1), lambda x, p: F.softmax(x, dim=1)),
    (layers.Activation(activations.LeakyReLUFunction(0.1)), lambda x, p: F.leaky_relu(x, 0.1)),
])
def test_named_activation_layers(layer, torch_fn):
    check_layer(layer, (3, 4, 5), torch_fn)


@pytest.mark.parametrize("name", NAMES)
def test_activation_keeps_float32(name):
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    fn = activations.get(name)
    assert fn.forward(x).dtype == np.float32 and fn.backward(np.ones_like(x)).dtype == np.float32


def test_softmax_rows_are_probabilities_even_for_huge_logits():
    y = activations.get("softmax").forward(np.array([[1e4, 0.0, -1e4], [5.0, 5.0, 5.0]]))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    np.testing.assert_allclose(y, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_log_softmax_is_accurate_where_log_of_softmax_underflows():
    z = np.array([[0.0, -800.0]])
    np.testing.assert_allclose(activations.log_softmax(z), [[0.0, -800.0]])


def test_activation_objects_are_not_shared_between_layers():
    # Each layer caches its own mask; a shared object would mix two layers' caches.
    fn = activations.ReLU()
    a, b = layers.Dense(2, activation=fn), layers.Dense(2, activation=fn)
    assert a.activation is not b.activation and a.activation is not fn


@pytest.mark.parametrize("fn, serialized", [
    (activations.get("relu"), "relu"),
    (activations.LeakyReLUFunction(0.2), "leaky_relu"),
    (activations.LeakyReLUFunction(0.1), {"class_name": "LeakyReLUFunction", "config": {"negative_slope": 0.1}}),
    (activations.ELU(alpha=2.0), {"class_name": "ELU", "config": {"alpha": 2.0}}),
])
def test_activation_serialize_roundtrip(fn, serialized):
    assert activations.serialize(fn) == serialized
    assert activations.get(serialized).get_config() == fn.get_config()


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="Valid activation identifiers: .*leaky_relu.*softmax"):
        activations.get("swishy")


def test_negative_leaky_slope_is_rejected():
    with pytest.raises(ValueError, match="negative_slope must be >= 0"):
        layers.LeakyReLU(negative_slope=-0.1)


def test_hard_sigmoid_is_flat_outside_minus_three_to_three_as_in_keras_3_and_pytorch():
    fn = activations.get("hard_sigmoid")
    x = np.array([-4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0])
    np.testing.assert_array_equal(fn.forward(x), [0, 0, 0.25, 0.5, 0.75, 1, 1])
    # PyTorch's convention at the two kinks: no gradient there (F.hardsigmoid's backward).
    np.testing.assert_array_equal(fn.backward(np.ones(7)) * 6, [0, 0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(activations.hard_sigmoid(x), fn.forward(x))


def test_an_lstm_with_keras_2s_hard_sigmoid_gates_passes_the_gradient_checks():
    # Keras 2's LSTM default recurrent_activation; the gates then run block by block (no tanh form).
    check_layer(layers.LSTM(3, recurrent_activation="hard_sigmoid", return_sequences=True), (2, 5, 3))
