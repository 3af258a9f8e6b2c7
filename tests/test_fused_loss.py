"""The fused softmax + cross-entropy and sigmoid + binary cross-entropy gradient.

When the last activation and the loss pair up, the model hands the loss the pre-activation
logits z, and the gradient reaching z is (p - y)/N: exact, and finite for any logits.
"""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers, losses
from glassnet.gradcheck import check_gradients
from glassnet.models import training

N, D = 6, 4
X = np.random.default_rng(0).standard_normal((N, D))
LABELS = np.array([0, 2, 1, 2, 0, 1])
ONE_HOT = np.eye(3)[LABELS]
BINARY = (np.random.default_rng(1).random((N, 2)) > 0.5).astype(float)


def _model(last, loss, dtype="float64"):
    model = gn.Sequential([layers.Dense(5, activation="tanh", input_shape=(D,), dtype=dtype), *last], seed=0)
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.1), loss=loss)
    return model


def _record_backward_calls(layer):
    """Wrap ``layer`` so each call of backward_logits / backward is recorded in order.

    Dense.backward itself calls backward_logits after the activation's backward, so the plain
    path records ["output", "logits"] and the fused path only ["logits"].
    """
    calls = []

    def wrap(method, kind):
        def recorded(grad):
            calls.append((kind, grad.copy()))
            return method(grad)
        return recorded

    layer.backward_logits = wrap(layer.backward_logits, "logits")
    layer.backward = wrap(layer.backward, "output")
    return calls


FUSED = {
    "softmax+cce": ([layers.Dense(3, activation="softmax", dtype="float64")], "categorical_crossentropy", ONE_HOT, 1),
    "softmax+scce": ([layers.Dense(3, activation="softmax", dtype="float64")], "sparse_categorical_crossentropy",
                     LABELS, 1),
    "softmax_layer+cce": ([layers.Dense(3, dtype="float64"), layers.Activation("softmax", dtype="float64")],
                          losses.CategoricalCrossentropy(), ONE_HOT, 1),
    "sigmoid+bce": ([layers.Dense(2, activation="sigmoid", dtype="float64")], "binary_crossentropy", BINARY, 2),
}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", FUSED)
def test_fused_gradient_reaching_the_logits_is_p_minus_y_over_n(case, weighted):
    last, loss, y, outputs = FUSED[case]
    model = _model(last, loss)
    calls = _record_backward_calls(model.layers[-1])
    w = np.linspace(0.5, 2.0, N) if weighted else np.ones(N)
    x, y_checked = training.prepare_xy(model, X, y)
    _, p, grad = training.forward_loss(model, x, y_checked, w if weighted else None, training=True)
    training.backward(model, grad)
    assert [kind for kind, _ in calls] == ["logits"]  # the softmax/sigmoid Jacobian is skipped
    target = y if y.ndim == 2 else np.eye(3)[y]
    np.testing.assert_allclose(calls[0][1], (p - target) * w[:, None] / (N * outputs), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("last, loss", [
    ([layers.Dense(3, activation="softmax", dtype="float64")], "mse"),
    ([layers.Dense(3, activation="sigmoid", dtype="float64")], "categorical_crossentropy"),
    ([layers.Dense(3, dtype="float64")], losses.CategoricalCrossentropy(from_logits=True)),
])
def test_unpaired_activation_and_loss_take_the_plain_path(last, loss):
    model = _model(last, loss)
    calls = _record_backward_calls(model.layers[-1])
    x, y = training.prepare_xy(model, X, ONE_HOT)
    training.backward(model, training.forward_loss(model, x, y, None, training=True)[2])
    assert [kind for kind, _ in calls][0] == "output"


@pytest.mark.parametrize("last, loss, y", [
    *[(last, loss, y) for last, loss, y, _ in FUSED.values()],
    ([layers.Dense(3, activation="softmax", dtype="float64")], "mse", ONE_HOT),
    ([layers.Dense(2, activation="softmax", dtype="float64")], "binary_crossentropy", BINARY),
    ([layers.Dense(3, dtype="float64")], losses.CategoricalCrossentropy(from_logits=True), ONE_HOT),
    ([layers.Dense(3, dtype="float64")], losses.SparseCategoricalCrossentropy(from_logits=True), LABELS),
    ([layers.Dense(2, dtype="float64")], losses.BinaryCrossentropy(from_logits=True), BINARY),
    ([layers.Dense(2, activation="sigmoid", dtype="float64"), layers.Dropout(0.3, dtype="float64")],
     "binary_crossentropy", BINARY),
])
def test_model_gradients_fused_or_not_match_finite_differences(last, loss, y):
    result = check_gradients(_model(last, loss), X, y, training=True)
    assert result.passed, result


@pytest.mark.parametrize("case", FUSED)
def test_fused_loss_value_equals_the_unfused_loss_of_the_probabilities(case):
    last, loss, y, _ = FUSED[case]
    model = _model(last, loss)
    unfused = type(model.loss)()  # from_logits=False, applied to the model's probabilities
    assert model.evaluate(X, y) == pytest.approx(unfused(y, model.predict(X)), rel=1e-12)


@pytest.mark.parametrize("activation, loss, y", [
    ("softmax", "categorical_crossentropy", ONE_HOT),
    ("softmax", "sparse_categorical_crossentropy", LABELS),
    ("sigmoid", "binary_crossentropy", BINARY[:, :1]),
])
def test_training_with_huge_logits_stays_finite_and_learns(activation, loss, y):
    units = y.shape[1] if y.ndim == 2 else 3
    model = gn.Sequential([layers.Dense(units, activation=activation, input_shape=(D,))], seed=0)
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=1e-3), loss=loss)
    model.layers[0].params["kernel"] *= 1e4  # logits of order 1e4: exp overflows in float32
    before = model.evaluate(X, y)
    history = model.fit(X, y, epochs=3, batch_size=N, verbose=0, shuffle=False)
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    # The fused gradient is (p - y)/N, not 0 as through a saturated softmax, so the loss drops.
    assert model.evaluate(X, y) < before


def test_layers_added_after_compile_rework_the_pairing():
    # A softmax model compiled, then a linear layer appended: its outputs are no logits of the
    # loss any more, so training must take the plain path and agree with predict.
    model = _model([layers.Dense(3, activation="softmax", dtype="float64")], "categorical_crossentropy")
    model.add(layers.Dense(3, dtype="float64"))
    loss, y_pred, _ = training.forward_loss(model, X, ONE_HOT, None, training=False)
    np.testing.assert_array_equal(y_pred, model.predict(X))
    assert loss == losses.CategoricalCrossentropy()(ONE_HOT, y_pred)
    # And the other way round: compiled first, the softmax layer added afterwards pairs up.
    model = gn.Sequential(seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.add(layers.Dense(3, activation="softmax", input_shape=(D,), dtype="float64"))
    calls = _record_backward_calls(model.layers[-1])
    x, y = training.prepare_xy(model, X, ONE_HOT)
    training.backward(model, training.forward_loss(model, x, y, None, training=True)[2])
    assert [kind for kind, _ in calls] == ["logits"]
