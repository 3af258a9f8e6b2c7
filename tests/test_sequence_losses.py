"""Losses and metrics over time steps: a time-step mask leaves the masked steps out (Keras 3: the
mean over the kept steps, Σ w m ℓ / Σ m), weights per step (N, T); against hand computations,
finite differences and PyTorch's ignore_index."""

import numpy as np
import pytest
from harness import RTOL, TORCH_ATOL, TORCH_RTOL, F, torch

import glassnet as gn
from glassnet import losses
from glassnet.gradcheck import compare_gradients, numeric_gradient

N, T, C = 4, 5, 3
RNG = np.random.default_rng(7)
LOGITS = RNG.standard_normal((N, T, C)) * 2
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=-1, keepdims=True)
LABELS = RNG.integers(0, C, (N, T))
ONE_HOT = np.eye(C)[LABELS]
BIN_TARGETS = (RNG.random((N, T, C)) > 0.5).astype(float)
SIGMOID = 1 / (1 + np.exp(-LOGITS))
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0], [1, 1, 1, 1, 0]], dtype=bool)
STEP_WEIGHTS = RNG.uniform(0.5, 2.0, (N, T))
PICK = np.take_along_axis(PROBS, LABELS[..., None], -1)[..., 0]  # p of the label, (N, T)

# (loss, y_true, y_pred, the per-step loss values written out by hand)
CASES = {
    "sparse_probs": (losses.SparseCategoricalCrossentropy(), LABELS, PROBS, -np.log(PICK)),
    "sparse_logits": (losses.SparseCategoricalCrossentropy(from_logits=True), LABELS, LOGITS, -np.log(PICK)),
    "categorical": (losses.CategoricalCrossentropy(), ONE_HOT, PROBS, -np.log(PICK)),
    "binary_logits": (losses.BinaryCrossentropy(from_logits=True), BIN_TARGETS, LOGITS,
                      -(BIN_TARGETS * np.log(SIGMOID) + (1 - BIN_TARGETS) * np.log(1 - SIGMOID)).mean(-1)),
    "mse": (losses.MeanSquaredError(), ONE_HOT, PROBS, ((PROBS - ONE_HOT) ** 2).mean(-1)),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "step_weights"])
def test_masked_loss_is_the_mean_over_the_kept_steps(case, weighted):
    loss, y_true, y_pred, per_step = CASES[case]
    w = STEP_WEIGHTS if weighted else None
    expected = (per_step * MASK * (1 if w is None else w)).sum() / MASK.sum()
    assert loss(y_true, y_pred, w, mask=MASK) == pytest.approx(expected, rel=1e-12)
    grad = loss.gradient(y_true, y_pred, w, mask=MASK)
    assert np.all(grad[~MASK] == 0), "a masked step must get no gradient"
    pred = y_pred.copy()
    numeric = numeric_gradient(lambda: loss(y_true, pred, w, mask=MASK), pred)
    assert compare_gradients("y_pred", grad, numeric, RTOL).passed
    value, fast = loss.value_and_gradient(y_true, y_pred, w, mask=MASK)
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(fast, grad, rtol=1e-12, atol=1e-15)


def test_a_batch_with_every_step_masked_adds_nothing():
    loss, y_true, y_pred, _ = CASES["sparse_logits"]
    nothing = np.zeros((N, T), dtype=bool)
    assert loss(y_true, y_pred, mask=nothing) == 0.0
    assert not loss.gradient(y_true, y_pred, mask=nothing).any()


def test_masked_sparse_loss_equals_torch_ignore_index():
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    z = torch.tensor(LOGITS, requires_grad=True)
    target = torch.tensor(np.where(MASK, LABELS, -100))  # padded steps ignored, as a mask does
    expected = F.cross_entropy(z.transpose(1, 2), target, ignore_index=-100)  # mean over kept steps
    expected.backward()
    value, grad = loss.value_and_gradient(LABELS, LOGITS, mask=MASK)
    np.testing.assert_allclose(value, expected.item(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(grad, z.grad.numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)


def test_step_weights_equal_torch_weighted_per_step_losses():
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    z = torch.tensor(LOGITS, requires_grad=True)
    per_step = F.cross_entropy(z.transpose(1, 2), torch.tensor(LABELS), reduction="none")
    expected = (per_step * torch.tensor(STEP_WEIGHTS)).mean()
    expected.backward()
    value, grad = loss.value_and_gradient(LABELS, LOGITS, STEP_WEIGHTS)
    np.testing.assert_allclose(value, expected.item(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(grad, z.grad.numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)


def test_a_mask_of_the_wrong_shape_is_refused():
    loss, y_true, y_pred, _ = CASES["sparse_probs"]
    with pytest.raises(ValueError, match=r"mask has shape \(4, 4\).*boolean \(N, T\)"):
        loss(y_true, y_pred, mask=MASK[:, :4])


def test_masked_metrics_count_the_kept_steps_only():
    hits = PROBS.argmax(-1) == LABELS
    accuracy = gn.metrics.SparseCategoricalAccuracy()
    accuracy.update_state(LABELS, PROBS, mask=MASK)
    assert accuracy.result() == pytest.approx(hits[MASK].mean(), rel=1e-12)
    weighted = gn.metrics.get("accuracy")
    weighted.update_state(LABELS, PROBS, STEP_WEIGHTS, mask=MASK)
    w = STEP_WEIGHTS * MASK
    assert weighted.result() == pytest.approx((hits * w).sum() / w.sum(), rel=1e-12)
    mse = gn.metrics.get("mse")
    mse.update_state(ONE_HOT, PROBS, mask=MASK)
    assert mse.result() == pytest.approx(((PROBS - ONE_HOT) ** 2).mean(-1)[MASK].mean(), rel=1e-12)
    positive, true = SIGMOID[MASK] > 0.5, BIN_TARGETS[MASK] > 0.5
    assert gn.metrics.Precision()(BIN_TARGETS, SIGMOID, mask=MASK) == pytest.approx(
        (positive & true).sum() / positive.sum(), rel=1e-12)


# -- in a model: Embedding(mask_zero=True) hands its mask through the recurrent layer to the loss --
V = 6
IDS = np.array([[3, 1, 4, 0, 0], [2, 5, 1, 2, 3], [4, 0, 0, 0, 0], [1, 1, 5, 2, 0]])  # 0 = padding
KEPT = IDS != 0


def _sequential(head):
    return gn.Sequential([gn.layers.Embedding(V, 4, mask_zero=True, input_shape=(T,)),
                          gn.layers.LSTM(5, return_sequences=True), head], seed=3)


def _graph(head):
    x = gn.Input(shape=(T,))
    h = gn.layers.GRU(5, return_sequences=True)(gn.layers.Embedding(V, 4, mask_zero=True)(x))
    return gn.Model(x, head(h), seed=3)


MODELS = {
    "sequential_dense": lambda: _sequential(gn.layers.Dense(C, activation="softmax")),
    "sequential_time_distributed": lambda: _sequential(
        gn.layers.TimeDistributed(gn.layers.Dense(C, activation="softmax"))),
    "graph_dense": lambda: _graph(gn.layers.Dense(C, activation="softmax")),
}


@pytest.mark.parametrize("make", MODELS)
def test_labels_at_padded_steps_do_not_change_training(make):
    other = np.where(KEPT, LABELS, (LABELS + 1) % C)  # different labels on the padding only
    weights = []
    for y in (LABELS, other):
        model = MODELS[make]()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(IDS, y, epochs=2, batch_size=2, verbose=0)
        weights.append((model.get_weights(), history.history))
    for a, b in zip(weights[0][0], weights[1][0]):
        np.testing.assert_array_equal(a, b)
    assert weights[0][1] == weights[1][1]


@pytest.mark.parametrize("make", MODELS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "step_weights"])
def test_evaluate_averages_loss_and_accuracy_over_the_kept_steps(make, weighted):
    model = MODELS[make]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    p = model.predict(IDS).astype(np.float64)
    w = STEP_WEIGHTS if weighted else np.ones((N, T))
    nll = -np.log(np.take_along_axis(p, LABELS[..., None], -1)[..., 0])
    hits = p.argmax(-1) == LABELS
    result = model.evaluate(IDS, LABELS, sample_weight=STEP_WEIGHTS if weighted else None, return_dict=True)
    assert result["loss"] == pytest.approx((nll * w * KEPT).sum() / KEPT.sum(), rel=1e-5)
    assert result["accuracy"] == pytest.approx((hits * w * KEPT).sum() / (w * KEPT).sum(), rel=1e-12)


def test_class_weight_weighs_each_time_step_by_its_label():
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    model = MODELS["sequential_dense"]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(IDS, LABELS, class_weight=class_weight, epochs=1, verbose=0)
    by_hand = MODELS["sequential_dense"]()
    by_hand.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    by_hand.fit(IDS, LABELS, sample_weight=np.vectorize(class_weight.get)(LABELS), epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), by_hand.get_weights()):
        np.testing.assert_array_equal(a, b)



@pytest.mark.parametrize("loss, classes, targets", [
    ("categorical_crossentropy", C, lambda labels: np.eye(C)[labels]),  # one-hot per step (N, T, C)
    ("binary_crossentropy", 1, lambda labels: (labels > 0).astype(float)),  # 0/1 per step (N, T)
])
def test_class_weight_reads_the_class_of_each_step_of_float_targets(loss, classes, targets):
    """One-hot (N, T, C) and 0/1 (N, T) targets: the class is on the last axis. argmax over axis 1
    took the time step for the class ("class_weight has no entry for class(es) [3, 4]")."""
    labels = np.where(IDS > 0, LABELS, 0)
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5} if classes == C else {0: 1.0, 1: 3.0}
    per_step = np.vectorize(class_weight.get)(labels if classes == C else (labels > 0).astype(int))
    trained = []
    for weights in ({"class_weight": class_weight}, {"sample_weight": per_step}):
        model = _sequential(gn.layers.Dense(classes, activation="softmax" if classes == C else "sigmoid"))
        model.compile(optimizer="adam", loss=loss)
        model.fit(IDS, targets(labels), epochs=1, verbose=0, **weights)
        trained.append(model.get_weights())
    for a, b in zip(*trained):
        np.testing.assert_array_equal(a, b)

def test_validation_split_does_not_stratify_on_labels_per_step(capsys):
    ids = np.tile(IDS, (3, 1))
    model = MODELS["sequential_dense"]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(ids, np.tile(LABELS, (3, 1)), validation_split=0.25, epochs=1, verbose=1)
    assert "val_loss" in history.history
    assert "samples [" not in capsys.readouterr().out  # no per-class balance of a made-up class


@pytest.mark.parametrize("metric", [gn.metrics.sparse_categorical_accuracy, gn.metrics.accuracy,
                                    gn.losses.sparse_categorical_crossentropy], ids=lambda f: f.__name__)
def test_function_metrics_leave_the_padded_steps_out(metric):
    model = MODELS["sequential_dense"]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[metric])
    p = model.predict(IDS).astype(np.float64)
    per_step = metric(LABELS, p)
    assert per_step.shape == (N, T)  # one value per step, as Keras' functions give
    result = model.evaluate(IDS, LABELS, return_dict=True)
    assert result[metric.__name__] == pytest.approx(per_step[KEPT].mean(), rel=1e-5)



@pytest.mark.parametrize("loss, targets", [
    ("mse", lambda labels: labels[..., None].astype("float32")),  # (N, T, 1) for (N, T, 1) outputs
    ("mse", lambda labels: labels.astype("float32")),  # (N, T): the trailing 1 is added
    ("binary_crossentropy", lambda labels: labels),
    ("sparse_categorical_crossentropy", lambda labels: labels),
    ("sparse_categorical_crossentropy", lambda labels: labels[..., None]),
])
def test_a_model_for_sequences_of_any_length_takes_per_step_targets(loss, targets):
    """gn.Input((None, D)) -> ... -> per-step outputs (None, None, C): the target check compared the
    batch's T with None and refused every y ('y has shape (8, 5, 1) but the model outputs (None,
    None, 1)'), so such a model could be neither fit nor evaluated."""
    classes = 2 if loss.startswith("sparse") else 1
    activation = "softmax" if classes == 2 else "sigmoid"
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((8, 5, 2)).astype("float32"), rng.integers(0, 2, (8, 5))
    y_true = labels if classes == 2 else labels[..., None].astype("float32")  # as the loss takes them
    inputs = gn.Input((None, 2))
    seq = gn.layers.GRU(3, return_sequences=True)(inputs)
    graph = gn.Model(inputs, gn.layers.TimeDistributed(gn.layers.Dense(classes, activation=activation))(seq))
    chain = gn.Sequential([gn.Input((None, 2)), gn.layers.LSTM(3, return_sequences=True),
                           gn.layers.Dense(classes, activation=activation)])
    for model in (graph, chain):
        model.compile("adam", loss)
        assert np.isfinite(model.fit(x, targets(labels), epochs=1, batch_size=4, verbose=0).history["loss"][0])
        expected = losses.get(loss)(y_true, model.predict(x))
        np.testing.assert_allclose(model.evaluate(x, targets(labels), verbose=0), expected, rtol=1e-5)


def test_a_model_for_sequences_of_any_length_still_refuses_targets_of_the_wrong_width():
    model = gn.Sequential([gn.Input((None, 2)), gn.layers.LSTM(3, return_sequences=True), gn.layers.Dense(1)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"y has shape \(8, 5, 2\) but the model outputs \(None, None, 1\)"):
        model.fit(np.zeros((8, 5, 2)), np.zeros((8, 5, 2)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"y has shape \(8, 5, 1, 1\) but the model outputs \(None, None, 1\)"):
        model.fit(np.zeros((8, 5, 2)), np.zeros((8, 5, 1, 1)), epochs=1, verbose=0)


def test_to_categorical_one_hots_per_step_labels_as_keras_does():
    """keras.utils.to_categorical takes labels of any shape (a trailing 1 dropped): (N, T) -> (N, T, C)
    for a sequence tagger trained with categorical_crossentropy. It refused anything but (N,)."""
    np.testing.assert_array_equal(gn.utils.to_categorical(LABELS, C), ONE_HOT)
    np.testing.assert_array_equal(gn.utils.to_categorical(LABELS[..., None], C), ONE_HOT)
    np.testing.assert_array_equal(gn.utils.to_categorical([[0], [2]], 3), [[1, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="single value"):
        gn.utils.to_categorical(2, 3)


@pytest.mark.parametrize("loss, y", [
    ("mse", np.ones((4, 1))),
    ("categorical_crossentropy", np.eye(4)),
    ("sparse_categorical_crossentropy", np.arange(4)),
])
def test_one_target_per_sequence_for_per_step_outputs_names_return_sequences(loss, y):
    """LSTM(return_sequences=True) -> Dense with one target per sequence: the error said only that
    the shapes differ; the usual cause is return_sequences=True left on the last recurrent layer."""
    units = 1 if loss == "mse" else 4
    model = gn.Sequential([gn.Input((5, 2)), gn.layers.LSTM(3, return_sequences=True), gn.layers.Dense(units)])
    model.compile("adam", loss)
    with pytest.raises(ValueError, match="one row per time step.*drop return_sequences=True on the last recurrent"):
        model.fit(np.ones((4, 5, 2)), y, epochs=1, verbose=0)
