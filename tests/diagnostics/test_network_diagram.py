"""draw_network: a small network drawn with its node values and edge weights."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import layers  # noqa: E402
from glassnet.diagnostics import draw_network  # noqa: E402
from glassnet.diagnostics.explain import num  # noqa: E402


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_nodes_show_values_and_edges_show_weights_and_slopes():
    model = gn.Sequential([layers.Dense(2, activation="tanh", use_bias=False, input_shape=(2,)),
                           layers.Dense(1, use_bias=False)], seed=0)
    model.set_weights([np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[2.0], [-1.0]])])
    model.compile(optimizer="sgd", loss="mse")
    explanation = model.explain(np.array([[2.0, 3.0]]), np.array([[1.0]]), print_fn=None)
    ax = explanation.plot()
    texts = _texts(ax)
    assert any(t.startswith("0.9999") for t in texts)  # hidden node tanh(5)
    assert any(t.startswith("1.238") for t in texts)  # the prediction
    slope = explanation.gradients[1]["kernel"][0, 0]
    assert f"w 2\n∂ {num(slope)}" in texts
    assert sum(t.startswith("w ") for t in texts) == 6  # 4 + 2 edges, each labelled
    matplotlib.pyplot.close(ax.figure)


def test_a_model_and_data_can_be_drawn_directly_and_wide_layers_are_refused():
    model = gn.Sequential([layers.Dense(3, activation="relu", input_shape=(2,)), layers.Activation("tanh"),
                           layers.Dense(2, activation="softmax")], seed=0)
    ax = draw_network(model, np.array([[1.0, 2.0]]))
    assert "tanh" in _texts(ax)  # the elementwise layer labels its one-to-one edges
    matplotlib.pyplot.close(ax.figure)
    wide = gn.Sequential([layers.Dense(50, input_shape=(2,))], seed=0)
    with pytest.raises(ValueError, match="small networks"):
        draw_network(wide, np.ones((1, 2)))


def test_a_model_reading_raw_text_is_refused_by_name():
    """The strings have no node values nor slopes to draw: a named error, not a TypeError from
    the missing input gradient."""
    vectorize = layers.TextVectorization(output_mode="multi_hot", vocabulary=["cat", "dog"])
    model = gn.Sequential([gn.Input(shape=(1,), dtype="string"), vectorize, layers.Dense(1, activation="sigmoid")],
                          seed=0)
    model.compile("sgd", "binary_crossentropy")
    explanation = model.explain(np.array([["a cat"]]), np.array([1.0]), print_fn=None)
    with pytest.raises(ValueError, match="reads raw text.*statistics"):
        explanation.plot()


def test_a_text_model_taking_one_string_per_sample_is_refused_as_text_and_pointed_to_plot_steps():
    """Keras' text models take (N,) strings, not (N, 1): the text refusal must come before the
    'flat inputs' one, which named an empty shape (), and a recurrent model is sent to plot_steps."""
    vectorize = layers.TextVectorization(output_sequence_length=4, vocabulary=["cat", "dog"])
    model = gn.Sequential([vectorize, layers.Embedding(4, 2, mask_zero=True), layers.LSTM(2),
                           layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy")
    explanation = model.explain(np.array(["a cat", "dog dog"]), np.array([1.0, 0.0]), print_fn=None)
    with pytest.raises(ValueError, match=r"reads raw text.*statistics.*plot_steps\(\)"):
        explanation.plot()
    ax = explanation.plot_steps()  # the picture a recurrent model has
    matplotlib.pyplot.close(ax.figure)


def test_a_sequence_layer_is_refused_as_not_flat_not_as_too_wide():
    """An Embedding's (T, D) output of 5 x 3 values is not 'more than 12 units': the refusal says
    what is wrong with it (no single row of units) and where the recurrent picture is."""
    model = gn.Sequential([layers.Embedding(10, 3), layers.SimpleRNN(2), layers.Dense(1)], seed=0)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"flat layers.*'?embedding\w*'? has output shape \(5, 3\).*plot_steps"):
        draw_network(model, np.array([[4, 7, 1, 0, 0]]), np.array([[1.0]]))
