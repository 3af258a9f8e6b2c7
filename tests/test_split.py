"""The one train/held-out split rule: stratified_split and stratified_folds, and fit's
validation_split, the tuner's validation split and folds and the CLI's test split all giving the
samples it gives."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.cli import data as cli_data
from glassnet.models.split import class_labels, stratified_folds, stratified_split
from glassnet.tuning import trial as trial_module
from glassnet.tuning import tuner as tuner_module


def imbalanced_labels(n=100, positives=20, seed=0):
    y = np.zeros(n, dtype=np.int64)
    y[np.random.default_rng(seed).permutation(n)[:positives]] = 1
    return y


def test_class_labels_keep_each_class_in_proportion_on_both_sides():
    y = imbalanced_labels()
    train, held = stratified_split(y, 0.25, seed=0)
    assert (len(train), len(held)) == (75, 25)
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(100))
    assert (y[held].sum(), y[train].sum()) == (5, 15)  # 20% positive on both sides


def test_one_hot_rows_stratify_like_their_labels():
    y = imbalanced_labels()
    assert np.array_equal(class_labels(np.eye(2, dtype="float32")[y]), y)
    for a, b in zip(stratified_split(np.eye(2, dtype="float32")[y], 0.25, 3), stratified_split(y, 0.25, 3)):
        assert np.array_equal(a, b)


def test_labels_per_time_step_and_regression_targets_are_split_plainly():
    y = imbalanced_labels()
    per_step = np.stack([y, 1 - y, y], axis=1)  # (N, T) integer labels, one per step
    assert class_labels(per_step) is None
    assert class_labels(np.linspace(0, 1, 100)) is None
    assert class_labels(y, classification=False) is None
    assert class_labels((np.random.default_rng(0).random((100, 3)) > 0.5).astype("float32")) is None  # multi-hot
    plain = stratified_split(np.arange(100), 0.25, 0, classification=False)
    for targets in (per_step, np.linspace(0, 1, 100)):
        for a, b in zip(stratified_split(targets, 0.25, 0), plain):
            assert np.array_equal(a, b)


def test_classes_too_small_to_stratify_fall_back_to_a_plain_split():
    y = np.array([0] * 10 + [1] * 9 + [2])  # class 2 has one member: sklearn could not stratify
    train, held = stratified_split(y, 0.2, seed=0)
    assert (len(train), len(held)) == (16, 4)
    for a, b in zip((train, held), stratified_split(np.arange(20), 0.2, 0, classification=False)):
        assert np.array_equal(a, b)


def test_same_seed_same_split_and_another_seed_another():
    y = imbalanced_labels()
    first, again, other = (stratified_split(y, 0.3, seed) for seed in (5, 5, 6))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])


def test_an_empty_part_is_refused_with_the_range_that_works():
    with pytest.raises(ValueError, match="leaves an empty part.*between 0.2 and 0.8"):
        stratified_split(np.arange(5), 0.05, 0)
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        stratified_split(np.arange(5), 1.0, 0)


def test_folds_are_stratified_and_cover_every_sample_once():
    y = imbalanced_labels()
    folds = stratified_folds(y, 5, seed=0)
    held = np.concatenate([va for _, va in folds])
    assert sorted(held.tolist()) == list(range(100))
    assert all(y[va].sum() == 4 for _, va in folds)  # 20 positives over 5 folds


def classifier(seed):
    model = gn.Sequential([layers.Dense(3, activation="softmax")], seed=seed)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def test_fit_validates_on_the_samples_of_the_shared_split_for_the_model_seed():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 4)).astype("float32"), rng.integers(0, 3, size=60)
    model = classifier(seed=7)
    history = model.fit(x, y, validation_split=0.25, epochs=1, batch_size=8, verbose=0)
    _, held = stratified_split(y, 0.25, seed=7)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[held], y[held], verbose=0), rel=1e-6)


def test_tuner_and_cli_hold_out_the_shared_split_for_their_seed(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(60, 4)).astype("float32"), np.repeat([0, 1, 2], 20)
    train, held = stratified_split(y, 0.25, seed=7)
    x_train, y_train, (x_val, y_val) = tuner_module._split(x, y, 0.25, 7)
    assert np.array_equal(x_val, x[held]) and np.array_equal(x_train, x[train])
    np.savez(tmp_path / "d.npz", x=x, y=y)
    dataset = cli_data.load({"source": "npz", "path": str(tmp_path / "d.npz"), "test_size": 0.25}, seed=7,
                            say=lambda *_: None)
    assert np.array_equal(dataset.x_test, x[held]) and np.array_equal(dataset.y_train, y[train])


def test_tuner_folds_are_the_shared_folds_of_the_study_seed():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 2)).astype("float32"), np.repeat([0, 1, 2], 10)
    setup = trial_module.TrialSetup(build_model=None, style="kwargs", space=None, objective="val_loss",
                                    direction="minimize", x=x, y=y, epochs=1, cv=3, seed=11)
    for fold, (train, held) in enumerate(stratified_folds(y, 3, seed=11)):
        x_train, _, kwargs = trial_module._fold(setup, fold)
        assert np.array_equal(x_train, x[train]) and np.array_equal(kwargs["validation_data"][0], x[held])


def test_the_cli_splits_data_with_a_one_member_class_instead_of_failing(tmp_path):
    x = np.arange(80, dtype="float32").reshape(40, 2)
    y = np.array([0] * 20 + [1] * 19 + [2])
    np.savez(tmp_path / "d.npz", x=x, y=y)
    dataset = cli_data.load({"source": "npz", "path": str(tmp_path / "d.npz"), "test_size": 0.25}, seed=0,
                            say=lambda *_: None)
    assert (len(dataset.x_train), len(dataset.x_test)) == (30, 10)
