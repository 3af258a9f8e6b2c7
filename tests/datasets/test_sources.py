"""Batch sources: fit, evaluate and predict from batches served one at a time (lazily from disk)."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.datasets import ArraySource, BatchSource, is_batch_source


def make_model():
    model = gn.Sequential([layers.Dense(8, activation="tanh", input_shape=(5,)),
                           layers.Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 5)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int)


def test_training_from_a_source_equals_training_from_the_arrays(xy):
    x, y = xy
    from_arrays, from_source = make_model(), make_model()
    from_arrays.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    history = from_source.fit(ArraySource(x, y, batch_size=16), epochs=3, shuffle=False, verbose=0)
    for a, b in zip(from_arrays.get_weights(), from_source.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(history.history["accuracy"]) == 3


def test_memory_mapped_file_trains_evaluates_and_predicts_without_loading(xy, tmp_path):
    x, y = xy
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    model = make_model()
    model.fit(ArraySource(mapped, y, batch_size=8, shuffle=True, seed=1), epochs=2, verbose=0,
              validation_data=ArraySource(x, y, batch_size=256))
    assert "val_accuracy" in model.history.history
    # With the evaluation batches of the arrays' path (256), the two agree exactly.
    np.testing.assert_array_equal(model.evaluate(ArraySource(mapped, y, batch_size=256)), model.evaluate(x, y))
    np.testing.assert_array_equal(model.predict(ArraySource(mapped, None, batch_size=256)), model.predict(x))


def test_shuffled_source_is_seeded_and_visits_every_sample_once_per_epoch(xy):
    x, y = xy
    source = ArraySource(np.arange(10), np.arange(10), batch_size=3, shuffle=True, seed=0)
    seen = np.concatenate([source[i][0] for i in range(len(source))])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    first = seen.copy()
    source.on_epoch_end()
    assert np.concatenate([source[i][0] for i in range(len(source))]).tolist() != first.tolist()
    again = ArraySource(np.arange(10), np.arange(10), batch_size=3, shuffle=True, seed=0)
    assert np.concatenate([again[i][0] for i in range(len(again))]).tolist() == first.tolist()


def test_class_and_sample_weights_from_a_source(xy):
    x, y = xy
    w = np.linspace(0.5, 1.5, x.shape[0])
    plain, weighted = make_model(), make_model()
    plain.fit(x, y, sample_weight=w, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, batch_size=10, shuffle=False,
              verbose=0)
    weighted.fit(ArraySource(x, y, batch_size=10, sample_weight=w), class_weight={0: 1.0, 1: 2.0, 2: 0.5},
                 shuffle=False, verbose=0)
    for a, b in zip(plain.get_weights(), weighted.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_hand_written_source_and_its_mistakes(xy):
    x, y = xy

    class Halves(BatchSource):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return x[25 * i:25 * (i + 1)], y[25 * i:25 * (i + 1)]

    assert is_batch_source(Halves()) and not is_batch_source(x) and not is_batch_source([x, y])
    model = make_model()
    model.fit(Halves(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="y must be None when x is a batch source"):
        model.fit(Halves(), y, verbose=0)
    with pytest.raises(ValueError, match="validation_split cannot split a batch source"):
        model.fit(Halves(), validation_split=0.2, verbose=0)

    class OnlyImages(Halves):
        def __getitem__(self, i):
            return x[25 * i:25 * (i + 1)]

    with pytest.raises(ValueError, match=r"Batch \d of OnlyImages is a ndarray; a batch source must return"):
        model.fit(OnlyImages(), verbose=0)

    class NoLabels(Halves):  # what a prediction-only source returns
        def __getitem__(self, i):
            return (x[:4],)

    with pytest.raises(ValueError, match=r"Batch \d of NoLabels is a tuple of 1; a batch source must return"):
        model.fit(NoLabels(), verbose=0)

    class WrongWidth(Halves):
        def __getitem__(self, i):
            return np.zeros((4, 6)), np.zeros(4)

    with pytest.raises(ValueError, match=r"x \(batch \d\) has 6 features per sample"):
        model.fit(WrongWidth(), verbose=0)


def test_array_source_checks_its_arguments():
    with pytest.raises(ValueError, match="x has 3 samples but y has 2"):
        ArraySource(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        ArraySource(np.zeros((3, 2)), batch_size=0)
    with pytest.raises(IndexError, match="batch 1 is out of range for 1 batches"):
        ArraySource(np.zeros((3, 2)), batch_size=4)[1]


def test_pandas_targets_are_taken_by_position_not_by_index_label():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"f": np.arange(8.0), "label": np.arange(8) % 2}).sample(frac=1, random_state=0)
    source = ArraySource(frame[["f"]], frame["label"], batch_size=4, shuffle=True, seed=0)
    for xb, yb in source:
        np.testing.assert_array_equal(yb, xb.to_numpy().ravel().astype(int) % 2)  # each label stays with its row
    split = frame.iloc[2:]  # an index that is no longer 0..n-1, as after train_test_split
    xb, yb = ArraySource(split[["f"]], split["label"], batch_size=8, shuffle=True, seed=1)[0]
    np.testing.assert_array_equal(yb, xb.to_numpy().ravel().astype(int) % 2)


def test_a_memory_mapped_source_pickles_as_its_path(xy, tmp_path):
    import pickle

    x, y = xy
    np.save(tmp_path / "x.npy", np.tile(np.repeat(x, 100, axis=0), 10))  # 5,000 rows of 50: 1 MB
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    source = ArraySource(mapped, np.repeat(y, 100), batch_size=64, shuffle=True, seed=3)
    data = pickle.dumps(source)
    assert len(data) < mapped.nbytes / 10  # labels and shuffle order (80 kB) and a path, no rows
    copy = pickle.loads(data)
    assert isinstance(copy.x, np.memmap) and copy.x.filename == mapped.filename
    for a, b in zip(copy[7], source[7]):
        np.testing.assert_array_equal(a, b)
    # A view of a mapped file (here every other row) is not a whole file: it travels as its values.
    strided = pickle.loads(pickle.dumps(ArraySource(mapped[::2], None)))
    np.testing.assert_array_equal(strided.x, mapped[::2])


def test_a_copied_source_shuffles_on_its_own(xy):
    import copy

    x, y = xy
    source = ArraySource(x, y, batch_size=8, shuffle=True, seed=0)
    first = copy.copy(source)
    first.on_epoch_end()
    second = copy.copy(source)
    second.on_epoch_end()
    assert first.x is source.x  # the data is shared
    np.testing.assert_array_equal(first[0][0], second[0][0])  # and each copy starts where source stands
    np.testing.assert_array_equal(source[0][0], x[np.sort(np.random.default_rng(0).permutation(50)[:8])])
