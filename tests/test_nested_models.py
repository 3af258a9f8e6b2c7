"""Models called as layers (Keras' nested models): a Sequential inside a graph, a graph or a
Sequential inside a Sequential: gradients, training, freezing, files and summaries."""

import numpy as np
import pytest
from harness import torch
from test_functional import check_graph_with_finite_differences, check_graph_with_torch, dense_t

import glassnet as gn
from glassnet import layers
from glassnet.models.nested import ModelLayer
from glassnet.saving import container

F64 = {"dtype": "float64"}
RNG = np.random.default_rng(3)
X = RNG.normal(size=(40, 3)).astype("float32")
Y = np.tanh(X @ np.array([[1.0], [-2.0], [0.5]], "float32"))


def sequential_in_a_graph():
    """A residual around a nested Sequential: y = Dense(inner(h) + h), h = Dense_tanh(x)."""
    inner = gn.Sequential([layers.Dense(4, activation="tanh", name="a", input_shape=(4,), **F64),
                           layers.Dense(4, name="b", bias_initializer="random_normal", **F64)],
                          name="inner", seed=1)
    x = gn.Input((3,), dtype="float64")
    h = layers.Dense(4, activation="tanh", name="h", **F64)(x)
    y = layers.Dense(2, name="head", **F64)(layers.Add(**F64)([inner(h), h]))
    model = gn.Model(x, y, seed=0)

    def torch_fn(xs, p):
        h = dense_t(p, "h", xs[0], torch.tanh)
        inner_out = dense_t(p, "inner/b", dense_t(p, "inner/a", h, torch.tanh))
        return [dense_t(p, "head", inner_out + h)]
    return model, [np.random.default_rng(0).standard_normal((5, 3))], torch_fn


def graph_in_a_sequential(dtype="float64"):
    """Sequential[Dense, Model(residual block), Dense]: a graph nested in a chain."""
    kw = {"dtype": dtype}
    x = gn.Input((4,), dtype=dtype)
    residual = layers.Dense(4, activation="tanh", name="r", kernel_regularizer="l2", **kw)  # a penalty inside
    block = gn.Model(x, layers.Add(**kw)([x, residual(x)]), name="block", seed=2)
    return gn.Sequential([layers.Dense(4, activation="relu", input_shape=(3,), name="pre", **kw), block,
                          layers.Dense(1, name="out", **kw)], seed=0)


def test_a_sequential_inside_a_graph_matches_finite_differences():
    model, xs, _ = sequential_in_a_graph()
    assert isinstance(model.layers[2], ModelLayer) and model.layers[2].name == "inner"
    check_graph_with_finite_differences(model, xs)  # also checks inner/a/kernel ... one by one


def test_a_sequential_inside_a_graph_matches_torch_built_from_the_same_weights():
    model, xs, torch_fn = sequential_in_a_graph()
    check_graph_with_torch(model, xs, torch_fn)


def test_a_graph_inside_a_sequential_gets_the_gradients_fit_uses():
    model = graph_in_a_sequential()
    model.compile("sgd", "mse")
    rng = np.random.default_rng(4)
    result = gn.check_gradients(model, rng.normal(size=(6, 3)), rng.normal(size=(6, 1)))
    assert result.passed, f"\n{result}"
    assert "r/kernel" in model.layers[1].regularizers  # the loss checked includes its penalty
    assert {"block/r/kernel", "block/r/bias"} <= {c.name for c in result.checks}


def test_a_nested_model_trains_inside_the_outer_one_and_shares_its_weights():
    inner = gn.Sequential([layers.Dense(8, activation="tanh", input_shape=(3,))], name="features", seed=1)
    model = gn.Sequential([inner, layers.Dense(1)], seed=0)
    model.compile(gn.optimizers.Adam(0.02), "mse")
    before = inner.get_weights()
    history = model.fit(X, Y, epochs=30, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert not np.array_equal(before[0], inner.get_weights()[0])  # the inner model's own arrays moved
    np.testing.assert_array_equal(model.predict(X), model.layers[1](inner.predict(X)))


def test_freezing_a_nested_model_keeps_its_weights_as_keras_transfer_learning_does():
    base = graph_in_a_sequential("float32")
    base.trainable = False
    x = gn.Input((3,))
    model = gn.Model(x, layers.Dense(1, name="new_head")(base(x)), seed=0)
    model.compile(gn.optimizers.Adam(0.01), "mse")
    frozen, head = base.get_weights(), model.get_layer("new_head").get_weights()
    model.fit(X, Y, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, base.get_weights()))
    assert not np.array_equal(head[0], model.get_layer("new_head").get_weights()[0])
    assert model.count_params() == base.count_params() + 2
    assert sum(layer.count_trainable_params() for layer in model.layers) == 2


def test_nested_models_save_and_load_to_the_same_numbers_and_training_state(tmp_path):
    inner = gn.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dropout(0.2)],
                          name="inner", seed=1)
    x = gn.Input((3,))
    graph = gn.Model(x, layers.Dense(1)(inner(x)), name="g", seed=0)
    outer = gn.Sequential([graph], seed=5)  # a Sequential inside a Model inside a Sequential
    for model in (graph, outer):
        model.compile(gn.optimizers.Adam(0.01), "mse")
        model.fit(X, Y, epochs=1, verbose=0)
        model.save(tmp_path / "m.glassnet")
        loaded = gn.load_model(tmp_path / "m.glassnet")
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        # The optimizer's slots came back too: one more epoch lands on the same weights, bit for bit.
        model.fit(X, Y, epochs=1, verbose=0)
        loaded.fit(X, Y, epochs=1, verbose=0)
        for a, b in zip(model.get_weights(), loaded.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_two_default_named_sequentials_nest_in_one_model_train_and_keep_their_names_in_a_file(tmp_path):
    # Keras counts model names per class as it counts layer names, so two blocks built without
    # name= do not clash inside one graph (they used to both be "sequential").
    a = gn.Sequential([layers.Dense(4, activation="relu", input_shape=(3,))], seed=1)
    b = gn.Sequential([layers.Dense(4, activation="tanh", input_shape=(3,))], seed=2)
    x = gn.Input((3,))
    model = gn.Model(x, layers.Dense(1)(layers.Concatenate()([a(x), b(x)])), seed=0)
    assert a.name.startswith("sequential") and b.name.startswith("sequential_") and a.name != b.name
    other = gn.Input((3,))
    assert model.name.startswith("functional") and gn.Model(other, layers.Dense(1)(other)).name != model.name
    model.compile(gn.optimizers.Adam(0.01), "mse")
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert loaded.name == model.name and [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_loading_checks_a_nested_layers_weights_before_creating_them(tmp_path):
    inner = gn.Sequential([layers.Dense(4, input_shape=(3,), name="d")], name="inner", seed=1)
    model = gn.Sequential([inner, layers.Dense(1)], seed=0)
    path = tmp_path / "m.glassnet"
    model.save(path)
    doc, tensors = container.decode(path.read_bytes(), "m", (container.MODEL_FORMAT,))
    doc["model"]["config"]["layers"][0]["config"]["model"]["config"]["layers"][0]["config"]["units"] = 10**9
    path.write_bytes(container.encode(doc, tensors))
    with pytest.raises(gn.saving.ModelFileError, match=r"layer 'inner/d': the config makes weight 'kernel'"):
        gn.load_model(path)


def test_summaries_show_a_nested_model_by_its_class_and_count_its_weights():
    model, _, _ = sequential_in_a_graph()
    lines = []
    model.summary(print_fn=lines.append)
    assert "inner (Sequential)" in lines[0] and f"Total params: {16 + 20 + 20 + 10}" in lines[0]
    outer = graph_in_a_sequential()
    outer.summary(print_fn=lines.append)
    assert "block (Model)" in lines[1] and f"Total params: {outer.count_params()}" in lines[1]


def siamese():
    """One nested Sequential (the encoder) called on two inputs: its gradients add up over both calls."""
    encoder = gn.Sequential([layers.Dense(3, activation="tanh", name="e1", input_shape=(2,),
                                          bias_initializer="random_normal", **F64),
                             layers.Dense(2, name="e2", **F64)], name="encoder", seed=1)
    a, b = gn.Input((2,), name="a", dtype="float64"), gn.Input((2,), name="b", dtype="float64")
    y = layers.Dense(1, name="head", **F64)(layers.Concatenate(**F64)([encoder(a), encoder(b)]))
    model = gn.Model([a, b], y, seed=0)

    def torch_fn(xs, p):
        def encode(v):
            return dense_t(p, "encoder/e2", dense_t(p, "encoder/e1", v, torch.tanh))
        return [dense_t(p, "head", torch.cat([encode(xs[0]), encode(xs[1])], dim=-1))]
    rng = np.random.default_rng(6)
    return model, [rng.standard_normal((4, 2)), rng.standard_normal((4, 2))], torch_fn


def test_a_shared_nested_model_sums_its_gradients_over_its_calls():
    model, xs, torch_fn = siamese()
    assert [layer.name for layer in model.layers].count("encoder") == 1
    check_graph_with_finite_differences(model, xs)
    check_graph_with_torch(model, xs, torch_fn)


def test_a_shared_nested_model_trains_and_round_trips_through_a_file(tmp_path):
    model, xs, _ = siamese()
    model.compile(gn.optimizers.Adam(0.01), "mse")
    y = np.random.default_rng(7).standard_normal((4, 1))
    model.fit(xs, y, epochs=2, verbose=0)
    model.save(tmp_path / "siamese.glassnet")
    loaded = gn.load_model(tmp_path / "siamese.glassnet")
    np.testing.assert_array_equal(loaded.predict(xs), model.predict(xs))


def test_what_a_nested_model_cannot_do_is_refused_by_name():
    x = gn.Input((2,))
    a, b = layers.Dense(1)(x), layers.Dense(1)(x)
    with pytest.raises(ValueError, match="'two' has 2 outputs, but a Sequential is a chain of one tensor"):
        gn.Sequential([gn.Model(x, [a, b], name="two")])
    seq = gn.Sequential([layers.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match="cannot hold itself"):
        seq.add(seq)
    outer = gn.Sequential([seq], name="outer")
    with pytest.raises(ValueError, match="cannot hold itself .directly or inside 'outer'"):
        seq.add(outer)


def test_a_two_input_graph_nests_as_a_layer_that_takes_a_list():
    a, b = gn.Input((2,), name="a", dtype="float64"), gn.Input((3,), name="b", dtype="float64")
    pair = gn.Model([a, b], layers.Dense(2, activation="tanh", name="mix", **F64)(layers.Concatenate(**F64)([a, b])),
                    name="pair", seed=1)
    x, z = gn.Input((2,), name="x", dtype="float64"), gn.Input((3,), name="z", dtype="float64")
    model = gn.Model([x, z], layers.Dense(1, name="head", **F64)(pair([x, z])), seed=0)
    assert model.layers[2].takes_list and model.layers[2].name == "pair"
    rng = np.random.default_rng(8)
    check_graph_with_finite_differences(model, [rng.standard_normal((4, 2)), rng.standard_normal((4, 3))])


def test_weights_load_by_position_into_a_nested_model_rebuilt_with_other_automatic_names(tmp_path):
    def build():  # the inner Dense is named automatically: dense_<n>, another n each time
        inner = gn.Sequential([layers.Dense(4, activation="relu", input_shape=(3,))], name="inner", seed=1)
        model = gn.Sequential([inner, layers.Dense(1)], seed=0)
        model.compile(gn.optimizers.Adam(0.01), "mse")
        return model
    trained, rebuilt = build(), build()
    assert trained.layers[0].weight_names() != rebuilt.layers[0].weight_names()
    trained.fit(X, Y, epochs=2, verbose=0)
    trained.save_weights(tmp_path / "w.safetensors")
    rebuilt.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(rebuilt.predict(X), trained.predict(X))
    trained.save(tmp_path / "m.glassnet")
    resumed = build()
    gn.saving.restore_training_state(resumed, tmp_path / "m.glassnet")  # slots matched by position too
    for m in (trained, resumed):
        m.fit(X, Y, epochs=1, verbose=0)
    np.testing.assert_array_equal(resumed.predict(X), trained.predict(X))


def test_a_nested_chain_trains_exactly_as_the_same_flat_sequential_fused_loss_included():
    def flat_layers():
        # No dropout: a nested model's layers draw their masks from streams of their own.
        return [layers.Dense(6, activation="relu", input_shape=(3,), name="a"),
                layers.Dense(5, activation="tanh", name="b"), layers.Dense(3, activation="softmax", name="c")]
    flat = gn.Sequential(flat_layers(), seed=0)
    head = flat_layers()[1:]
    nested = gn.Sequential([flat_layers()[0], gn.Sequential(head, name="head", seed=1)], seed=0)
    nested.set_weights(flat.get_weights())
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    for m in (flat, nested):
        m.compile(gn.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert nested._fused_loss is not None  # the head's softmax pairs with the outer loss
    a = flat.fit(X, labels, epochs=3, batch_size=8, verbose=0)
    b = nested.fit(X, labels, epochs=3, batch_size=8, verbose=0)
    assert a.history == b.history
    for wa, wb in zip(flat.get_weights(), nested.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def block_with_two_outputs():
    """A graph with two outputs (p, q) from one trunk."""
    x = gn.Input((3,), dtype="float64")
    trunk = layers.Dense(4, activation="tanh", name="trunk", bias_initializer="random_normal", **F64)(x)
    p = layers.Dense(2, name="p", **F64)(trunk)
    q = layers.Dense(3, activation="tanh", name="q", **F64)(trunk)
    return gn.Model(x, [p, q], name="block", seed=1)


def two_output_block():
    """``block_with_two_outputs`` nested in an outer graph that feeds p and q into its head and
    also returns q itself: q's gradient arrives from two places."""
    block = block_with_two_outputs()
    z = gn.Input((3,), name="z", dtype="float64")
    p_out, q_out = block(z)
    head = layers.Dense(1, name="head", **F64)(layers.Concatenate(**F64)([p_out, q_out]))
    model = gn.Model(z, [head, q_out], seed=0)

    def torch_fn(xs, w):
        t = dense_t(w, "block/trunk", xs[0], torch.tanh)
        p_t, q_t = dense_t(w, "block/p", t), dense_t(w, "block/q", t, torch.tanh)
        return [dense_t(w, "head", torch.cat([p_t, q_t], dim=-1)), q_t]
    return model, [np.random.default_rng(9).standard_normal((5, 3))], torch_fn


def test_a_nested_graph_with_two_outputs_matches_finite_differences_and_torch():
    model, xs, torch_fn = two_output_block()
    assert model.layers[1].multi_output and model.layers[1].name == "block"
    check_graph_with_finite_differences(model, xs)
    check_graph_with_torch(model, xs, torch_fn)


def test_an_unused_output_of_a_nested_graph_gives_its_layers_zero_gradients():
    block = block_with_two_outputs()
    z = gn.Input((3,), dtype="float64")
    p_out, _ = block(z)
    only_p = gn.Model(z, p_out, seed=0)  # q feeds nothing here
    xs = [np.random.default_rng(9).standard_normal((5, 3))]
    check_graph_with_finite_differences(only_p, xs)
    only_p.forward(xs)
    only_p.backward([np.ones((5, 2))])
    assert not np.any(block.get_layer("q").grads["kernel"]) and np.any(block.get_layer("p").grads["kernel"])


def test_a_nested_graph_with_two_outputs_trains_saves_and_summarises(tmp_path):
    model, xs, _ = two_output_block()
    model.compile(gn.optimizers.Adam(0.01), ["mse", "mse"])
    rng = np.random.default_rng(10)
    model.fit(xs, [rng.standard_normal((5, 1)), rng.standard_normal((5, 3))], epochs=2, verbose=0)
    model.save(tmp_path / "two.glassnet")
    loaded = gn.load_model(tmp_path / "two.glassnet")
    for a, b in zip(loaded.predict(xs), model.predict(xs)):
        np.testing.assert_array_equal(a, b)
    lines = []
    loaded.summary(print_fn=lines.append)
    assert "block (Model)" in lines[0] and "[(None, 2), (None, 3)]" in lines[0]
    assert "block[0][0], block[0][1]" in lines[0]  # the head reads both of its outputs


def shared_graph():
    """One nested graph (a residual block whose Dense is itself called twice) called on two inputs
    and then on its own output: three calls, their gradients added up at every level."""
    x = gn.Input((3,), dtype="float64")
    mix = layers.Dense(3, activation="tanh", name="mix", bias_initializer="random_normal", **F64)
    block = gn.Model(x, layers.Add(**F64)([x, mix(mix(x))]), name="block", seed=1)
    a, b = gn.Input((3,), name="a", dtype="float64"), gn.Input((3,), name="b", dtype="float64")
    y = layers.Dense(1, name="head", **F64)(layers.Concatenate(**F64)([block(a), block(block(b))]))
    model = gn.Model([a, b], y, seed=0)

    def torch_fn(xs, p):
        def run(v):
            return v + dense_t(p, "block/mix", dense_t(p, "block/mix", v, torch.tanh), torch.tanh)
        return [dense_t(p, "head", torch.cat([run(xs[0]), run(run(xs[1]))], dim=-1))]
    rng = np.random.default_rng(12)
    return model, [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))], torch_fn


def test_a_shared_nested_graph_sums_its_gradients_over_its_calls():
    model, xs, torch_fn = shared_graph()
    assert [layer.name for layer in model.layers].count("block") == 1
    check_graph_with_finite_differences(model, xs)
    check_graph_with_torch(model, xs, torch_fn)


def test_a_shared_nested_graph_trains_its_one_set_of_weights_and_round_trips_through_a_file(tmp_path):
    model, xs, _ = shared_graph()
    block = model.get_layer("block")
    kernel = block.get_layer("mix").params["kernel"]
    before = kernel.copy()
    model.compile(gn.optimizers.Adam(0.01), "mse")
    model.fit(xs, np.random.default_rng(13).standard_normal((4, 1)), epochs=2, verbose=0)
    assert block.get_layer("mix").params["kernel"] is kernel and not np.array_equal(kernel, before)
    assert model.count_params() == 12 + 7  # the block's weights counted once
    model.save(tmp_path / "shared.glassnet")
    loaded = gn.load_model(tmp_path / "shared.glassnet")
    np.testing.assert_array_equal(loaded.predict(xs), model.predict(xs))


def test_get_layer_returns_a_nested_model_itself_as_keras_does():
    model, _, _ = sequential_in_a_graph()
    inner = model.get_layer("inner")
    assert isinstance(inner, gn.Sequential) and inner is model.get_layer(index=2)
    assert [layer.name for layer in inner.layers] == ["a", "b"] and inner.get_layer("a").units == 4
    lines = []
    inner.summary(print_fn=lines.append)
    assert 'Model: "inner"' in lines[0]
    inner.get_layer("b").params["kernel"][...] = 0.5  # its arrays are the outer model's
    np.testing.assert_array_equal(model.get_weights()[4], np.full((4, 4), 0.5))  # after h, inner/a
    assert [w.shape for w in inner.get_weights()] == [(4, 4), (4,), (4, 4), (4,)]
    inner.trainable = False  # freezing it through get_layer freezes it in the outer model
    assert model.count_params() - sum(layer.count_trainable_params() for layer in model.layers) == 40
    block = graph_in_a_sequential().get_layer("block")
    assert isinstance(block, gn.Model) and block.get_layer("r").units == 4


def test_a_nested_graph_with_outputs_by_name_returns_its_tensors_by_name():
    x = gn.Input((3,))
    block = gn.Model(x, {"p": layers.Dense(2)(x), "q": layers.Dense(3)(x)}, name="named")
    out = block(gn.Input((3,)))
    assert sorted(out) == ["p", "q"] and out["q"].shape == (None, 3)


def test_a_nested_graph_called_on_a_dict_of_tensors_matches_them_to_its_inputs_by_name(tmp_path):
    """Keras' ``block({"a": ta, "b": tb})``: the keys, in any order, name the inner inputs."""
    a, b = gn.Input((2,), name="a", dtype="float64"), gn.Input((3,), name="b", dtype="float64")
    mixed = layers.Concatenate(**F64)([layers.Dense(2, activation="tanh", name="ma", **F64)(a), b])
    pair = gn.Model({"a": a, "b": b}, layers.Dense(2, name="mix", **F64)(mixed), name="pair", seed=1)
    x, z = gn.Input((3,), name="x", dtype="float64"), gn.Input((2,), name="z", dtype="float64")
    model = gn.Model([x, z], layers.Dense(1, name="head", **F64)(pair({"b": x, "a": z})), seed=0)
    assert model.layers[2].takes_list  # the nested layer reads [z, x], in its inputs' order
    rng = np.random.default_rng(14)
    xs = [rng.standard_normal((4, 3)), rng.standard_normal((4, 2))]
    inner = pair.predict({"a": xs[1], "b": xs[0]})  # z feeds a, x feeds b
    np.testing.assert_allclose(model.predict(xs), model.get_layer("head")(inner), rtol=1e-12)
    check_graph_with_finite_differences(model, xs)
    model.save(tmp_path / "dict.glassnet")
    np.testing.assert_array_equal(gn.load_model(tmp_path / "dict.glassnet").predict(xs), model.predict(xs))
    with pytest.raises(ValueError, match=r"tensors given to model 'pair' must hold one tensor per input "
                                         r"\['a', 'b'\]; missing \['b'\]; unknown \['c'\]"):
        pair({"a": z, "c": x})


def _nested_two_outputs(structure):
    block = block_with_two_outputs()
    z = gn.Input((3,), name="z", dtype="float64")
    p_out, q_out = block(z)
    outputs = {"first": p_out, "second": q_out} if structure == "dict" else [p_out, q_out]
    rng = np.random.default_rng(15)
    return gn.Model(z, outputs, seed=0), rng.standard_normal((8, 3)), [rng.standard_normal((8, 2)),
                                                                       rng.standard_normal((8, 3))]


def test_a_nested_models_outputs_given_as_a_dict_are_named_by_its_keys_as_keras_names_them():
    """Keras 3 names the losses of outputs given as a dict by the keys (``first_loss``); the
    layer's names (both "block" here) serve only outputs given as a list."""
    model, x, (p, q) = _nested_two_outputs("dict")
    assert model.output_names == ["first", "second"]
    model.compile("sgd", {"first": "mse", "second": "mae"}, loss_weights={"second": 0.5},
                  metrics={"first": ["mae"]})
    history = model.fit(x, {"first": p, "second": q}, epochs=1, batch_size=8, validation_split=0.25, verbose=0)
    logs = history.history
    assert {"loss", "first_loss", "second_loss", "first_mae", "val_loss", "val_first_loss", "val_second_loss",
            "val_first_mae"} <= set(logs)
    assert logs["loss"][0] == pytest.approx(logs["first_loss"][0] + 0.5 * logs["second_loss"][0], rel=1e-12)
    assert isinstance(model.loss[1], gn.losses.MeanAbsoluteError)


def test_a_nested_models_listed_outputs_keep_unique_names_and_take_its_name_as_a_dict_key():
    """Keras 3 names both listed outputs of a nested model "block" (its History then holds one
    "block_loss" for the two); glassnet keeps them apart as ``block`` and ``block_1`` and, as
    Keras 3 does, lets one key "block" give both their loss, weight and metrics."""
    model, x, y = _nested_two_outputs("list")
    assert model.output_names == ["block", "block_1"]
    model.compile("sgd", {"block": "mse"}, loss_weights={"block": 0.5}, metrics={"block": ["mae"]})
    assert model.loss_weights == [0.5, 0.5] and all(isinstance(f, gn.losses.MeanSquaredError) for f in model.loss)
    logs = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.25, verbose=0).history
    assert {"block_loss", "block_1_loss", "block_mae", "block_1_mae", "val_block_loss", "val_block_1_loss"} <= set(logs)
    assert logs["loss"][0] == pytest.approx(0.5 * (logs["block_loss"][0] + logs["block_1_loss"][0]), rel=1e-12)
    model.compile("sgd", {"block": "mse", "block_1": "mae"})  # an output's own key comes first
    assert isinstance(model.loss[1], gn.losses.MeanAbsoluteError)
    with pytest.raises(ValueError, match=r"loss names \['p'\], which are not outputs.*\['block', 'block_1'\]"):
        model.compile("sgd", {"p": "mse", "block_1": "mse"})
