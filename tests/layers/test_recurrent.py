"""SimpleRNN, LSTM, GRU: gradients through time, PyTorch's nn.RNN / nn.LSTM / nn.GRU, masks, dropout, bad input."""

import numpy as np
import pytest
from harness import check_layer, random_input, torch

import glassnet as gn
from glassnet import layers
from glassnet.gradcheck import compare_gradients, numeric_gradient

LAYERS = [layers.SimpleRNN, layers.LSTM, layers.GRU]


# -- PyTorch oracles: the same weights in torch's layout --------------------------------------------
def _torch_weights(cls, p):
    """glassnet's params as torch's nn.RNN / nn.LSTM / nn.GRU parameters (layer 0)."""
    kernel, recurrent = p["kernel"], p["recurrent_kernel"]
    if cls is layers.GRU:  # Keras' blocks z, r, h; torch's r, z, n
        u = recurrent.shape[0]

        def reorder(a):
            return torch.cat([a[..., u:2 * u], a[..., :u], a[..., 2 * u:]], dim=-1)

        kernel, recurrent = reorder(kernel), reorder(recurrent)
        bias_ih, bias_hh = reorder(p["bias"][0]), reorder(p["bias"][1])
    else:  # SimpleRNN and LSTM (gate order i, f, c, o = torch's i, f, g, o): one bias, put in bias_ih
        bias_ih = p["bias"]
        bias_hh = torch.zeros_like(bias_ih)
    return {"weight_ih_l0": kernel.T, "weight_hh_l0": recurrent.T, "bias_ih_l0": bias_ih, "bias_hh_l0": bias_hh}


def _torch_module(cls, d, u):
    kind = {layers.SimpleRNN: torch.nn.RNN, layers.LSTM: torch.nn.LSTM, layers.GRU: torch.nn.GRU}[cls]
    return kind(d, u, batch_first=True, dtype=torch.float64)


def torch_recurrent(cls, return_sequences=False, go_backwards=False):
    """The torch oracle: torch's module run with glassnet's weights (``functional_call``)."""
    def fn(x, p):
        module = _torch_module(cls, x.shape[-1], p["recurrent_kernel"].shape[0])
        if go_backwards:  # Keras returns the outputs in processing order: last step first
            x = torch.flip(x, [1])
        y, _ = torch.func.functional_call(module, _torch_weights(cls, p), (x,))
        return y if return_sequences else y[:, -1]
    return fn


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True}, {"go_backwards": True},
                                    {"go_backwards": True, "return_sequences": True}],
                         ids=["last", "sequences", "backwards", "backwards-sequences"])
def test_recurrent_contract_and_torch(cls, kwargs):
    layer = cls(3, bias_initializer="random_normal", **kwargs)  # nonzero biases, so their mapping is tested
    check_layer(layer, (4, 5, 2), torch_recurrent(cls, **kwargs) if torch is not None else None)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_recurrent_gradients_with_dropout_and_recurrent_dropout(cls):
    check_layer(cls(3, dropout=0.3, recurrent_dropout=0.4, return_sequences=True), (4, 5, 2), training=True)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_recurrent_without_bias_and_with_relu(cls):
    check_layer(cls(3, use_bias=False, activation="elu"), (3, 4, 2))


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_dropout_mask_is_the_same_at_every_time_step(cls):
    layer = cls(4, dropout=0.5, return_sequences=True, dtype="float64")
    x = random_input((6, 7, 5))
    y = layer(x, training=True)
    dx = layer.backward(np.ones_like(y))
    dropped = dx == 0  # a dropped input feature gets no gradient at any step
    assert dropped.any() and not dropped.all()
    assert np.array_equal(dropped, np.broadcast_to(dropped[:, :1], dropped.shape))
    np.testing.assert_array_equal(layer(x, training=False), layer(x))  # inference: no dropout


# -- states -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_initial_state_and_return_state_gradients_match_finite_differences(cls):
    layer = cls(3, return_state=True, return_sequences=True, dtype="float64")
    x = random_input((4, 5, 2))
    states = [random_input((4, 3), 10 + i) for i in range(len(layer.state_names))]
    outs = layer(x, initial_state=states)
    assert len(outs) == 1 + len(states)
    rs = [random_input(o.shape, 20 + i) for i, o in enumerate(outs)]

    def objective():
        return float(sum(np.sum(r * o) for r, o in zip(rs, layer.forward(x, initial_state=states))))

    grads = layer.backward(rs)
    for name, analytic, array in zip(["input", *layer.state_names], grads, [x, *states]):
        check = compare_gradients(name, analytic, numeric_gradient(objective, array), 1e-7)
        assert check.passed, check
    for key, param in layer.params.items():
        layer.forward(x, initial_state=states)
        layer.backward(rs)
        check = compare_gradients(key, layer.grads[key].copy(), numeric_gradient(objective, param), 1e-7)
        assert check.passed, check


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_return_state_and_initial_state_match_torch(cls):
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    layer = cls(3, return_state=True, bias_initializer="random_normal", dtype="float64")
    x = random_input((4, 5, 2))
    states = [random_input((4, 3), 10 + i) for i in range(len(layer.state_names))]
    y, *final = layer(x, initial_state=states)
    module = _torch_module(cls, 2, 3)
    params = {k: torch.tensor(v) for k, v in layer.params.items()}
    init = tuple(torch.tensor(s)[None] for s in states)
    y_t, final_t = torch.func.functional_call(module, _torch_weights(cls, params),
                                              (torch.tensor(x), init if cls is layers.LSTM else init[0]))
    final_t = final_t if cls is layers.LSTM else (final_t,)
    np.testing.assert_allclose(y, y_t[:, -1].numpy(), rtol=1e-10, atol=1e-12)
    for s, s_t in zip(final, final_t):
        np.testing.assert_allclose(s, s_t[0].numpy(), rtol=1e-10, atol=1e-12)


# -- masks ------------------------------------------------------------------------------------------
LENGTHS = np.array([5, 2, 4, 1])


def _right_padded_mask():
    return np.arange(5)[None, :] < LENGTHS[:, None]


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_masked_steps_carry_the_state_and_match_torch_on_unpadded_lengths(cls):
    layer = cls(3, return_sequences=True, bias_initializer="random_normal", dtype="float64")
    x = random_input((4, 5, 2))
    mask = _right_padded_mask()
    y = layer(x, mask=mask)
    for n, length in enumerate(LENGTHS):  # padding after the end: the output repeats the last real step
        np.testing.assert_array_equal(y[n, length:], np.broadcast_to(y[n, length - 1], y[n, length:].shape))
    last = cls.from_config({**layer.get_config(), "return_sequences": False})
    last.build(layer.input_shape)
    last.set_weights(layer.get_weights())
    np.testing.assert_array_equal(last(x, mask=mask), y[:, -1])
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    module = _torch_module(cls, 2, 3)
    weights = _torch_weights(cls, {k: torch.tensor(v) for k, v in layer.params.items()})
    for n, length in enumerate(LENGTHS):  # each sample alone, cut to its real length
        y_t, _ = torch.func.functional_call(module, weights, (torch.tensor(x[n:n + 1, :length]),))
        np.testing.assert_allclose(y[n, :length], y_t[0].numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("kwargs", [{"return_sequences": True}, {"go_backwards": True}])
def test_masked_gradients_match_finite_differences(cls, kwargs):
    layer = cls(3, dtype="float64", **kwargs)
    x = random_input((4, 5, 2))
    mask = _right_padded_mask()
    mask[2, 1] = False  # a hole in the middle too
    y = layer(x, mask=mask)
    r = random_input(y.shape, 1)

    def objective():
        return float(np.sum(r * layer.forward(x, mask=mask)))

    dx = layer.backward(r)
    assert compare_gradients("input", dx, numeric_gradient(objective, x), 1e-7).passed
    assert np.all(dx[~mask] == 0)  # a masked step's input has no effect
    for key, param in layer.params.items():
        layer.forward(x, mask=mask)
        layer.backward(r)
        assert compare_gradients(key, layer.grads[key].copy(), numeric_gradient(objective, param), 1e-7).passed, key


def test_go_backwards_equals_the_reversed_sequence():
    layer = layers.LSTM(3, return_sequences=True, go_backwards=True, dtype="float64")
    forward_twin = layers.LSTM(3, return_sequences=True, dtype="float64")
    x = random_input((2, 6, 4))
    y = layer(x)
    forward_twin.build(layer.input_shape)
    forward_twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(y, forward_twin(x[:, ::-1]), rtol=1e-15)


# -- bad input and arguments ------------------------------------------------------------------------
@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_two_dimensional_input_names_the_fix(cls):
    with pytest.raises(ValueError, match=r"3-D inputs \(N, T, D\).*x\[\.\.\., None\]"):
        cls(3)(np.ones((4, 5)))
    model = gn.Sequential([cls(3, input_shape=(5, 1))], seed=0)
    with pytest.raises(ValueError, match="per-sample shape"):
        model.predict(np.ones((4, 5)))


@pytest.mark.parametrize("kwargs, message", [
    ({"unroll": True}, "unroll=True is not supported"),
    ({"stateful": True}, "stateful=True is not supported"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ({"recurrent_dropout": -0.1}, r"recurrent_dropout must be in \[0, 1\)"),
    ({"units": 0}, "units must be a positive integer"),
])
@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_refused_arguments(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**{"units": 3, **kwargs})


def test_gru_refuses_reset_before():
    with pytest.raises(ValueError, match="reset_after=True"):
        layers.GRU(3, reset_after=False)


def test_a_mask_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"mask must be a boolean array \(N, T\) = \(4, 5\)"):
        layers.LSTM(3)(np.ones((4, 5, 2)), mask=np.ones((4, 6), bool))


def test_initial_state_of_the_wrong_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"initial_state must be a list of 2 array\(s\) \(h, c\)"):
        layers.LSTM(3)(np.ones((4, 5, 2)), initial_state=[np.zeros((4, 3))])




@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_stacking_on_a_layer_without_return_sequences_names_return_sequences(cls):
    """Keras' most common stacking slip: LSTM(8) then LSTM(4) hands the second (N, 8). The error
    spoke of feature axes and Embedding only; it now names return_sequences=True on the layer below."""
    with pytest.raises(ValueError, match=r"got shape \(None, 8\).*give that one return_sequences=True"):
        gn.Sequential([cls(8, input_shape=(5, 2)), cls(4)], seed=0)  # built at once: the input shape is known
    assert gn.Sequential([cls(8, return_sequences=True, input_shape=(5, 2)), cls(4)], seed=0).output_shape == (None, 4)

@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_a_built_layer_given_another_feature_count_is_a_clear_error(cls):
    """The kernel fixes D: a second call with other features failed inside matmul ('mismatch in its
    core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?)'); so did a Bidirectional's."""
    message = r"built for 2 features per time step .* got inputs of shape \(4, 5, 3\), 3 per step"
    layer, wrapped = cls(3), layers.Bidirectional(cls(3))
    for call in (layer, lambda x: layer(x, mask=np.ones((4, 5), bool)), wrapped):
        call(np.ones((4, 5, 2)))
        with pytest.raises(ValueError, match=message):
            call(np.ones((4, 5, 3)))

# -- defaults and training ------------------------------------------------------------------------
def test_keras_defaults_shapes_and_param_counts():
    lstm, gru, rnn = layers.LSTM(8), layers.GRU(8), layers.SimpleRNN(8)
    for layer in (lstm, gru, rnn):
        layer.build((None, 10, 5))
    # Keras' counts: LSTM 4(UD + UU + U), GRU reset_after 3(UD + UU + 2U), SimpleRNN UD + UU + U
    assert (lstm.count_params(), gru.count_params(), rnn.count_params()) == (448, 360, 112)
    np.testing.assert_array_equal(lstm.params["bias"], np.r_[np.zeros(8), np.ones(8), np.zeros(16)])
    u = lstm.params["recurrent_kernel"]
    np.testing.assert_allclose(u @ u.T, np.eye(8), atol=1e-5)  # orthogonal rows
    assert lstm.output_shape == (None, 8)
    assert layers.GRU(8, return_sequences=True).compute_output_shape((None, 10, 5)) == (None, 10, 8)


def test_float32_in_float32_out_and_the_model_trains():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 1)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1) > 0).astype(np.float32)  # the sign of the running sum
    model = gn.Sequential([layers.LSTM(8, input_shape=(8, 1)), layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(gn.optimizers.Adam(0.03), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    assert model.predict(x).dtype == np.float32
    assert history.history["accuracy"][-1] >= 0.95


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_same_seed_same_weights_bit_for_bit(cls):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 5, 2)), rng.standard_normal((16, 1))
    runs = []
    for _ in range(2):
        model = gn.Sequential([cls(4, dropout=0.2, recurrent_dropout=0.2, input_shape=(5, 2)), layers.Dense(1)],
                              seed=3)
        model.compile("adam", "mse")
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_inference_keeps_no_per_step_values_and_backward_still_matches(cls):
    import tracemalloc

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 200, 4)).astype(np.float32)
    g = rng.standard_normal((8, 16)).astype(np.float32)
    layer = cls(16, input_shape=(200, 4))
    layer.build(x.shape)
    layer.needs_input_grad = True
    peaks, results = {}, {}
    for training in (True, False):
        layer.forward(x, training=training)  # the previous call's arrays are freed by this one
        tracemalloc.start()
        y = layer.forward(x, training=training)
        peaks[training] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        dx = layer.backward(g)  # after an inference forward, backward runs the steps again
        results[training] = (y, dx, {k: v.copy() for k, v in layer.grads.items()})
    # a training forward keeps every step's states and gates, about 3 (T, N, U) to 7 (T, N, U) arrays more
    assert peaks[False] < 0.6 * peaks[True], peaks
    (y1, dx1, g1), (y0, dx0, g0) = results[True], results[False]
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(dx0, dx1)
    for k in g1:
        np.testing.assert_array_equal(g0[k], g1[k])


def test_orthogonal_initializer_tall_and_wide_and_its_gain():
    rng = np.random.default_rng(0)
    tall = gn.initializers.get("orthogonal")((6, 3), rng, dtype="float64")
    np.testing.assert_allclose(tall.T @ tall, np.eye(3), atol=1e-12)
    wide = gn.initializers.Orthogonal(gain=2.0)((3, 6), rng, dtype="float64")
    np.testing.assert_allclose(wide @ wide.T, 4 * np.eye(3), atol=1e-12)
    assert wide.flags.c_contiguous  # gradient checks perturb weights in place


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gate_activations_are_the_sigmoid_and_tanh_without_overflow(dtype):
    from glassnet.activations import Sigmoid, Tanh, sigmoid
    from glassnet.layers.recurrent import GateActivations

    x = np.concatenate([np.linspace(-30, 30, 2001), [-1000.0, 1000.0]]).astype(dtype)
    gates = GateActivations((Sigmoid(), Tanh()), units=x.size)  # blocks [σ | tanh], as in the cells
    y = gates.forward(np.tile(x, (3, 2)))  # 3 rows of [x | x]
    assert y.dtype == dtype
    sig, tanh = y[:, :x.size], y[:, x.size:]
    np.testing.assert_allclose(sig, np.broadcast_to(sigmoid(x), sig.shape), rtol=0, atol=2 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(tanh, np.broadcast_to(np.tanh(x), tanh.shape))
    assert (sig[:, -2] == 0).all() and (sig[:, -1] == 1).all()
    slope = gates.backward(np.ones_like(y))
    np.testing.assert_allclose(slope[:, :x.size], sig * (1 - sig), rtol=0, atol=np.finfo(dtype).eps)
    np.testing.assert_allclose(slope[:, x.size:], 1 - tanh * tanh, rtol=0, atol=np.finfo(dtype).eps)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_go_backwards_with_right_padding_matches_torch_on_the_reversed_real_steps(cls):
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    layer = cls(3, go_backwards=True, bias_initializer="random_normal", dtype="float64")
    x = random_input((4, 5, 2))
    y = layer(x, mask=_right_padded_mask())  # the padding comes first and leaves the zero state alone
    module = _torch_module(cls, 2, 3)
    weights = _torch_weights(cls, {k: torch.tensor(v) for k, v in layer.params.items()})
    for n, length in enumerate(LENGTHS):
        y_t, _ = torch.func.functional_call(module, weights, (torch.flip(torch.tensor(x[n:n + 1, :length]), [1]),))
        np.testing.assert_allclose(y[n], y_t[0, -1].numpy(), rtol=1e-10, atol=1e-12)
