"""Bidirectional and TimeDistributed: gradients, PyTorch's bidirectional nn.LSTM / nn.GRU, masks, models, saving."""

import numpy as np
import pytest
from harness import check_layer, random_input, torch

import glassnet as gn
from glassnet import layers

MERGES = ["concat", "sum", "mul", "ave"]


@pytest.mark.parametrize("merge_mode, return_sequences", [(mode, True) for mode in MERGES] + [("mul", False)])
def test_bidirectional_contract(merge_mode, return_sequences):
    check_layer(layers.Bidirectional(layers.SimpleRNN(2, return_sequences=return_sequences), merge_mode=merge_mode),
                (3, 4, 2))


def test_bidirectional_with_its_own_backward_layer_and_dropout():
    layer = layers.Bidirectional(layers.LSTM(3, return_sequences=True, dropout=0.2),
                                 backward_layer=layers.SimpleRNN(2, go_backwards=True, return_sequences=True))
    built = check_layer(layer, (4, 5, 2), training=True)
    assert built.output_shape == (None, 5, 5)
    assert sorted(built.params) == ["backward_bias", "backward_kernel", "backward_recurrent_kernel",
                                    "forward_bias", "forward_kernel", "forward_recurrent_kernel"]


def _torch_bidirectional(cls, return_sequences):
    """torch's bidirectional module with the wrapper's weights (the harness' oracle)."""
    from test_recurrent import _torch_module, _torch_weights

    def fn(x, p):
        module = _torch_module(cls, x.shape[-1], p["forward_recurrent_kernel"].shape[0])
        module = type(module)(x.shape[-1], module.hidden_size, batch_first=True, bidirectional=True,
                              dtype=torch.float64)
        weights = {}
        for prefix, suffix in (("forward_", ""), ("backward_", "_reverse")):
            mine = {k[len(prefix):]: v for k, v in p.items() if k.startswith(prefix)}
            weights.update({k + suffix: v for k, v in _torch_weights(cls, mine).items()})
        y, _ = torch.func.functional_call(module, weights, (x,))
        if return_sequences:
            return y
        u = y.shape[-1] // 2  # the backward direction's last step is time step 0
        return torch.cat([y[:, -1, :u], y[:, 0, u:]], dim=-1)
    return fn


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_bidirectional_matches_torch(cls, return_sequences):
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    check_layer(layers.Bidirectional(cls(2, return_sequences=return_sequences, bias_initializer="random_normal")),
                (3, 4, 2), _torch_bidirectional(cls, return_sequences))


def test_bidirectional_without_merging_returns_both_directions():
    layer = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=None, dtype="float64")
    x = random_input((2, 4, 2))
    y_f, y_b = layer(x)
    concat = layers.Bidirectional(layers.LSTM(3, return_sequences=True), dtype="float64")
    concat.build(layer.input_shape)
    concat.set_weights(layer.get_weights())
    np.testing.assert_array_equal(np.concatenate([y_f, y_b], axis=-1), concat(x))
    g = random_input((2, 4, 6), 1)
    np.testing.assert_allclose(layer.backward([g[..., :3], g[..., 3:]]), concat.backward(g), rtol=1e-14)


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
def test_bidirectional_honours_the_mask(return_sequences):
    ids = np.array([[3, 1, 4, 0, 0], [5, 9, 2, 6, 1]])
    model = gn.Sequential([layers.Embedding(10, 4, mask_zero=True),
                           layers.Bidirectional(layers.LSTM(3, return_sequences=return_sequences))], seed=0)
    model.build((None, None))
    padded, alone = model.predict(ids), model.predict(ids[:1, :3])
    if return_sequences:
        np.testing.assert_allclose(padded[:1, :3], alone, rtol=1e-6)
        np.testing.assert_array_equal(padded[0, 3:], 0.0)  # Keras: zeros at masked steps in both directions
    else:
        np.testing.assert_allclose(padded[:1], alone, rtol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"layer": layers.Dense(3)}, "must be a recurrent layer"),
    ({"layer": layers.LSTM(3), "merge_mode": "max"}, "merge_mode must be one of"),
    ({"layer": layers.LSTM(3, return_state=True), "backward_layer": layers.LSTM(3, go_backwards=True)},
     "agree on return_state"),
    ({"layer": layers.LSTM(3), "backward_layer": layers.LSTM(3)}, "opposite go_backwards"),
    ({"layer": layers.LSTM(3), "backward_layer": layers.LSTM(2, go_backwards=True), "merge_mode": "sum"},
     "same units"),
])
def test_bidirectional_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.Bidirectional(**kwargs)


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
@pytest.mark.parametrize("merge_mode, return_sequences", [("concat", False), ("sum", True), (None, True)])
def test_bidirectional_return_state_gives_each_directions_final_states(cls, merge_mode, return_sequences):
    # Keras' order: the output(s), then the forward direction's states, then the backward's.
    layer = layers.Bidirectional(cls(3, return_state=True, return_sequences=return_sequences),
                                 merge_mode=merge_mode, dtype="float64")
    x = random_input((4, 5, 2))
    outs = layer(x)
    forward, backward = layer.directions
    y_f, *states_f = forward.forward(x)
    y_b, *states_b = backward.forward(x)
    outputs = 2 if merge_mode is None else 1
    assert len(outs) == outputs + 2 * len(forward.state_names)
    for got, expected in zip(outs[outputs:], [*states_f, *states_b]):
        np.testing.assert_array_equal(got, expected)
    plain = layers.Bidirectional(cls(3, return_sequences=return_sequences), merge_mode=merge_mode, dtype="float64")
    plain.build(layer.input_shape)
    plain.set_weights(layer.get_weights())
    for got, expected in zip(outs[:outputs], plain(x) if merge_mode is None else [plain(x)]):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
@pytest.mark.parametrize("read_output", [True, False], ids=["output-and-states", "states-only"])
def test_bidirectional_return_state_gradients_match_finite_differences(cls, read_output):
    from glassnet.gradcheck import compare_gradients, numeric_gradient

    layer = layers.Bidirectional(cls(3, return_state=True, return_sequences=True), dtype="float64")
    x = random_input((3, 4, 2))
    outs = layer(x)
    # An encoder whose output no loss reads hands its states on only: that gradient is None.
    rs = [random_input(o.shape, 20 + i) if (i > 0 or read_output) else None for i, o in enumerate(outs)]

    def objective():
        return float(sum(np.sum(r * o) for r, o in zip(rs, layer.forward(x)) if r is not None))

    layer.forward(x)
    dx = layer.backward(rs)
    check = compare_gradients("input", dx, numeric_gradient(objective, x), 1e-7)
    assert check.passed, check
    for key, param in layer.params.items():
        layer.forward(x)
        layer.backward(rs)
        check = compare_gradients(key, layer.grads[key].copy(), numeric_gradient(objective, param), 1e-7)
        assert check.passed, check


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
def test_bidirectional_initial_state_starts_each_direction_and_gets_its_gradient(cls):
    from glassnet.gradcheck import compare_gradients, numeric_gradient

    layer = layers.Bidirectional(cls(3, return_sequences=True), dtype="float64")
    x = random_input((3, 4, 2))
    k = len(cls(3).state_names)
    states = [random_input((3, 3), 10 + i) for i in range(2 * k)]
    y = layer(x, initial_state=states)
    forward, backward = layer.directions
    np.testing.assert_array_equal(y[..., :3], forward.forward(x, initial_state=states[:k]))
    np.testing.assert_array_equal(y[..., 3:], backward.forward(x, initial_state=states[k:])[:, ::-1])
    r = random_input(y.shape, 30)

    def objective():
        return float(np.sum(r * layer.forward(x, initial_state=states)))

    layer.forward(x, initial_state=states)
    grads = layer.backward(r)
    assert len(grads) == 1 + 2 * k
    for name, analytic, array in zip(["input", *(f"state {i}" for i in range(2 * k))], grads, [x, *states]):
        check = compare_gradients(name, analytic, numeric_gradient(objective, array), 1e-7)
        assert check.passed, check
    with pytest.raises(ValueError, match=f"initial_state must be a list of {2 * k} arrays, the forward"):
        layer(x, initial_state=states[:k])


# -- TimeDistributed --------------------------------------------------------------------------------
@pytest.mark.parametrize("make, shape", [
    (lambda: layers.Dense(3, activation="tanh"), (4, 5, 2)),
    (lambda: layers.Conv1D(2, 2), (2, 3, 4, 2)),
    (lambda: layers.Dropout(0.3), (2, 3, 4)),
], ids=["Dense", "Conv1D", "Dropout"])
def test_time_distributed_contract(make, shape):
    check_layer(layers.TimeDistributed(make()), shape, training=True)


def test_time_distributed_applies_one_layer_at_every_step():
    inner = layers.Dense(2, dtype="float64")
    wrapped = layers.TimeDistributed(inner, dtype="float64")
    x = random_input((3, 4, 5))
    y = wrapped(x)
    assert wrapped.layer is inner and wrapped.params is inner.params
    for t in range(4):
        np.testing.assert_allclose(y[:, t], inner(x[:, t]), rtol=1e-15)
    with pytest.raises(ValueError, match="with a time axis"):
        layers.TimeDistributed(layers.Dense(2))(np.ones((3, 5)))


# -- in models ---------------------------------------------------------------------------------------
def test_a_sequence_tagger_trains_checks_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 8, (32, 6))
    tags = (ids > 4).astype(np.float32)[..., None]  # a label per step
    model = gn.Sequential([layers.Embedding(8, 4, mask_zero=True, input_shape=(6,)),
                           layers.Bidirectional(layers.GRU(4, return_sequences=True)),
                           layers.TimeDistributed(layers.Dense(1, activation="sigmoid"))], seed=0)
    model.compile(gn.optimizers.Adam(0.05), "binary_crossentropy")
    history = model.fit(ids, tags, epochs=30, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    path = tmp_path / "tagger.keras"
    model.save(path)
    loaded = gn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(ids), model.predict(ids))
    lines = []
    model.summary(print_fn=lines.append)
    assert "Bidirectional" in lines[0] and "TimeDistributed" in lines[0]


def test_whole_model_gradient_through_the_wrappers_in_the_flat_buffer():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 5, 2)), rng.standard_normal((4, 5, 1))
    model = gn.Sequential([layers.Bidirectional(layers.LSTM(3, return_sequences=True, dtype="float64"),
                                                input_shape=(5, 2), dtype="float64"),
                           layers.TimeDistributed(layers.Dense(1, dtype="float64"), dtype="float64")], seed=0)
    model.compile("sgd", "mse")
    assert gn.gradcheck.check_gradients(model, x, y).passed
    before = model.get_weights()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)  # the wrappers' arrays are the ones trained
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_bidirectional_takes_keras_mask_call_argument_on_arrays():
    """Keras' ``Bidirectional(...)(x, mask=m)``, as the recurrent layers take it: it was a TypeError
    (no ``mask`` argument). The masked call must equal the unpadded one and check the mask's shape."""
    x = random_input((2, 5, 3), seed=4).astype(np.float32)
    mask = np.array([[True, True, True, False, False], [True] * 5])
    layer = layers.Bidirectional(layers.GRU(3), merge_mode="sum")
    masked = layer(x, mask=mask)
    np.testing.assert_allclose(masked[:1], layer(x[:1, :3]), rtol=1e-6)
    assert not np.allclose(masked[:1], layer(x[:1]))  # the padded steps did count without the mask
    with pytest.raises(ValueError, match=r"mask must be a boolean array \(N, T\) = \(2, 5\)"):
        layer(x, mask=mask[:, :4])
    with pytest.raises(TypeError, match="mask= is not a symbolic call argument"):
        layer(gn.Input((5, 3)), mask=gn.Input((5,)))
