"""Graph models (gn.Model): gradients against finite differences and torch, shared layers, named errors."""

import numpy as np
import pytest
from harness import F, torch

import glassnet as gn
from glassnet import layers
from glassnet.gradcheck import compare_gradients, numeric_gradient, roundoff_floor
from glassnet.models.functional import GraphError

F64 = {"dtype": "float64"}


def graph_gradients(model, xs, seed=1):
    """Outputs, input gradients and parameter gradients of f = Σₖ Σ rₖ ⊙ yₖ (a random projection)."""
    outs = model.forward(xs)
    rng = np.random.default_rng(seed)
    r = [rng.standard_normal(y.shape) for y in outs]
    dxs = model.backward([ri.copy() for ri in r])
    grads = {f"{layer.name}/{k}": g.copy() for layer in model.layers for k, g in layer.grads.items()}
    return outs, r, dxs, grads


def check_graph_with_finite_differences(model, xs):
    outs, r, dxs, grads = graph_gradients(model, xs)

    def objective():
        return float(sum(np.sum(ri * y) for ri, y in zip(r, model.forward(xs))))

    atol = roundoff_floor(sum(float(np.sum(np.abs(ri * y))) for ri, y in zip(r, outs)), 1e-4)
    checks = [compare_gradients(f"input_{i}", dx, numeric_gradient(objective, x), 1e-7, atol)
              for i, (dx, x) in enumerate(zip(dxs, xs))]
    for layer in model.layers:
        for key, param in layer.params.items():
            checks.append(compare_gradients(f"{layer.name}/{key}", grads[f"{layer.name}/{key}"],
                                            numeric_gradient(objective, param), 1e-7, atol))
    failed = [(c.name, c.max_rel_error, c.note) for c in checks if not c.passed]
    assert not failed, failed
    assert len(checks) == len(xs) + sum(len(layer.params) for layer in model.layers)


def check_graph_with_torch(model, xs, torch_fn):
    """``torch_fn(inputs, params) -> outputs``, params keyed "<layer name>/<key>" from the same weights."""
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    outs, r, dxs, grads = graph_gradients(model, xs)
    xs_t = [torch.tensor(x, requires_grad=True) for x in xs]
    params_t = {f"{layer.name}/{k}": torch.tensor(p, requires_grad=True)
                for layer in model.layers for k, p in layer.params.items()}
    outs_t = torch_fn(xs_t, params_t)
    sum((y * torch.tensor(ri)).sum() for y, ri in zip(outs_t, r)).backward()
    for y, y_t in zip(outs, outs_t):
        np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for dx, x_t in zip(dxs, xs_t):
        np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for key, p_t in params_t.items():
        np.testing.assert_allclose(grads[key], p_t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)


def dense_t(p, name, x, activation=None):
    z = F.linear(x, p[f"{name}/kernel"].T, p[f"{name}/bias"])
    return z if activation is None else activation(z)


# -- the four graphs -------------------------------------------------------------------------------
def residual_block():
    """y = Dense(LayerNorm(x + Dense_tanh(x))): x fans out to the Add and the first Dense."""
    x = gn.Input((4,), dtype="float64")
    h = layers.Dense(4, activation="tanh", name="inner", **F64)(x)
    s = layers.Add(**F64)([x, h])
    n = layers.LayerNormalization(name="norm", gamma_initializer="random_normal",
                                  beta_initializer="random_normal", **F64)(s)
    y = layers.Dense(2, name="head", **F64)(n)
    model = gn.Model(x, y, seed=0)

    def torch_fn(xs, p):
        s = xs[0] + dense_t(p, "inner", xs[0], torch.tanh)
        n = F.layer_norm(s, (4,), p["norm/gamma"], p["norm/beta"], eps=1e-3)
        return [dense_t(p, "head", n)]
    return model, [np.random.default_rng(0).standard_normal((5, 4))], torch_fn


def shared_layer_two_inputs():
    """One Dense called on two inputs (its gradients add up), merged by Multiply and Concatenate."""
    a, b = gn.Input((3,), name="a", dtype="float64"), gn.Input((3,), name="b", dtype="float64")
    shared = layers.Dense(3, activation="tanh", name="shared", bias_initializer="random_normal", **F64)
    ha, hb = shared(a), shared(b)
    m = layers.Concatenate(**F64)([layers.Multiply(**F64)([ha, hb]), hb])
    y = layers.Dense(1, name="head", **F64)(m)
    model = gn.Model([a, b], y, seed=1)

    def torch_fn(xs, p):
        ha, hb = dense_t(p, "shared", xs[0], torch.tanh), dense_t(p, "shared", xs[1], torch.tanh)
        return [dense_t(p, "head", torch.cat([ha * hb, hb], dim=-1))]
    rng = np.random.default_rng(2)
    return model, [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))], torch_fn


def shared_layer_in_sequence():
    """d(d(x)): the same layer's second call reads the first call's output."""
    x = gn.Input((3,), dtype="float64")
    d = layers.Dense(3, activation="tanh", name="twice", bias_initializer="random_normal", **F64)
    model = gn.Model(x, d(d(x)), seed=2)

    def torch_fn(xs, p):
        return [dense_t(p, "twice", dense_t(p, "twice", xs[0], torch.tanh), torch.tanh)]
    return model, [np.random.default_rng(3).standard_normal((4, 3))], torch_fn


def two_outputs():
    """A trunk h feeding two heads (a fan-out), and a Dot of the heads as a third output."""
    x = gn.Input((5,), dtype="float64")
    h = layers.Dense(4, activation="tanh", name="trunk", **F64)(x)
    risk = layers.Dense(1, activation="sigmoid", name="risk", **F64)(h)
    days = layers.Dense(4, name="days", **F64)(h)
    sim = layers.Dot(axes=1, normalize=True, name="sim", **F64)([h, days])
    model = gn.Model(x, {"risk": risk, "days": days, "sim": sim}, seed=3)

    def torch_fn(xs, p):
        h = dense_t(p, "trunk", xs[0], torch.tanh)
        days = dense_t(p, "days", h)
        sim = (F.normalize(h, dim=1, eps=1e-6) * F.normalize(days, dim=1, eps=1e-6)).sum(1, keepdim=True)
        return [dense_t(p, "risk", h, torch.sigmoid), days, sim]
    return model, [np.random.default_rng(4).standard_normal((6, 5))], torch_fn


GRAPHS = [residual_block, shared_layer_two_inputs, shared_layer_in_sequence, two_outputs]


@pytest.mark.parametrize("make", GRAPHS, ids=[g.__name__ for g in GRAPHS])
def test_graph_gradients_match_finite_differences(make):
    model, xs, _ = make()
    check_graph_with_finite_differences(model, xs)


@pytest.mark.parametrize("make", GRAPHS, ids=[g.__name__ for g in GRAPHS])
def test_graph_matches_torch_built_from_the_same_weights(make):
    model, xs, torch_fn = make()
    check_graph_with_torch(model, xs, torch_fn)


def test_a_shared_layer_gradient_is_the_sum_over_its_calls_and_backward_overwrites():
    model, xs, _ = shared_layer_two_inputs()
    shared = model.get_layer("shared")
    _, _, _, first = graph_gradients(model, xs)
    _, _, _, again = graph_gradients(model, xs)  # a second backward must not add to the first
    np.testing.assert_array_equal(again["shared/kernel"], first["shared/kernel"])
    # The same gradient from two unshared copies of the layer holding the same weights.
    a, b = model.inputs
    left = layers.Dense(3, activation="tanh", name="left", **F64)
    right = layers.Dense(3, activation="tanh", name="right", **F64)
    m = layers.Concatenate(**F64)([layers.Multiply(**F64)([left(a), right(b)]), right(b)])
    head = layers.Dense(1, name="head2", **F64)
    twin = gn.Model([a, b], head(m), seed=0)
    for layer in (left, right):
        layer.set_weights(shared.get_weights())
    head.set_weights(model.get_layer("head").get_weights())
    _, _, _, split = graph_gradients(twin, xs)
    np.testing.assert_allclose(first["shared/kernel"], split["left/kernel"] + split["right/kernel"], rtol=1e-12)


def test_model_call_takes_a_list_or_a_dict_and_returns_the_outputs_structure():
    model, xs, _ = shared_layer_two_inputs()
    by_list = model(xs)
    np.testing.assert_array_equal(model({"b": xs[1], "a": xs[0]}), by_list)
    assert model.input_names == ["a", "b"] and by_list.shape == (4, 1)
    model2, xs2, _ = two_outputs()
    out = model2(xs2[0])
    assert list(out) == ["risk", "days", "sim"] and out["days"].shape == (6, 4)


def test_the_same_seed_draws_the_same_weights_and_layers_differ():
    def build(seed):
        x = gn.Input((4,))
        return gn.Model(x, layers.Dense(4)(layers.Dense(4)(x)), seed=seed)
    w1, w2, w3 = build(5).get_weights(), build(5).get_weights(), build(6).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2))
    assert not np.array_equal(w1[0], w3[0])
    assert not np.array_equal(w1[0], w1[2])  # two layers of one shape: different draws


def test_sequential_accepts_gn_input_as_keras_does():
    model = gn.Sequential([gn.Input((4,)), layers.Dense(2)])
    assert type(model.layers[0]).__name__ == "Input" and model.output_shape == (None, 2)


def test_layers_input_also_starts_a_graph():
    x = layers.Input((3,), name="features")
    model = gn.Model(x, layers.Dense(2)(x), seed=0)
    assert model.input_names == ["features"] and model(np.ones((1, 3))).shape == (1, 2)


# -- named errors ----------------------------------------------------------------------------------
def test_an_input_no_output_uses_is_refused():
    a, b = gn.Input((3,), name="used"), gn.Input((3,), name="unused")
    with pytest.raises(GraphError, match="Input 'unused' is not used by any output"):
        gn.Model([a, b], layers.Dense(1)(a))


def test_an_output_that_needs_a_missing_input_is_refused():
    a, b = gn.Input((3,), name="given"), gn.Input((3,), name="forgotten")
    y = layers.Add()([layers.Dense(2)(a), layers.Dense(2)(b)])
    with pytest.raises(GraphError, match="depend on input 'forgotten'.*add it to inputs"):
        gn.Model(a, y)


def test_a_cycle_is_refused():
    x = gn.Input((3,))
    h = layers.Dense(3)(x)
    y = layers.Dense(3)(h)
    h.node.inputs = [y]  # only a tampered graph can loop back
    with pytest.raises(GraphError, match="cycle"):
        gn.Model(x, y)


def test_a_model_input_must_come_from_gn_input():
    x = gn.Input((3,))
    h = layers.Dense(3)(x)
    with pytest.raises(GraphError, match="must come from gn.Input"):
        gn.Model(h, layers.Dense(1)(h))


@pytest.mark.parametrize("given, match", [
    (lambda xs: xs[:1], r"takes 2 inputs \(a, b\); got 1"),
    (lambda xs: [*xs, xs[0]], r"takes 2 inputs \(a, b\); got 3"),
    (lambda xs: {"a": xs[0]}, r"missing \['b'\]"),
    (lambda xs: {"a": xs[0], "b": xs[1], "c": xs[1]}, r"unknown \['c'\]"),
    (lambda xs: [xs[0], xs[1][:2]], "same number of samples"),
    (lambda xs: [xs[0], xs[1][:, :2]], r"Input 'b' expects arrays of shape \(None, 3\)"),
])
def test_wrong_inputs_get_named_errors(given, match):
    model, xs, _ = shared_layer_two_inputs()
    with pytest.raises(ValueError, match=match):
        model(given(xs))


def test_a_shape_mismatch_is_reported_at_the_call():
    a, b = gn.Input((3,)), gn.Input((4,))
    with pytest.raises(ValueError, match="one shape"):
        layers.Add()([a, b])
    shared = layers.Dense(2)
    shared(a)
    with pytest.raises(ValueError, match="shared"):
        shared(b)


# -- check_gradients on whole graphs ---------------------------------------------------------------
def test_check_gradients_checks_a_graph_through_a_float64_copy():
    x = gn.Input((4,))
    h = layers.Dense(4, activation="tanh", bias_initializer="random_normal")(x)
    y = layers.Dense(2)(layers.LayerNormalization()(layers.Add()([x, h])))
    model = gn.Model(x, y, seed=0)  # float32: checked through a float64 copy with its weights
    result = gn.check_gradients(model, np.random.default_rng(0).normal(size=(3, 4)))
    assert result.passed, f"\n{result}"
    assert [c.name for c in result.checks][:2] == ["input", f"{model.layers[1].name}/kernel"]


def test_check_gradients_checks_each_input_of_a_graph_and_catches_a_wrong_backward():
    model, xs, _ = shared_layer_two_inputs()
    result = gn.check_gradients(model, xs)
    assert result.passed and [c.name for c in result.checks][:2] == ["input_0", "input_1"]
    multiply = next(layer for layer in model.layers if isinstance(layer, layers.Multiply))
    original = multiply.backward
    multiply.backward = lambda grad: [g * 1.001 for g in original(grad)]  # wrong by 0.1%
    failed = [c.name for c in gn.check_gradients(model, xs).checks if not c.passed]
    assert failed and "head/kernel" not in failed  # only what lies below the broken layer


def test_check_gradients_checks_a_compiled_two_output_graph_through_its_losses():
    model, xs, _ = two_outputs()
    model.compile(optimizer="sgd", loss={"risk": "binary_crossentropy", "days": "mse", "sim": "mse"},
                  loss_weights={"risk": 1.0, "days": 0.1, "sim": 2.0})
    rng = np.random.default_rng(5)
    y = {"risk": (rng.random((6, 1)) > 0.5).astype("float64"), "days": rng.normal(size=(6, 4)),
         "sim": rng.normal(size=(6, 1))}
    result = gn.check_gradients(model, xs[0], y)
    assert result.passed, f"\n{result}"
    assert "BinaryCrossentropy, MeanSquaredError" in result.subject
    with pytest.raises(ValueError, match="has 3 outputs: compile it and pass y"):
        gn.check_gradients(model, xs[0])


# -- Keras' model API on both kinds ----------------------------------------------------------------
def test_get_layer_by_name_or_index_on_both_model_kinds():
    seq = gn.Sequential([layers.Input((3,)), layers.Dense(2, name="out")])
    x = gn.Input((3,))
    graph = gn.Model(x, layers.Dense(2, name="out")(x), seed=0)
    for model in (seq, graph):
        assert model.get_layer("out") is model.layers[1] is model.get_layer(index=1)
        with pytest.raises(ValueError, match="No layer named 'nope'"):
            model.get_layer("nope")
        with pytest.raises(ValueError, match="exactly one of"):
            model.get_layer()


def test_sequential_pop_removes_the_last_layer_as_keras_does():
    model = gn.Sequential([layers.Input((3,)), layers.Dense(4, activation="softmax"), layers.Dense(2, name="extra")],
                          seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert model.pop().name == "extra" and model.output_shape == (None, 4)
    x, y = np.ones((2, 3), "float32"), np.eye(4, dtype="float32")[:2]
    assert model.predict(x).shape == (2, 4) and np.isfinite(model.evaluate(x, y))
    model.pop()
    model.pop()
    with pytest.raises(ValueError, match="no layers to remove"):
        model.pop()


def test_a_copied_or_pickled_graph_computes_the_same_and_trains_on_its_own():
    import copy
    import pickle

    model, xs, _ = shared_layer_two_inputs()
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(twin(xs), model(xs))
        _, _, _, grads = graph_gradients(model, xs)
        _, _, _, twin_grads = graph_gradients(twin, xs)
        np.testing.assert_array_equal(twin_grads["shared/kernel"], grads["shared/kernel"])
        twin.get_layer("shared").params["kernel"][...] += 1  # its weights are its own
        assert not np.array_equal(twin(xs), model(xs))


def test_automatic_layer_names_count_per_class_as_in_keras():
    class Probe(layers.Dense):  # a class of its own, so other tests' layers do not shift its count
        pass
    first, second, third = Probe(1), Probe(1), Probe(1)
    assert [first.name, second.name, third.name] == ["probe", "probe_1", "probe_2"]
    assert layers.Dense(1, name="head").name == "head"


def test_input_docstring_states_the_integer_dtypes_it_accepts():
    # Keras code declares token ids as keras.Input(..., dtype="int32"); the docstring must say so.
    doc = gn.Input.__doc__
    assert "int32" in doc and "int64" in doc and "read as float32" in doc
    assert gn.Input(shape=(20,), dtype="int32").dtype == "float32"
