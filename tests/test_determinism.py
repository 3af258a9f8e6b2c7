"""One seed drives initialisation, dropout, shuffling and splits; NumPy's global state is never used."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers


@pytest.fixture(autouse=True)
def _restore_default_seed(monkeypatch):
    monkeypatch.setattr(gn.utils, "_DEFAULT_SEED", None)


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    x = (rng.normal(scale=2.0, size=(3, 5))[y] + rng.normal(size=(n, 5))).astype("float32")
    return x, y


def _model(seed=None):
    model = gn.Sequential([layers.Dense(32, activation="relu", input_shape=(5,)),
                           layers.Dropout(0.3),
                           layers.Dense(16, activation="relu"),
                           layers.Dropout(0.2),
                           layers.Dense(3, activation="softmax")], seed=seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _train(model, x=None, y=None):
    if x is None:
        x, y = _data()
    history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0)
    return model.get_weights(), history.history


def _assert_equal(a, b):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        assert wa.dtype == wb.dtype
        np.testing.assert_array_equal(wa, wb)


def test_same_seed_gives_bitwise_equal_weights_and_history():
    wa, ha = _train(_model(seed=42))
    wb, hb = _train(_model(seed=42))
    _assert_equal(wa, wb)
    assert ha == hb


def test_different_seed_gives_different_weights():
    wa, _ = _train(_model(seed=1))
    wb, _ = _train(_model(seed=2))
    assert all(not np.array_equal(a, b) for a, b in zip(wa, wb))


def test_the_seed_drives_dropout_shuffling_and_split_not_only_initialisation():
    a, b = _model(seed=1), _model(seed=2)
    b.set_weights(a.get_weights())  # same start, different seeds
    wa, ha = _train(a)
    wb, hb = _train(b)
    assert not np.array_equal(wa[0], wb[0])
    assert ha["val_loss"] != hb["val_loss"]


def test_set_random_seed_drives_models_created_after_it():
    gn.utils.set_random_seed(7)
    first = _model()
    gn.utils.set_random_seed(7)
    second = _model()
    assert first.seed == second.seed == 7
    _assert_equal(_train(first)[0], _train(second)[0])
    gn.utils.set_random_seed(8)
    assert _model().seed == 8
    assert first.seed == 7  # models that exist keep theirs


def test_models_created_one_after_another_after_set_random_seed_differ_but_repeat(monkeypatch):
    monkeypatch.setattr(gn.utils, "_DEFAULT_SEED", None)  # restored after the test
    gn.utils.set_random_seed(0)
    members = [_model() for _ in range(3)]  # an ensemble, or three folds
    assert len({m.seed for m in members}) == 3
    assert not np.array_equal(members[0].get_weights()[0], members[1].get_weights()[0])
    gn.utils.set_random_seed(0)
    assert [_model().seed for _ in range(3)] == [m.seed for m in members]  # the script repeats


def test_an_unseeded_model_records_its_fresh_seed_so_the_run_can_be_repeated():
    a, b = _model(), _model()
    assert a.seed != b.seed
    repeat = _model(seed=a.seed)
    _assert_equal(_train(a)[0], _train(repeat)[0])


def test_two_runs_in_one_process_are_equal_whatever_ran_between():
    first, _ = _train(_model(seed=3))
    _train(_model(seed=99), *_data(seed=5))  # unrelated training in between
    gn.layers.Dense(4)(np.ones((2, 3), dtype="float32"))  # a stand-alone layer too
    second, _ = _train(_model(seed=3))
    _assert_equal(first, second)


def test_numpy_global_random_state_is_never_touched():
    x, y = _data()
    np.random.seed(1234)
    state = np.random.get_state()
    model = _model(seed=0)
    model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0)
    model.evaluate(x, y)
    model.predict(x)
    gn.layers.Dropout(0.5)(x, training=True)
    after = np.random.get_state()
    assert after[0] == state[0] and after[2:] == state[2:]
    np.testing.assert_array_equal(after[1], state[1])


def test_numpy_global_seed_does_not_change_results():
    np.random.seed(0)
    first, _ = _train(_model(seed=5))
    np.random.seed(1)
    second, _ = _train(_model(seed=5))
    _assert_equal(first, second)


def test_cpu_model_names_the_processor_from_proc_cpuinfo(tmp_path, monkeypatch):
    # the name benchmarks and examples print beside their timings
    import builtins

    real_open = builtins.open
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 9000 @ 3.0GHz\nflags\t: fpu\n")
    monkeypatch.setattr(builtins, "open", lambda path, *a, **k: real_open(cpuinfo if path == "/proc/cpuinfo" else path,
                                                                          *a, **k))
    assert gn.utils.cpu_model() == "Test CPU 9000 @ 3.0GHz"
