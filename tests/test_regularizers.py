"""L1/L2 penalties: values, gradients, and their wiring into Dense and the model's loss."""

import numpy as np
import pytest
from harness import torch

import glassnet as gn
from glassnet import layers, regularizers
from glassnet.gradcheck import check_gradients, compare_gradients, numeric_gradient

W = np.random.default_rng(0).standard_normal((4, 3))


@pytest.mark.parametrize("reg, l1, l2", [
    (regularizers.L1(0.1), 0.1, 0.0),
    (regularizers.L2(0.2), 0.0, 0.2),
    (regularizers.L1L2(l1=0.1, l2=0.2), 0.1, 0.2),
    (regularizers.get("l1"), 0.01, 0.0),  # Keras' default factor, 0.01
    (regularizers.get("l2"), 0.0, 0.01),
    (regularizers.get("l1_l2"), 0.0, 0.0),
])
def test_penalty_value_and_gradient(reg, l1, l2):
    assert reg(W) == pytest.approx(l1 * np.abs(W).sum() + l2 * np.square(W).sum(), rel=1e-12)
    w = W.copy()
    check = compare_gradients("w", reg.gradient(w), numeric_gradient(lambda: reg(w), w))
    assert check.passed, check


@pytest.mark.parametrize("reg", [regularizers.L1(0.1), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.2)])
def test_penalty_gradient_matches_torch_including_zero_weights(reg):
    if torch is None:
        pytest.skip("torch is not installed")
    w = W.copy()
    w[0] = 0.0  # |w| has no derivative at 0; torch and glassnet both use 0 there
    w_t = torch.tensor(w, requires_grad=True)
    (reg.l1 * w_t.abs().sum() + reg.l2 * (w_t ** 2).sum()).backward()
    np.testing.assert_allclose(reg.gradient(w), w_t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("l1, l2", [(-0.1, 0.0), (0.0, -1.0)])
def test_negative_factors_are_rejected(l1, l2):
    with pytest.raises(ValueError, match="must be >= 0"):
        regularizers.L1L2(l1=l1, l2=l2)


def test_unknown_regularizer_lists_valid_names():
    with pytest.raises(ValueError, match="Valid regularizer identifiers: .*l1_l2"):
        regularizers.get("l3")


def _regularized_model(seed=0):
    model = gn.Sequential([
        layers.Dense(5, activation="tanh", input_shape=(4,), dtype="float64",
                     kernel_regularizer=regularizers.L1L2(l1=0.01, l2=0.05), bias_regularizer=regularizers.L2(0.1),
                     bias_initializer="ones"),
        layers.Dense(2, dtype="float64", kernel_regularizer=regularizers.L1(0.02)),
    ], seed=seed)
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=1.0), loss="mse")
    return model


DATA = np.random.default_rng(1).standard_normal((8, 4)), np.random.default_rng(2).standard_normal((8, 2))


def test_model_loss_includes_every_penalty():
    model = _regularized_model()
    x, y = DATA
    d1, d2 = model.layers
    penalty = (0.01 * np.abs(d1.params["kernel"]).sum() + 0.05 * np.square(d1.params["kernel"]).sum()
               + 0.1 * np.square(d1.params["bias"]).sum() + 0.02 * np.abs(d2.params["kernel"]).sum())
    data_loss = np.mean(np.square(model.predict(x) - y))
    assert model.evaluate(x, y) == pytest.approx(data_loss + penalty, rel=1e-12)
    # The loss train_on_batch reports is the one of the weights it differentiated, before the step.
    assert model.train_on_batch(x, y) == pytest.approx(data_loss + penalty, rel=1e-12)


def test_model_gradient_includes_penalty_gradients():
    x, y = DATA
    result = check_gradients(_regularized_model(), x, y)
    assert result.passed, result


def test_training_step_matches_torch_with_the_penalty_in_its_loss():
    if torch is None:
        pytest.skip("torch is not installed")
    model = _regularized_model()
    x, y = DATA
    d1, d2 = model.layers
    arrays = {"k1": d1.params["kernel"], "b1": d1.params["bias"], "k2": d2.params["kernel"], "b2": d2.params["bias"]}
    p = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    out = torch.tanh(torch.tensor(x) @ p["k1"] + p["b1"]) @ p["k2"] + p["b2"]
    loss = (((out - torch.tensor(y)) ** 2).mean() + 0.01 * p["k1"].abs().sum() + 0.05 * (p["k1"] ** 2).sum()
            + 0.1 * (p["b1"] ** 2).sum() + 0.02 * p["k2"].abs().sum())
    loss.backward()
    before = model.get_weights()
    model.train_on_batch(x, y)  # SGD with learning rate 1: new = old - grad
    for name, old, new in zip(["k1", "b1", "k2", "b2"], before, model.get_weights()):
        np.testing.assert_allclose(old - new, p[name].grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)


def test_regularizers_do_not_change_predictions():
    x, _ = DATA
    plain = gn.Sequential([
        layers.Dense(5, activation="tanh", input_shape=(4,), dtype="float64", bias_initializer="ones"),
        layers.Dense(2, dtype="float64"),
    ], seed=0)
    np.testing.assert_array_equal(plain.predict(x), _regularized_model().predict(x))


def test_keras_lowercase_names_build_the_same_penalties(tmp_path):
    """``kernel_regularizer=regularizers.l2(1e-4)`` as Keras tutorials write it; ``l1_l2`` keeps Keras'
    defaults of 0.01 each (the class L1L2 defaults to 0)."""
    assert gn.regularizers.l2(1e-4).get_config() == gn.regularizers.L2(1e-4).get_config()
    assert gn.regularizers.l1(0.5).get_config() == {"l1": 0.5}
    assert gn.regularizers.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,), kernel_regularizer=gn.regularizers.l2(0.1))], seed=0)
    model.save(tmp_path / "m.glassnet")
    assert gn.load_model(tmp_path / "m.glassnet").layers[0].regularizers["kernel"].get_config() == {"l2": 0.1}
