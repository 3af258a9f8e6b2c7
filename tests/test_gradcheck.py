"""The public gradient checker on hand-written layers, float32 layers and whole models."""

import numpy as np
import pytest

import glassnet as gn
from glassnet.gradcheck import check_gradients


class Scale:
    """A hand-written layer following the contract: y = w ⊙ x² (w per feature)."""

    def __init__(self, features, bug=False):
        self.params = {"w": np.linspace(0.5, 1.5, features)}
        self.grads = {"w": np.zeros(features)}
        self.bug = bug

    def forward(self, x, training=False):
        self._x = x
        return self.params["w"] * x * x

    def backward(self, grad):
        self.grads["w"] = (grad * self._x * self._x).sum(axis=0)
        # The classic mistake: forgetting the factor 2 of d(x²)/dx.
        return grad * self.params["w"] * self._x * (1 if self.bug else 2)


X = np.random.default_rng(0).standard_normal((3, 4))


def test_hand_written_layer_passes():
    result = check_gradients(Scale(4), X)
    assert result.passed and bool(result)
    assert [c.name for c in result.checks] == ["input", "w"]
    assert result.max_rel_error < 1e-7


def test_hand_written_bug_fails_only_the_wrong_tensor_and_the_report_says_so():
    result = check_gradients(Scale(4, bug=True), X)
    assert not result.passed and not result["input"].passed and result["w"].passed
    assert result["input"].max_rel_error == pytest.approx(0.5, rel=1e-6)  # half the true gradient
    text = str(result)
    assert "input" in text and "FAIL" in text and text.endswith("FAILED")


def test_a_backward_that_returns_nothing_fails():
    layer = Scale(4)
    layer.backward = lambda grad: None
    result = check_gradients(layer, X)
    assert not result["input"].passed and "no gradient" in str(result)


def test_float32_layer_is_checked_through_a_float64_copy_with_its_weights():
    layer = gn.layers.Dense(3, activation="sigmoid")
    layer(X.astype("float32"))
    kernel = layer.params["kernel"].copy()
    result = check_gradients(layer, X)
    assert result.passed, result
    np.testing.assert_array_equal(layer.params["kernel"], kernel)  # the original is untouched
    assert layer.params["kernel"].dtype == np.float32


def test_parameters_and_input_are_restored_after_the_check():
    layer = gn.layers.Dense(3, dtype="float64")
    x = X.copy()
    before = layer(x).copy()
    check_gradients(layer, x)
    np.testing.assert_array_equal(layer(x), before)
    np.testing.assert_array_equal(x, X)


def test_model_check_needs_float64_layers_and_a_compiled_model():
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(4,))], seed=0)
    with pytest.raises(ValueError, match="compiled model"):
        check_gradients(model, X, np.zeros((3, 2)))
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="dtype='float64'"):
        check_gradients(model, X, np.zeros((3, 2)))


def test_model_check_passes_on_a_correct_model(capsys):
    model = gn.Sequential([gn.layers.Dense(3, activation="elu", input_shape=(4,), dtype="float64"),
                           gn.layers.Dense(2, dtype="float64")], seed=0)
    model.compile(loss="huber")
    result = check_gradients(model, X, np.ones((3, 2)), verbose=True)
    assert result.passed and len(result.checks) == 4
    assert "PASSED" in capsys.readouterr().out


def conv_then_batch_norm():
    d = "float64"
    model = gn.Sequential([gn.layers.Conv2D(2, 3, input_shape=(5, 5, 1), dtype=d), gn.layers.BatchNormalization(dtype=d),
                           gn.layers.Flatten(dtype=d), gn.layers.Dense(2, activation="softmax", dtype=d)], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def test_a_training_mode_check_leaves_moving_statistics_as_they_were():
    model = conv_then_batch_norm()
    x, y = np.random.default_rng(0).standard_normal((4, 5, 5, 1)), np.array([0, 1, 0, 1])
    before = {k: v.copy() for k, v in model.layers[1].state.items()}
    check_gradients(model, x, y, training=True)  # about a hundred training-mode forwards
    check_gradients(model, x, training=True)  # the model as a function, no loss
    check_gradients(model.layers[1], model.layers[0](x), training=True)  # the layer alone
    for key, value in before.items():
        np.testing.assert_array_equal(model.layers[1].state[key], value)


def test_a_gradient_that_is_zero_in_exact_arithmetic_passes():
    # The conv bias is removed by BatchNormalization's batch mean: its gradient is 0, and both
    # sides give ~1e-12 of round-off. Its own scale must not turn that into a failure.
    model = conv_then_batch_norm()
    x, y = np.random.default_rng(0).standard_normal((4, 5, 5, 1)), np.array([0, 1, 0, 1])
    result = check_gradients(model, x, y, training=True)
    bias = result[f"{model.layers[0].name}/bias"]
    assert bias.max_abs_error < 1e-10 and result.passed, str(result)


def test_a_wrong_gradient_at_a_tiny_scale_still_fails():
    # The zero-gradient floor follows the objective's size: inputs of scale 1e-12 make every
    # gradient tiny, and a sign error there must still be caught.
    class Flipped(gn.layers.Dense):
        def backward_logits(self, grad):
            dx = super().backward_logits(grad)
            self.grads["kernel"] *= -1
            return dx

    layer = Flipped(3, dtype="float64")
    result = check_gradients(layer, X * 1e-12)
    assert not result["kernel"].passed and not result.passed


def test_the_zero_gradient_floor_is_not_fooled_by_a_cancelling_objective():
    # The layer check's objective Σ r·y can be small by cancellation while its terms, which
    # set the round-off, are not (projection seed 88 here): a true zero gradient must pass.
    x = np.random.default_rng(0).standard_normal((32, 6))
    model = gn.Sequential([gn.layers.Dense(16, input_shape=(6,), dtype="float64"),
                           gn.layers.BatchNormalization(dtype="float64")], seed=0)
    assert check_gradients(model, x, training=True, seed=88).passed
