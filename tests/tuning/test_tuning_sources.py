"""Searches on an image folder read batch by batch (a lazy source), in-process and in worker processes."""

import os
import pickle

import numpy as np
import pytest

import glassnet as gn
from glassnet import tuning
from glassnet.datasets import ArraySource, image_dataset_from_directory

from tuning_models import CountingImageSource, build_images, decodes, write_image_folder

pytest.importorskip("PIL.Image")

SPACE = {"units": [4, 8], "learning_rate": [0.01]}
EPOCHS, BATCH = 2, 8


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("images"))  # 32 images, 16 per class


def images(folder, **kwargs):
    return image_dataset_from_directory(folder, color_mode="grayscale", seed=0, **kwargs)


def search(x, y=None, **kwargs):
    fit = {k: kwargs.pop(k) for k in ("validation_split", "validation_data", "shuffle") if k in kwargs}
    if "validation_data" not in fit:
        fit.setdefault("validation_split", 0.25)
    tuner = tuning.Tuner(build_images, SPACE, strategy="grid", seed=0, verbose=0, **kwargs)
    return tuner.search(x, y, epochs=EPOCHS, batch_size=BATCH, **fit)


def by_units(tuner, column="val_accuracy"):
    return tuner.results.set_index("units")[column].to_dict()


def test_a_search_on_a_folder_source_scores_as_on_its_arrays(folder, tmp_path):
    in_memory = search(images(folder, shuffle=False), shuffle=False)
    source = CountingImageSource(images(folder, shuffle=False, batch_size=BATCH), tmp_path / "log")
    lazy = search(source, shuffle=False)
    # Split by files into the samples the arrays are split into, and read in the same batches:
    # the same models, bit for bit.
    assert (lazy.results["state"] == "complete").all() and len(lazy.results) == 2
    assert by_units(lazy) == by_units(in_memory)
    assert by_units(lazy, "loss") == by_units(in_memory, "loss")
    # Only whole-trial batches were decoded: each trial read its 24 training and 8 validation
    # images once per epoch, at most one batch at a time, and nothing else read the folder.
    counts = [n for _, n in decodes(tmp_path / "log")]
    assert max(counts) <= BATCH and sum(counts) == 2 * EPOCHS * 32
    # best_model retrains from the source as from the arrays.
    for a, b in zip(lazy.best_model().get_weights(), in_memory.best_model().get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_worker_processes_read_a_folder_source_lazily(folder, tmp_path):
    train, val = images(folder, batch_size=BATCH, validation_split=0.25, subset="both")  # 24 + 8 images
    # What the workers receive: the file paths, labels and settings, not the pixels (6 kB more).
    assert len(pickle.dumps(train)) < len("".join(train.file_paths)) + 2000
    serial = search(train, validation_data=val)
    # Each trial shuffles its own copy of the source, so the searches repeat, wherever and after
    # whatever each trial ran.
    assert by_units(search(train, validation_data=val), "loss") == by_units(serial, "loss")
    log = tmp_path / "workers.log"
    parallel = search(CountingImageSource(train, log), validation_data=CountingImageSource(val, log), n_workers=2)
    assert (parallel.results["state"] == "complete").all() and len(parallel.results) == 2
    assert by_units(parallel, "loss") == by_units(serial, "loss")
    assert by_units(parallel) == by_units(serial)
    seen = decodes(log)
    assert max(n for _, n in seen) <= BATCH and sum(n for _, n in seen) == 2 * EPOCHS * 32
    assert os.getpid() not in {pid for pid, _ in seen}


def test_cv_and_validation_data_with_sources(folder):
    arrays = search(images(folder, shuffle=False), shuffle=False, validation_split=0.0, cv=2)
    lazy = search(images(folder, shuffle=False, batch_size=BATCH), shuffle=False, validation_split=0.0, cv=2)
    assert by_units(lazy) == by_units(arrays)
    train, val = images(folder, batch_size=BATCH, validation_split=0.25, subset="both")
    assert (search(train, validation_data=val).results["state"] == "complete").all()


def test_what_a_source_cannot_do_is_refused_clearly(folder, tmp_path):
    x = np.zeros((16, 8, 8, 1), dtype="float32")
    arrays = ArraySource(x, np.arange(16) % 2, batch_size=BATCH)
    with pytest.raises(ValueError, match="validation_split cannot divide this batch source.*pass validation_data"):
        search(arrays)
    with pytest.raises(ValueError, match="cv cannot divide"):
        search(arrays, validation_split=0.0, cv=2)
    with pytest.raises(ValueError, match="y must be None"):
        search(arrays, np.zeros(16))
    sized = tuning.Tuner(build_images, {**SPACE, "batch_size": [4, 8]}, strategy="grid", verbose=0)
    with pytest.raises(tuning.SetupError, match="brings its own batches"):
        sized.search(images(folder, batch_size=BATCH), validation_split=0.25)
    tuner = tuning.Tuner(build_images, SPACE, strategy="grid", directory=tmp_path, verbose=0)
    with pytest.raises(ValueError, match="publish writes the data into data.npz.*batch source"):
        tuner.publish(images(folder, batch_size=BATCH), validation_split=0.25)


class InterruptOnce(gn.callbacks.Callback):
    """Raises KeyboardInterrupt (as Ctrl-C would) at the end of the 2nd epoch, once."""

    def __init__(self):
        super().__init__()
        self.fired = False

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1 and not self.fired:
            self.fired = True
            raise KeyboardInterrupt


def test_a_trial_on_a_reshuffling_source_resumes_as_if_never_interrupted(folder, tmp_path):
    def run(directory, callbacks=()):
        tuner = tuning.Tuner(build_images, {"units": [8], "learning_rate": [0.01]}, objective="loss",
                             strategy="grid", directory=directory, study_name="s", seed=0, verbose=0)
        return tuner.search(images(folder, batch_size=BATCH), validation_split=0.25, epochs=3,
                            callbacks=list(callbacks)).results

    clean = run(tmp_path / "clean").iloc[0]
    stop = InterruptOnce()
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "run", [stop])
    frame = run(tmp_path / "run", [stop])
    retry = frame[frame["retry_of"] == 0].iloc[0]
    # The source reshuffles its files after every epoch; the resumed trial's copy is brought to
    # the epoch it resumes at, so its last epoch (the best) trains on the same batches.
    assert retry["best_epoch"] == clean["best_epoch"] == 3
    assert retry["loss"] == clean["loss"] and retry["val_loss"] == clean["val_loss"]
