"""gn.check_gradients on a whole model without a loss: the input and every parameter."""

import numpy as np

import glassnet as gn
from glassnet import layers


X = np.random.default_rng(0).standard_normal((3, 4))


def test_a_float32_model_is_checked_as_one_function_through_a_float64_copy(capsys):
    model = gn.Sequential([layers.Dense(3, activation="tanh", input_shape=(4,)), layers.Dropout(0.3),
                           layers.Dense(2, activation="softmax")], seed=0)
    before = model.get_weights()
    result = gn.check_gradients(model, X, training=True, verbose=True)
    assert result.passed
    names = [c.name for c in result.checks]
    assert names == ["input"] + [f"{layer.name}/{key}" for layer in model.layers for key in layer.params]
    assert "PASSED" in capsys.readouterr().out
    for a, b in zip(model.get_weights(), before):  # the model itself is untouched
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.float32


class _WrongBackwardDense(layers.Dense):
    """A user's layer whose backward forgets the activation's derivative."""

    def backward(self, grad):
        return self.backward_logits(grad)


def test_a_wrong_user_layer_inside_a_model_fails_where_it_is_wrong():
    model = gn.Sequential([_WrongBackwardDense(3, activation="tanh", input_shape=(4,), dtype="float64"),
                           layers.Dense(2, dtype="float64")], seed=0)
    result = gn.check_gradients(model, X)
    assert not result.passed
    first = model.layers[0].name
    assert not result[f"{first}/kernel"].passed and not result["input"].passed
    assert result[f"{model.layers[1].name}/kernel"].passed
    assert "FAILED" in str(result)
