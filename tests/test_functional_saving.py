"""Graph models to files and back: the same graph, the same numbers; summary's "Connected to"."""

import json
import re

import numpy as np
import pytest
from test_functional_training import compile_issue_model, data, two_input_two_output

import glassnet as gn
from glassnet import layers
from glassnet.saving import ModelFileError


def test_the_issue_model_saves_and_loads_the_same_graph_and_numbers(tmp_path):
    model = two_input_two_output()
    compile_issue_model(model)
    T, X, r, d = data()
    model.fit({"table": T, "xray": X}, {"risk": r, "days": d}, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert type(loaded) is gn.Model and loaded.input_names == ["table", "xray"]
    assert json.dumps(loaded.get_config()) == json.dumps(model.get_config())
    for a, b in zip(loaded.predict([T, X]), model.predict([T, X])):
        np.testing.assert_array_equal(a, b)
    # Optimizer state, training position and compile config came along: resuming matches.
    resumed = [m.fit([T, X], [r, d], epochs=4, initial_epoch=2, batch_size=8, verbose=0).history
               for m in (model, loaded)]
    assert resumed[0] == resumed[1] and "val_loss" not in resumed[0] and "risk_accuracy" in resumed[0]


def test_a_shared_layer_and_dict_structures_round_trip(tmp_path):
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    shared = layers.Dense(3, activation="tanh", name="shared")
    twice = shared(shared(a))
    out = layers.Dense(2, name="out")(layers.Concatenate()([twice, shared(b)]))
    model = gn.Model({"a": a, "b": b}, {"out": out}, seed=0)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    x = {"a": np.ones((2, 3), "float32"), "b": np.full((2, 3), 0.5, "float32")}
    np.testing.assert_array_equal(loaded(x)["out"], model(x)["out"])
    assert [len([n for n in loaded.nodes if n.layer.name == "shared"])] == [3]
    assert loaded.get_config()["layers"][1]["inbound_nodes"] == [[["a", 0]], [["shared", 0]], [["b", 0]]]


def test_a_shared_layer_whose_later_call_reads_a_layer_listed_after_it_loads(tmp_path):
    x = gn.Input((3,), name="x")
    shared = layers.Dense(3, activation="tanh", name="shared")
    middle = layers.Dense(3, name="middle")
    model = gn.Model(x, shared(middle(shared(x))), seed=0)  # layers: x, shared, middle
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    xs = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    np.testing.assert_array_equal(loaded([xs]), model(xs))
    assert [layer.name for layer in loaded.layers] == ["x", "shared", "middle"]


@pytest.mark.parametrize("merge", [layers.Add(), layers.Subtract(), layers.Multiply(), layers.Average(),
                                   layers.Maximum(), layers.Minimum(), layers.Concatenate(axis=1),
                                   layers.Dot(axes=(1, 1), normalize=True)],
                         ids=lambda m: type(m).__name__)
def test_every_merging_layer_round_trips_in_a_graph(tmp_path, merge):
    a, b = gn.Input((4,)), gn.Input((4,))
    model = gn.Model([a, b], layers.Dense(1)(merge([layers.Dense(4)(a), b])), seed=0)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    xs = [np.random.default_rng(i).normal(size=(3, 4)).astype("float32") for i in range(2)]
    np.testing.assert_array_equal(loaded(xs), model(xs))
    assert loaded.get_layer(merge.name).get_config() == merge.get_config()


def _tampered(tmp_path, edit):
    """A saved graph whose config ``edit`` changes (the file's checksums recomputed, as an attacker would)."""
    from glassnet.saving import container

    x = gn.Input((3,), name="x")
    h = layers.Dense(3, name="h")(x)
    model = gn.Model(x, layers.Dense(1, name="y")(h), seed=0)
    model.save(tmp_path / "m.glassnet")
    doc, tensors = container.decode((tmp_path / "m.glassnet").read_bytes(), "m", (container.MODEL_FORMAT,))
    edit(doc["model"]["config"])
    (tmp_path / "bad.glassnet").write_bytes(container.encode(doc, tensors))
    return tmp_path / "bad.glassnet"


@pytest.mark.parametrize("edit, match", [
    (lambda c: c["layers"][1].update(inbound_nodes=[[["y", 0]]]), "cycle or a dangling reference"),
    (lambda c: c["layers"][1].update(inbound_nodes=[[["nowhere", 0]]]), "names no layer's call"),
    (lambda c: c.update(output_layers=[["y", 5]]), "name calls that do not exist"),
    (lambda c: c["layers"][2]["config"].update(units=10**9), "the config makes weight"),
])
def test_a_hostile_graph_config_is_refused_before_building(tmp_path, edit, match):
    with pytest.raises(ModelFileError, match=match):
        gn.load_model(_tampered(tmp_path, edit))


def test_summary_shows_what_each_layer_is_connected_to():
    lines = []
    x = gn.Input((4,), name="x")
    shared = layers.Dense(4, name="shared")
    y = layers.Add(name="sum")([shared(x), shared(shared(x))])
    gn.Model(x, y, name="residual", seed=0).summary(print_fn=lines.append)
    text = lines[0]
    assert 'Model: "residual"' in text and "Connected to" in text
    assert "sum (Add)" in text and "shared[0][0], shared[2][0]" in text
    assert "0 (shared)" in text and "Total params: 20" in text


def test_graph_summary_columns_widen_for_a_long_layer_name():
    # every row's output shape starts in one column, however long a layer's name
    lines = []
    x = gn.Input((4,), name="x")
    y = layers.Dense(2, name="a_dense_layer_whose_name_is_longer_than_its_column")(x)
    gn.Model(x, y, seed=0).summary(print_fn=lines.append)
    rows = [line for line in lines[0].splitlines() if "(Input)" in line or "(Dense)" in line]
    assert len(rows) == 2 and len({row.index("(None,") for row in rows}) == 1
    assert re.search(r"_column \(Dense\) +\(None, 2\) +10 +x\[0\]\[0\]", rows[1])
