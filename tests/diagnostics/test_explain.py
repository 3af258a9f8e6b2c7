"""model.explain: the course's hand calculations, the per-layer statistics, and no side effects."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers


def _course_net(hidden_activation=None):
    """Inputs (2, 3); hidden node 0 weights (1, 1), node 1 weights (-1, 1); output weights (2, -1)."""
    model = gn.Sequential([layers.Dense(2, activation=hidden_activation, use_bias=False, input_shape=(2,)),
                           layers.Dense(1, use_bias=False)], seed=0)
    model.set_weights([np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[2.0], [-1.0]])])
    return model


def test_forward_hand_calculation_without_activation(capsys):
    result = _course_net().explain(np.array([[2.0, 3.0]]))
    np.testing.assert_array_equal(result.outputs[0], [[5.0, 1.0]])
    np.testing.assert_array_equal(result.prediction, [[9.0]])
    text = capsys.readouterr().out
    assert "node 0 = 2 x 1 + 3 x 1 = 5" in text
    assert "node 1 = 2 x (-1) + 3 x 1 = 1" in text
    assert "node 0 = 5 x 2 + 1 x (-1) = 9" in text
    assert result.loss is None and "pass y to see" in text


def test_forward_hand_calculation_with_tanh_gives_1_238():
    result = _course_net("tanh").explain(np.array([[2.0, 3.0]]), print_fn=None)
    assert round(float(result.prediction[0, 0]), 3) == 1.238
    assert "node 0 = tanh(2 x 1 + 3 x 1) = tanh(5) = 0.9999" in str(result)
    assert "node 0 = 0.9999 x 2 + 0.7616 x (-1) = 1.238" in str(result)


def test_backward_hand_calculation_slope_and_sgd_step():
    model = gn.Sequential([layers.Dense(1, use_bias=False, input_shape=(1,))], seed=0)
    model.set_weights([np.array([[2.0]])])
    model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.01), loss="mse")
    result = model.explain(np.array([[3.0]]), np.array([[10.0]]), print_fn=None)
    assert float(result.prediction[0, 0]) == 6.0
    assert result.loss == 16.0
    assert float(result.gradients[0]["kernel"][0, 0]) == -24.0
    assert float(result.updated[0]["kernel"][0, 0]) == pytest.approx(2.24, rel=1e-7)
    text = str(result)
    assert "dL/d(node 0) = 2 x (6 - 10) = -8" in text
    assert "slope = 2 x (6 - 10) x 3 = -24" in text
    assert "step: 2 - 0.01 x (-24) = 2.24" in text
    # The preview changed nothing: weight, gradients and optimizer are as they were.
    np.testing.assert_array_equal(model.get_weights()[0], [[2.0]])
    np.testing.assert_array_equal(model.layers[0].grads["kernel"], [[0.0]])
    assert model.optimizer.iterations == 0


def test_parameter_count_arithmetic():
    model = gn.Sequential([layers.Dense(128, activation="relu", input_shape=(784,)),
                           layers.Dense(10, activation="softmax", use_bias=False)], seed=0)
    result = model.explain(np.zeros((2, 784)), print_fn=None)
    assert result.records[0]["param_arithmetic"] == "784 x 128 + 128 = 100,480"
    assert result.records[1]["param_arithmetic"] == "128 x 10 = 1,280"
    assert "parameters: 784 x 128 + 128 = 100,480" in str(result)


def test_statistics_match_direct_computation_and_the_optimizer_step():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 5)).astype("float32")
    y = rng.integers(0, 3, 16)
    model = gn.Sequential([layers.Dense(6, activation="relu", input_shape=(5,)),
                           layers.Dense(4, activation="sigmoid"),
                           layers.Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    result = model.explain(x, y, print_fn=None)

    h1 = np.maximum(x @ before[0] + before[1], 0)
    rec = result.records[0]
    assert rec["mean"] == pytest.approx(float(h1.mean()), rel=1e-6)
    assert rec["std"] == pytest.approx(float(h1.std()), rel=1e-5)
    assert rec["zero_share"] == float((h1 == 0).mean())
    assert rec["dead_units"] == int((h1 == 0).all(axis=0).sum())
    h2 = result.outputs[1]
    assert result.records[1]["saturated_share"] == float(((h2 < 0.01) | (h2 > 0.99)).mean())

    # The loss, gradients and update equal what one real training step does.
    assert result.loss == pytest.approx(model.evaluate(x, y), rel=1e-6)
    model.train_on_batch(x, y)
    after = model.get_weights()
    for i, layer in enumerate(model.layers):
        for j, key in enumerate(layer.params):
            np.testing.assert_allclose(result.gradients[i][key], layer.grads[key], rtol=1e-6)
            np.testing.assert_allclose(result.updated[i][key], after[2 * i + j], rtol=1e-6)
            ratio = np.linalg.norm(after[2 * i + j] - before[2 * i + j]) / np.linalg.norm(before[2 * i + j]) \
                if np.any(before[2 * i + j]) else None
            expected = result.records[i]["update_ratio"][key]
            assert (ratio is None and expected is None) or expected == pytest.approx(ratio, rel=1e-4)
        assert result.records[i]["grad_norm"]["kernel"] == pytest.approx(
            float(np.linalg.norm(layer.grads["kernel"])), rel=1e-5)


def test_dataframe_has_one_row_per_layer_with_flat_columns():
    model = gn.Sequential([layers.Dense(3, activation="tanh", input_shape=(2,)), layers.Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    frame = model.explain(np.ones((4, 2)), np.zeros(4), print_fn=None).to_dataframe()
    assert list(frame.index) == [layer.name for layer in model.layers]
    for column in ("formula", "param_arithmetic", "mean", "std", "saturated_share", "input_grad_norm",
                   "grad_norm_kernel", "update_ratio_kernel"):
        assert column in frame.columns
    assert frame.loc[model.layers[0].name, "formula"] == "y = tanh(x W + b)"


def test_formulas_are_whole_and_name_the_activation_and_the_inference_step():
    """The formula came from the first docstring line only: Conv2D's lost "y = act(z)" (so a
    ReLU never showed) and ended in a comma, BatchNormalization showed half of its training
    statistics (with ``axis`` markup), and Dropout its training mask, though explain runs the
    layers as predict does."""
    model = gn.Sequential([layers.Conv2D(2, 3, activation="relu", input_shape=(5, 5, 1)),
                           layers.BatchNormalization(), layers.Dropout(0.5), layers.Flatten(),
                           layers.Dense(2), layers.LayerNormalization()], seed=0)
    frame = model.explain(np.ones((2, 5, 5, 1)), print_fn=None).to_dataframe()
    conv, norm, dropout, _, _, layer_norm = frame["formula"]
    assert conv.startswith("z[n,i,j,f] = Σ_{a,b,c} xp[") and ", y = relu(z) (xp is x zero-padded" in conv
    assert norm == "y = γ (x - moving_mean) / √(moving_variance + ε) + β"
    assert dropout == "y = x (nothing is dropped outside training)"
    assert layer_norm.endswith("x̂ = (x - μ) / √(σ² + ε), y = γ x̂ + β")
    for text in frame["formula"]:
        assert "``" not in text and "backward" not in text and text[-1] not in ",;."
    linear = gn.Sequential([layers.Conv1D(2, 3, input_shape=(6, 1))], seed=0)
    assert linear.explain(np.ones((1, 6, 1)), print_fn=None).records[0]["formula"].endswith("+ b[f], y = z")


def test_explain_needs_a_loss_for_targets_and_accepts_one():
    model = gn.Sequential([layers.Dense(1, input_shape=(2,))], seed=0)
    with pytest.raises(ValueError, match="needs a loss"):
        model.explain(np.ones((1, 2)), np.ones(1), print_fn=None)
    result = model.explain(np.ones((1, 2)), np.ones(1), loss="mse", print_fn=None)
    assert result.updated is None and result.gradients is not None


def test_explain_checks_targets_like_fit():
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(2,))], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="y contains NaN"):
        model.explain(np.ones((2, 2)), np.array([1.0, np.nan]), print_fn=None)


def test_a_model_that_takes_raw_text_is_explained():
    """An Input of strings before a TextVectorization: the report quotes the texts and gives no mean
    of them; the layers after it get their statistics and gradients as usual."""
    texts = np.array(["the cat sat", "dogs are great"])
    vectorize = layers.TextVectorization(output_sequence_length=4)
    vectorize.adapt(texts)
    model = gn.Sequential([gn.Input(shape=(1,), dtype="string"), vectorize, layers.Embedding(10, 3),
                           layers.LSTM(2, name="rnn"), layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile("adam", "binary_crossentropy")
    printed = []
    explanation = model.explain(texts, np.array([1.0, 0.0]), print_fn=printed.append)
    assert "[['the cat sat'], ['dogs are great']]" in printed[0] and "output: strings" in printed[0]
    assert "mean" not in explanation.records[0] and explanation.records[2]["grad_norm"]["embeddings"] > 0
    assert explanation.steps["rnn"].first_last_ratio() > 0
