"""explain and Diagnostics step by step through recurrent layers: the values agree with the layer's
own forward, the gradient per step with finite differences, and on the same long-memory data the
SimpleRNN's gradient vanishes through time where the LSTM's does not."""

import matplotlib
import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.diagnostics import recurrent_steps

matplotlib.use("Agg")

T = 40


def _long_memory(n, seed=0):
    """The label is the sign of the first step; 39 steps of noise follow (std 2, enough to drive
    a tanh into saturation) before the model answers."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype("float32")
    x = rng.normal(0.0, 2.0, (n, T, 8)).astype("float32")
    x[:, 0, :] = 2.0 * (2.0 * y[:, None] - 1.0)
    return x, y


X, Y = _long_memory(512)


def _classifier(cell):
    model = gn.Sequential([cell(16, input_shape=(T, 8), name="rnn"), layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="binary_crossentropy")
    return model


def test_simple_rnn_gradient_vanishes_through_time_where_the_lstm_keeps_it():
    ratios = {}
    for cell in (layers.SimpleRNN, layers.LSTM):
        e = _classifier(cell).explain(X[:128], Y[:128], print_fn=None)
        steps = e.steps["rnn"]
        norms = steps.grad_norms()["state"]
        assert norms.shape == (T,) and np.all(norms > 0)
        ratios[cell.__name__] = steps.first_last_ratio()
        said = "has vanished through time" in str(e)
        assert said == (cell is layers.SimpleRNN)
    # Figures on this batch: SimpleRNN about 1e-11, LSTM about 1e-5.
    assert ratios["SimpleRNN"] < 1e-3 * ratios["LSTM"]


def test_diagnostics_names_vanishing_gradients_through_time_for_the_simple_rnn_only(capsys):
    kinds = {}
    for cell in (layers.SimpleRNN, layers.LSTM):
        model = _classifier(cell)
        model.fit(X, Y, epochs=3, batch_size=32, verbose=0, diagnose=True)
        kinds[cell.__name__] = model.diagnostics.kinds
        assert model.layers[0].trace is None  # recording stops with training
        ratios = model.diagnostics.to_dataframe()["time_ratio/rnn"]
        assert len(ratios) == 3 and ratios.notna().all()
        if cell is layers.SimpleRNN:
            finding = model.diagnostics.findings[model.diagnostics.kinds.index("vanishing_gradients_through_time")]
            assert finding.epoch == 0 and finding.evidence["time_ratio"]["rnn"] < 1e-6
            assert finding.evidence["layer_types"] == {"rnn": "SimpleRNN"} and finding.evidence["steps"] == {"rnn": T}
        else:
            assert ratios.min() > 1e-6
    assert "vanishing_gradients_through_time" in kinds["SimpleRNN"]
    assert "vanishing_gradients_through_time" not in kinds["LSTM"]
    out = capsys.readouterr().out
    assert out.count("vanishing gradients through time") == 1 and "instead of SimpleRNN" in out
    assert "vanishing_gradients_through_time" in gn.diagnostics.Diagnostics.KINDS


@pytest.mark.parametrize("cell", [layers.SimpleRNN, layers.LSTM, layers.GRU])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_step_values_agree_with_the_layers_forward(cell, go_backwards):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 6, 2))
    rnn = cell(4, go_backwards=go_backwards, bias_initializer="random_normal", dtype="float64")
    model = gn.Sequential([rnn, layers.Dense(1, dtype="float64")], seed=0)
    model.build((6, 2))
    e = model.explain(x, print_fn=None)
    steps = e.steps[rnn.name]
    assert rnn.trace is None and steps.state_grads is None  # no targets: no gradients
    # processing order: step k read time step order[k]
    assert list(steps.order) == (list(range(5, -1, -1)) if go_backwards else list(range(6)))
    twin = cell(4, go_backwards=go_backwards, return_sequences=True, return_state=True, dtype="float64")
    twin.build((None, 6, 2))
    twin.set_weights(rnn.get_weights())
    y, *final = twin(x)
    np.testing.assert_allclose(steps.values["h"], y, rtol=1e-12, atol=1e-14)
    for name, state in zip(rnn.state_names, final):
        np.testing.assert_allclose(steps.values[name][:, -1], state, rtol=1e-12, atol=1e-14)
    # one gate written out by hand, at step 2 (input x at time order[2], state after step 1)
    W, U, b = (rnn.params[k] for k in ("kernel", "recurrent_kernel", "bias"))
    x_t, h_prev = x[:, steps.order[2]], steps.values["h"][:, 1]
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    u = 4
    if cell is layers.SimpleRNN:
        a = x_t @ W + h_prev @ U + b
        np.testing.assert_allclose(steps.values["a"][:, 2], a, rtol=1e-12)
        np.testing.assert_allclose(np.tanh(steps.values["a"]), steps.values["h"], rtol=1e-12, atol=1e-14)
    elif cell is layers.LSTM:
        f = sigmoid((x_t @ W + h_prev @ U + b)[:, u:2 * u])
        np.testing.assert_allclose(steps.values["f"][:, 2], f, rtol=1e-12)
    else:
        r = sigmoid((x_t @ W + b[0] + h_prev @ U + b[1])[:, u:2 * u])
        np.testing.assert_allclose(steps.values["r"][:, 2], r, rtol=1e-12)


@pytest.mark.parametrize("cell,go_backwards", [(layers.SimpleRNN, False), (layers.LSTM, True), (layers.GRU, False)])
def test_gradient_per_step_agrees_with_finite_differences(cell, go_backwards):
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(4, 7, 3)), rng.normal(size=(4, 1))
    rnn = cell(5, go_backwards=go_backwards, dtype="float64")
    # rnn in the middle, where a model's backward computes its input gradient
    model = gn.Sequential([layers.Dense(3, dtype="float64"), rnn, layers.Dense(1, dtype="float64")], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    model.build((7, 3))
    steps = model.explain(x, y, print_fn=None).steps[rnn.name]
    inside = model.layers[0](x)  # what rnn reads

    def loss(inp):
        out = model.layers[2](rnn(inp))
        return float(np.mean((out - y) ** 2))

    eps = 1e-6
    for k in range(7):
        t = steps.order[k]
        bump = np.zeros_like(inside)
        bump[:, t, :] = eps  # every feature of every sample at time t: the sum of their slopes
        numeric = (loss(inside + bump) - loss(inside - bump)) / (2 * eps)
        assert steps.input_grads[:, k].sum() == pytest.approx(numeric, rel=1e-6, abs=1e-10)


def test_the_report_and_the_plot_show_the_gradient_through_time():
    model = gn.Sequential([layers.LSTM(3, return_sequences=True, input_shape=(T, 8), name="lstm"),
                           layers.SimpleRNN(3, name="rnn"), layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    e = model.explain(X[:16], Y[:16], print_fn=None)
    text = str(e)
    assert "rnn: step by step (10 of the 40 steps" in text and "rnn: gradient through time" in text
    assert "the gradient reaching step 0's state (h and c) is" in text and "h (batch)" in text
    assert set(e.steps) == {"lstm", "rnn"} and set(e.steps["lstm"].values) == {"i", "f", "g", "o", "h", "c"}
    ax = e.plot_steps()
    assert [line.get_label() for line in ax.get_lines()] == ["lstm (LSTM)", "rnn (SimpleRNN)"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), e.steps["rnn"].grad_norms()["state"])
    matplotlib.pyplot.close(ax.figure)


def test_a_bidirectional_layer_shows_both_directions():
    bi = layers.Bidirectional(layers.GRU(3), input_shape=(5, 2), name="bi")
    model = gn.Sequential([bi, layers.Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    e = model.explain(np.ones((2, 5, 2)), np.zeros((2, 1)), print_fn=None)
    forward, backward = f"bi/{bi.forward_layer.name}", f"bi/{bi.backward_layer_.name}"
    assert set(e.steps) == {forward, backward}
    assert list(e.steps[backward].order) == [4, 3, 2, 1, 0]
    assert e.steps[forward].input_grads is None and "input" not in e.steps[forward].grad_norms()
    assert "state" in e.steps[forward].grad_norms()


def test_a_graph_model_is_walked_as_the_same_sequential():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4, 6, 2)), rng.normal(size=(4, 1))
    seq = gn.Sequential([layers.Dense(2, input_shape=(6, 2), name="d"), layers.GRU(3, name="gru"),
                         layers.Dense(1, name="out")], seed=0)
    inp = gn.Input((6, 2))
    graph = gn.Model(inp, layers.Dense(1, name="out")(layers.GRU(3, name="gru")(layers.Dense(2, name="d")(inp))),
                     seed=1)
    graph.set_weights(seq.get_weights())
    for model in (seq, graph):
        model.compile(optimizer="sgd", loss="mse")
    a, b = (m.explain(x, y, print_fn=None).steps["gru"] for m in (seq, graph))
    for key in ("z", "r", "n", "h"):
        np.testing.assert_allclose(b.values[key], a.values[key], rtol=1e-6)
    np.testing.assert_allclose(b.input_grads, a.input_grads, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(b.state_grads["h"], a.state_grads["h"], rtol=1e-5, atol=1e-9)
    assert "gru: gradient through time" in str(graph.explain(x, y, print_fn=None))


@pytest.mark.parametrize("cell", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_state_gradient_per_step_agrees_with_finite_differences(cell):
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(4, 7, 3)), rng.normal(size=(4, 1))
    rnn = cell(5, bias_initializer="random_normal", dtype="float64")
    head = layers.Dense(1, dtype="float64")
    model = gn.Sequential([rnn, head], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    model.build((7, 3))
    steps = model.explain(x, y, print_fn=None).steps[rnn.name]
    eps = 1e-6
    for k in (0, 3, 6):
        after = [steps.values[name][:, k] for name in rnn.state_names]  # the states after step k

        def loss(states):  # the rest of the sequence run from those states
            out = states[0] if k == 6 else rnn(x[:, k + 1:], initial_state=states)
            return float(np.mean((head(out) - y) ** 2))

        for i, name in enumerate(rnn.state_names):
            up, down = list(after), list(after)
            up[i], down[i] = after[i] + eps, after[i] - eps  # every unit of every sample
            numeric = (loss(up) - loss(down)) / (2 * eps)
            assert steps.state_grads[name][:, k].sum() == pytest.approx(numeric, rel=1e-6, abs=1e-10)


def test_the_step_table_keeps_its_columns_apart_at_any_value():
    """Means as wide as four significant digits allow (-1.234e-05) stay separate columns, so each
    row reads as a step and one number per gate or state."""
    model = _classifier(layers.LSTM)
    steps = model.explain(X[:2], Y[:2], print_fn=None).steps["rnn"]
    for key in steps.values:
        steps.values[key][...] = -1.234e-05
    rows = recurrent_steps.forward_lines(steps)[3:]
    assert rows and all(len(row.split()) == 1 + len(steps.values) for row in rows)


def test_a_backward_direction_shows_which_time_step_each_step_reads():
    """A Bidirectional's backward direction runs from the last time step: its tables numbered the
    steps in processing order only, so right-padding (skipped first, zero states) read as if it
    sat at the start of the text. Each row now also says its time step t."""
    ids = np.array([[3, 1, 4, 1, 0, 0], [2, 7, 1, 8, 2, 8]])
    bi = layers.Bidirectional(layers.GRU(2), name="bi")
    model = gn.Sequential([layers.Embedding(10, 3, mask_zero=True), bi, layers.Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    e = model.explain(ids, np.zeros((2, 1)), print_fn=None)
    backward = e.steps[f"bi/{bi.backward_layer_.name}"]
    rows = recurrent_steps.forward_lines(backward)[4:]
    assert [row.split()[:2] for row in rows] == [[str(k), str(5 - k)] for k in range(6)]
    assert all(float(row.split()[-1]) == 0.0 for row in rows[:2])  # t = 5, 4: the padding, skipped
    back_rows = recurrent_steps.backward_lines(backward)[4:-1]
    assert [row.split()[:2] for row in back_rows] == [[str(k), str(5 - k)] for k in range(5, -1, -1)]
    forward = recurrent_steps.forward_lines(e.steps[f"bi/{bi.forward_layer.name}"])
    assert forward[2].split()[:2] == ["step", "z"]  # a forward layer's steps are its time steps: no t column
    assert "step k reads time step t = 5 - k" in str(e)
