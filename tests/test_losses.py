"""Losses: values and gradients against finite differences, PyTorch and Keras' documented values;
target validation."""

import re

import numpy as np
import pytest
from harness import F, check_loss, torch

import glassnet as gn
from glassnet import losses

N, C = 6, 4
RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((N, C)) * 2
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
LABELS = np.array([0, 3, 1, 2, 3, 0])
ONE_HOT = np.eye(C)[LABELS]
SOFT = RNG.dirichlet(np.ones(C), size=N)  # soft targets: rows of probabilities
WEIGHTS = np.array([1.0, 0.5, 2.0, 0.0, 1.5, 3.0])
BIN_LOGITS = RNG.standard_normal((N, 3)) * 2
BIN_PROBS = 1 / (1 + np.exp(-BIN_LOGITS))
BIN_TARGETS = (RNG.random((N, 3)) > 0.5).astype(float)
REG_PRED = RNG.standard_normal((N, 3))
REG_TRUE = RNG.standard_normal((N, 3))
COUNTS = RNG.poisson(3.0, size=(N, 3)).astype(float)  # Poisson targets and the rates predicted for them
RATES = RNG.uniform(0.5, 6.0, size=(N, 3))


# Torch oracles: each returns the per-sample losses (N,); names are looked up on call, so
# this module imports without torch (the comparisons then skip).
def _mean_of(name, **kwargs):
    return lambda t, p: getattr(F, name)(p, t, reduction="none", **kwargs).flatten(1).mean(1)


def _cross_entropy(t, p):
    return F.cross_entropy(p, t, reduction="none")


def _cross_entropy_3d(t, p):  # torch wants classes on axis 1: (N, C, T)
    return F.cross_entropy(p.transpose(1, 2), t.transpose(1, 2), reduction="none").mean(-1)


def _nll_of_probs(t, p):
    labels = t.reshape(-1) if t.dtype == torch.int64 else t.argmax(-1)
    return F.nll_loss(p.log(), labels, reduction="none")


def _cce_probs(t, p):
    # torch has no cross-entropy on probabilities; -Σ t log p is its definition.
    per_position = -(t * p.log()).sum(-1)
    return per_position.flatten(1).mean(1) if per_position.ndim > 1 else per_position


CCE, SCCE, BCE = losses.CategoricalCrossentropy, losses.SparseCategoricalCrossentropy, losses.BinaryCrossentropy
SEQ = (3, 2)  # sequence-shaped outputs (N, T, ...): the losses average over T as well

CASES = {
    "cce_probs_onehot": (CCE(), ONE_HOT, PROBS, _nll_of_probs),
    "cce_probs_soft": (CCE(), SOFT, PROBS, _cce_probs),
    "cce_probs_3d": (CCE(), SOFT.reshape(*SEQ, C), PROBS.reshape(*SEQ, C), _cce_probs),
    "cce_logits_onehot": (CCE(from_logits=True), ONE_HOT, LOGITS, _cross_entropy),
    "cce_logits_soft": (CCE(from_logits=True), SOFT, LOGITS, _cross_entropy),
    "cce_logits_3d": (CCE(from_logits=True), ONE_HOT.reshape(*SEQ, C), LOGITS.reshape(*SEQ, C), _cross_entropy_3d),
    "scce_probs": (SCCE(), LABELS, PROBS, _nll_of_probs),
    "scce_probs_column": (SCCE(), LABELS[:, None], PROBS, _nll_of_probs),
    "scce_logits": (SCCE(from_logits=True), LABELS, LOGITS, _cross_entropy),
    "bce_probs": (BCE(), BIN_TARGETS, BIN_PROBS, _mean_of("binary_cross_entropy")),
    "bce_probs_one_output": (BCE(), BIN_TARGETS[:, :1], BIN_PROBS[:, :1], _mean_of("binary_cross_entropy")),
    "bce_logits": (BCE(from_logits=True), BIN_TARGETS, BIN_LOGITS, _mean_of("binary_cross_entropy_with_logits")),
    "bce_logits_soft_targets": (BCE(from_logits=True), BIN_PROBS[::-1].copy(), BIN_LOGITS,
                                _mean_of("binary_cross_entropy_with_logits")),
    "bce_logits_3d": (BCE(from_logits=True), BIN_TARGETS.reshape(*SEQ, 3), BIN_LOGITS.reshape(*SEQ, 3),
                      _mean_of("binary_cross_entropy_with_logits")),
    "mse": (losses.MeanSquaredError(), REG_TRUE, REG_PRED, _mean_of("mse_loss")),
    "mse_one_output": (losses.MeanSquaredError(), REG_TRUE[:, :1], REG_PRED[:, :1], _mean_of("mse_loss")),
    "mse_3d": (losses.MeanSquaredError(), REG_TRUE.reshape(N, 3, 1) * [1, 2], REG_PRED.reshape(N, 3, 1) * [2, 1],
               _mean_of("mse_loss")),
    "mae": (losses.MeanAbsoluteError(), REG_TRUE, REG_PRED, _mean_of("l1_loss")),
    "huber": (losses.Huber(), REG_TRUE, REG_PRED, _mean_of("huber_loss")),
    "huber_delta": (losses.Huber(delta=0.5), REG_TRUE, REG_PRED, _mean_of("huber_loss", delta=0.5)),
    # Keras' formulas written out in torch (autograd differentiates them, clips included)
    "log_cosh": (losses.LogCosh(), REG_TRUE, REG_PRED, lambda t, p: torch.log(torch.cosh(p - t)).mean(-1)),
    "poisson": (losses.Poisson(), COUNTS, RATES, _mean_of("poisson_nll_loss", log_input=False, eps=1e-7)),
    "kl_divergence": (losses.KLDivergence(), SOFT, PROBS, lambda t, p: (
        t.clamp(1e-7, 1) * torch.log(t.clamp(1e-7, 1) / p.clamp(1e-7, 1))).sum(-1)),
    "msle": (losses.MeanSquaredLogarithmicError(), np.abs(REG_TRUE) * 5, np.abs(REG_PRED) * 5, lambda t, p: (
        torch.log1p(p.clamp(min=1e-7)) - torch.log1p(t.clamp(min=1e-7))).square().mean(-1)),
}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("case", CASES)
def test_loss_value_and_gradient(case, weighted):
    loss, y_true, y_pred, torch_fn = CASES[case]
    weights = WEIGHTS[:y_pred.shape[0]] if weighted else None
    check_loss(loss, y_true, y_pred, torch_fn, sample_weight=weights)


# Values from Keras' documentation of each loss.
@pytest.mark.parametrize("loss, y_true, y_pred, expected", [
    (losses.CategoricalCrossentropy(), [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.177),
    (losses.SparseCategoricalCrossentropy(), [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.177),
    (losses.BinaryCrossentropy(), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 0.815),
    (losses.BinaryCrossentropy(from_logits=True), [[0, 1, 0, 0]], [[-18.6, 0.51, 2.94, -12.8]], 0.865),
    (losses.MeanSquaredError(), [[0, 1], [0, 0]], [[1, 1], [1, 0]], 0.5),
    (losses.MeanAbsoluteError(), [[0, 1], [0, 0]], [[1, 1], [1, 0]], 0.5),
    (losses.Huber(), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 0.155),
    (losses.LogCosh(), [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.108),
    (losses.Poisson(), [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.5),
    (losses.KLDivergence(), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], 0.458),
    (losses.MeanSquaredLogarithmicError(), [[0, 1], [0, 0]], [[1, 1], [1, 0]], 0.240),
])
def test_loss_matches_keras_documented_value(loss, y_true, y_pred, expected):
    assert loss(np.array(y_true), np.array(y_pred, dtype=float)) == pytest.approx(expected, abs=1e-3)


def test_sample_weight_scales_each_sample_and_divides_by_batch_size():
    loss = losses.MeanSquaredError()
    per_sample = np.square(REG_PRED - REG_TRUE).mean(axis=1)
    assert loss(REG_TRUE, REG_PRED, WEIGHTS) == pytest.approx((per_sample * WEIGHTS).sum() / N, rel=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_column_sample_weight_equals_flat_sample_weight(case):
    """(N, 1) weights, as a column sliced from a table gives them, weigh each sample once.

    Broadcast against the (N,) per-sample losses they would make an (N, N) table of every pair.
    """
    loss, y_true, y_pred, _ = CASES[case]
    n = y_pred.shape[0]
    flat, column = WEIGHTS[:n], WEIGHTS[:n, None]
    per_sample = np.array([loss(y_true[i:i + 1], y_pred[i:i + 1]) for i in range(n)])  # a batch of one is ℓᵢ
    want = float((per_sample * flat).sum() / n)
    assert loss(y_true, y_pred, column) == pytest.approx(want, rel=1e-12)
    assert loss(y_true, y_pred, flat) == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(loss.gradient(y_true, y_pred.copy(), column),
                               loss.gradient(y_true, y_pred.copy(), flat), rtol=1e-12, atol=1e-15)
    value, grad = loss.value_and_gradient(y_true, y_pred.copy(), column)
    assert value == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(grad, loss.gradient(y_true, y_pred.copy(), flat), rtol=1e-12, atol=1e-15)


def test_column_sample_weight_on_the_reported_example():
    y_true, y_pred, w = np.array([[0.0], [1.0], [2.0]]), np.array([[0.5], [1.0], [4.0]]), np.array([1.0, 0.0, 2.0])
    assert losses.MeanSquaredError()(y_true, y_pred, w[:, None]) == pytest.approx((0.25 + 2 * 4) / 3)
    labels, probs = np.array([0, 1, 2]), np.array([[0.6, 0.2, 0.2], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    want = -(np.log(0.6) + 2 * np.log(0.4)) / 3
    assert losses.SparseCategoricalCrossentropy()(labels, probs, w[:, None]) == pytest.approx(want)


# (N, 7) fits neither one weight per sample nor one per time step ((N, T) is valid: T = 2 here).
WRONG_WEIGHT_SHAPES = {"N-1": lambda n: (n - 1,), "(N,7)": lambda n: (n, 7)}


@pytest.mark.parametrize("shape", WRONG_WEIGHT_SHAPES)
@pytest.mark.parametrize("case", CASES)
def test_wrong_size_sample_weight_is_rejected_by_value_and_gradient(case, shape):
    loss, y_true, y_pred, _ = CASES[case]
    n = y_pred.shape[0]
    weights = np.ones(WRONG_WEIGHT_SHAPES[shape](n))
    match = rf"{loss.name}: sample_weight has shape {re.escape(str(weights.shape))}.*N = {n}"
    for compute in (loss, loss.gradient, loss.value_and_gradient):
        with pytest.raises(ValueError, match=match):
            compute(y_true, y_pred.copy(), weights)


@pytest.mark.parametrize("weight", [2.0, np.array([2.0])], ids=["scalar", "(1,)"])
@pytest.mark.parametrize("case", CASES)
def test_one_number_as_sample_weight_scales_the_whole_batch(case, weight):
    loss, y_true, y_pred, _ = CASES[case]
    assert loss(y_true, y_pred, weight) == pytest.approx(2 * loss(y_true, y_pred), rel=1e-12)  # Keras
    np.testing.assert_allclose(loss.gradient(y_true, y_pred.copy(), weight),
                               2 * loss.gradient(y_true, y_pred.copy()), rtol=1e-12)


@pytest.mark.parametrize("loss", [losses.CategoricalCrossentropy(from_logits=True), losses.SparseCategoricalCrossentropy(from_logits=True)])
def test_crossentropy_from_logits_is_finite_for_huge_logits(loss):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]])
    y = np.array([1, 1]) if "Sparse" in type(loss).__name__ else np.eye(3)[[1, 1]]
    value, grad = loss.value_and_gradient(y, z)
    assert value == pytest.approx(1000.0)  # only the first sample is wrong, by 2000 nats
    np.testing.assert_allclose(grad, [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-12)


def test_binary_crossentropy_from_logits_is_finite_for_huge_logits():
    loss = losses.BinaryCrossentropy(from_logits=True)
    value, grad = loss.value_and_gradient(np.array([[0.0], [1.0]]), np.array([[1000.0], [1000.0]]))
    assert value == pytest.approx(500.0)
    np.testing.assert_allclose(grad, [[0.5], [0.0]])


@pytest.mark.parametrize("loss", [losses.CategoricalCrossentropy(), losses.BinaryCrossentropy()])
def test_crossentropy_on_probabilities_clips_instead_of_returning_inf(loss):
    p = np.array([[0.0, 1.0]])
    value, grad = loss.value_and_gradient(np.array([[1.0, 0.0]]), p)
    assert np.isfinite(value) and value > 10 and np.all(np.isfinite(grad))


@pytest.mark.parametrize("name, cls", [
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("binary_crossentropy", losses.BinaryCrossentropy),
    ("mse", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError),
    ("mae", losses.MeanAbsoluteError), ("mean_absolute_error", losses.MeanAbsoluteError),
    ("huber", losses.Huber), ("log_cosh", losses.LogCosh), ("logcosh", losses.LogCosh), ("poisson", losses.Poisson),
    ("kl_divergence", losses.KLDivergence), ("kld", losses.KLDivergence), ("msle", losses.MeanSquaredLogarithmicError),
])
def test_loss_string_identifiers(name, cls):
    assert type(losses.get(name)) is cls


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="Valid loss identifiers: .*categorical_crossentropy.*mse"):
        losses.get("cross_entropy")


def test_plain_function_losses_are_refused():
    with pytest.raises(TypeError, match="plain functions have no gradient"):
        losses.get(lambda y, p: 0.0)


@pytest.mark.parametrize("delta", [0, -1.0])
def test_huber_rejects_non_positive_delta(delta):
    with pytest.raises(ValueError, match="delta must be > 0"):
        losses.Huber(delta=delta)


# -- validate_targets ----------------------------------------------------------------------------
@pytest.mark.parametrize("loss, y, output_shape, match", [
    (losses.SparseCategoricalCrossentropy(), [0, 1, 3], (None, 3), r"Labels out of range.*\[0, 2\]"),
    (losses.SparseCategoricalCrossentropy(), [0, -1, 2], (None, 3), "Labels out of range"),
    (losses.SparseCategoricalCrossentropy(), [0.5, 1.0], (None, 3), "whole numbers"),
    (losses.SparseCategoricalCrossentropy(), np.eye(3), (None, 3), "looks one-hot.*categorical_crossentropy"),
    (losses.SparseCategoricalCrossentropy(), np.zeros((4, 2)), (None, 3), r"shape \(N,\)"),
    (losses.CategoricalCrossentropy(), [0, 1, 2], (None, 3), "one-hot.*to_categorical.*sparse_categorical_crossentropy"),
    (losses.CategoricalCrossentropy(), [[0], [1], [2]], (None, 3), "one-hot.*to_categorical"),
    (losses.CategoricalCrossentropy(), np.eye(4), (None, 3), r"shape \(4, 4\).*\(None, 3\)"),
    (losses.CategoricalCrossentropy(), [[2.0, -1.0, 0.0]], (None, 3), r"probabilities in \[0, 1\]"),
    (losses.BinaryCrossentropy(), [0, 1, 2], (None, 1), r"must be in \[0, 1\]"),
    (losses.BinaryCrossentropy(), [0, 1, 1], (None, 2), r"shape \(3,\).*\(None, 2\)"),
    (losses.MeanSquaredError(), [0.1, 0.2], (None, 2), r"shape \(2,\).*\(None, 2\)"),
    (losses.MeanSquaredError(), np.zeros((2, 1)), (None, 2), r"shape \(2, 1\)"),
])
def test_validate_targets_rejects_with_a_clear_message(loss, y, output_shape, match):
    with pytest.raises(ValueError, match=match):
        loss.validate_targets(np.asarray(y), output_shape)


@pytest.mark.parametrize("loss", [losses.MeanSquaredError(), losses.BinaryCrossentropy(), losses.Huber()])
def test_flat_targets_meet_single_output_as_a_column(loss):
    y = loss.validate_targets(np.array([0.0, 1.0, 1.0]), (None, 1))
    assert y.shape == (3, 1)


def test_sparse_labels_are_accepted_as_n_or_n_by_1_and_become_integers():
    loss = losses.SparseCategoricalCrossentropy()
    for y in ([2, 0, 1], [[2], [0], [1]], [2.0, 0.0, 1.0]):
        out = loss.validate_targets(np.asarray(y), (None, 3))
        assert out.dtype.kind == "i"
        np.testing.assert_array_equal(out, [2, 0, 1])


def test_model_never_broadcasts_flat_targets_against_a_column():
    # (N,) - (N, 1) would broadcast to (N, N) and silently give a wrong, larger loss.
    x = np.random.default_rng(0).standard_normal((5, 3))
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(3,), dtype="float64")], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    y = np.arange(5.0)
    expected = np.mean((model.predict(x)[:, 0] - y) ** 2)
    assert model.evaluate(x, y) == pytest.approx(expected, rel=1e-12)
    assert model.evaluate(x, y[:, None]) == pytest.approx(expected, rel=1e-12)


def test_model_fit_reports_labels_out_of_range():
    model = gn.Sequential([gn.layers.Dense(3, activation="softmax", input_shape=(2,))], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="y: Labels out of range.*3 units"):
        model.fit(np.zeros((4, 2)), [0, 1, 2, 3], verbose=0)


# Found while writing examples/14_austen_char_lm.py (issue 15, "losses and metrics over time steps"):
# Keras takes one integer label per step, (N, T), for a sequence output (N, T, C), so a character
# model need not one-hot its targets (V times the memory).
def test_sparse_labels_per_time_step_equal_one_hot_targets():
    probs, labels, one_hot = PROBS.reshape(*SEQ, C), LABELS.reshape(SEQ), ONE_HOT.reshape(*SEQ, C)
    assert SCCE()(labels, probs) == pytest.approx(CCE()(one_hot, probs), rel=1e-12)
    np.testing.assert_allclose(SCCE().gradient(labels, probs), CCE().gradient(one_hot, probs), rtol=1e-12)
    model = gn.Sequential([gn.layers.Embedding(C, 3, input_shape=(SEQ[1],)),
                           gn.layers.GRU(4, return_sequences=True),
                           gn.layers.Dense(C, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(labels, labels, epochs=1, verbose=0)  # (N, T) ids in, (N, T) labels out
