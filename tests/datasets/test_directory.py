"""image_dataset_from_directory: labels from folders, splits, sizes, colours and every bad input."""

from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.datasets import ImageFolderSource, image_dataset_from_directory

Image = pytest.importorskip("PIL.Image")


def make_tree(root, counts=None, size=(6, 5), mode="L"):
    """root/<class>/<i>.png; pixel value = 40·class + i so each image is recognisable."""
    counts = counts or {"NORMAL": 3, "PNEUMONIA": 5}
    for c, (name, n) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        for i in range(n):
            value = 40 * c + i
            colour = value if mode == "L" else (value, 0, 255)
            Image.new(mode, (size[1], size[0]), colour).save(root / name / f"{i}.png")
    return root


def test_labels_follow_alphanumeric_class_folders(tmp_path):
    root = make_tree(tmp_path / "train")
    (root / "NORMAL" / "notes.txt").write_text("not an image: ignored, as Keras does")
    data = image_dataset_from_directory(root, color_mode="grayscale", seed=0)
    x, y = data
    assert data.class_names == ["NORMAL", "PNEUMONIA"]
    assert x.shape == (8, 6, 5, 1) and x.dtype == np.float32
    # Each image's value tells its class and index: the label must match its folder.
    np.testing.assert_array_equal(y, (x[:, 0, 0, 0] // 40).astype(int))
    assert sorted(x[:, 0, 0, 0].tolist()) == [0, 1, 2, 40, 41, 42, 43, 44]
    assert all(p.split("/")[-2] == data.class_names[label] for p, label in zip(data.file_paths, y))


def test_validation_split_is_disjoint_complete_and_seeded(tmp_path):
    root = make_tree(tmp_path / "train", {"a": 10, "b": 10})
    train, val = image_dataset_from_directory(root, color_mode="grayscale", validation_split=0.25,
                                              subset="both", seed=3)
    assert len(train.file_paths) == 15 and len(val.file_paths) == 5
    assert set(train.file_paths).isdisjoint(val.file_paths)
    again = image_dataset_from_directory(root, color_mode="grayscale", validation_split=0.25,
                                         subset="validation", seed=3)
    assert again.file_paths == val.file_paths
    other = image_dataset_from_directory(root, color_mode="grayscale", validation_split=0.25,
                                         subset="validation", seed=4)
    assert other.file_paths != val.file_paths


def test_resize_colour_modes_and_label_modes(tmp_path):
    root = make_tree(tmp_path / "t", size=(10, 8), mode="RGB")
    x, y = image_dataset_from_directory(root, image_size=(4, 6), shuffle=False, label_mode="categorical")
    assert x.shape == (8, 4, 6, 3) and y.shape == (8, 2) and y.sum(axis=1).tolist() == [1.0] * 8
    np.testing.assert_array_equal(x[0, 0, 0], [0, 0, 255])  # a flat colour survives resizing
    gray, labels = image_dataset_from_directory(root, color_mode="grayscale", shuffle=False, label_mode="binary")
    assert gray.shape == (8, 10, 8, 1) and labels.shape == (8, 1)
    rgba, _ = image_dataset_from_directory(root, color_mode="rgba", shuffle=False)
    assert rgba.shape[-1] == 4


def test_lazy_source_decodes_batches_and_trains(tmp_path):
    root = make_tree(tmp_path / "t", {"a": 7, "b": 6})
    source = image_dataset_from_directory(root, color_mode="grayscale", batch_size=4, seed=0)
    assert isinstance(source, ImageFolderSource) and len(source) == 4
    x, y = source[3]
    assert x.shape == (1, 6, 5, 1) and y.shape == (1,)
    model = gn.Sequential([gn.layers.Conv2D(2, 3, activation="relu", input_shape=(6, 5, 1)),
                           gn.layers.GlobalAveragePooling2D(), gn.layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(source, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(source).shape == (13, 2)


def test_mixed_sizes_without_image_size_is_a_clear_error(tmp_path):
    root = make_tree(tmp_path / "t", {"a": 2})
    Image.new("L", (9, 7)).save(root / "a" / "odd.png")
    pattern = (r"different sizes and no image_size.*2 of 6x5.*1 of 7x9 \(e\.g\. .*odd\.png\)"
               r".*image_size=\(height, width\)")
    with pytest.raises(ValueError, match=pattern):
        image_dataset_from_directory(root)
    x, _ = image_dataset_from_directory(root, image_size=(6, 5), seed=0)
    assert x.shape == (3, 6, 5, 3)


def test_corrupt_images_are_listed_by_path_not_dropped(tmp_path):
    root = make_tree(tmp_path / "t")
    (root / "NORMAL" / "broken.png").write_bytes(b"definitely not a png")
    # A truncated file whose header still reads: only decoding the pixels finds the damage.
    noise = np.random.default_rng(0).integers(0, 256, (6, 5), dtype=np.uint8)
    Image.fromarray(noise).save(root / "PNEUMONIA" / "whole.png")
    whole = (root / "PNEUMONIA" / "whole.png").read_bytes()
    (root / "PNEUMONIA" / "truncated.png").write_bytes(whole[: len(whole) - 30])
    with pytest.raises(ValueError, match=r"(?s)1 file\(s\) could not be decoded.*broken\.png.*on_invalid='warn'"):
        image_dataset_from_directory(root, seed=0)
    (root / "NORMAL" / "broken.png").unlink()
    with pytest.raises(ValueError, match=r"(?s)could not be decoded.*truncated\.png: OSError"):
        image_dataset_from_directory(root, seed=0)
    with pytest.warns(UserWarning, match=r"(?s)truncated\.png.*They were left out"):
        data = image_dataset_from_directory(root, seed=0, on_invalid="warn")
    assert len(data.file_paths) == 9 and not any("truncated" in p for p in data.file_paths)
    assert data.x.shape[0] == data.y.shape[0] == 9


def test_empty_class_folder_warns_with_its_path(tmp_path):
    root = make_tree(tmp_path / "t")
    (root / "EMPTY").mkdir()
    with pytest.warns(UserWarning, match=r"Class folder .*EMPTY holds no images.*class 0 \('EMPTY'\)"):
        data = image_dataset_from_directory(root, seed=0)
    assert data.class_names == ["EMPTY", "NORMAL", "PNEUMONIA"]


def test_labels_that_do_not_match_the_files_or_folders(tmp_path):
    root = make_tree(tmp_path / "t")
    with pytest.raises(ValueError, match="labels has 3 entries but .* holds 8 image files"):
        image_dataset_from_directory(root, labels=[0, 1, 0])
    x, y = image_dataset_from_directory(root, labels=list(range(8)), shuffle=False)
    assert y.tolist() == list(range(8))
    with pytest.raises(ValueError, match=r"class_names \['COVID'\] have no folder.*\['NORMAL', 'PNEUMONIA'\]"):
        image_dataset_from_directory(root, class_names=["NORMAL", "COVID"])
    x, y = image_dataset_from_directory(root, class_names=["PNEUMONIA", "NORMAL"], shuffle=False)
    assert y.tolist() == [0] * 5 + [1] * 3  # the given order decides the indices


@pytest.mark.parametrize("kwargs, match", [
    ({"validation_split": 0.2}, "pass subset="),
    ({"validation_split": 0.2, "subset": "training"}, "pass a seed"),
    ({"subset": "training"}, "needs a validation_split"),
    ({"color_mode": "cmyk"}, "color_mode must be one of"),
    ({"image_size": (0, 4)}, "image_size must be"),
    ({"label_mode": "sparse"}, "label_mode must be one of"),
])
def test_bad_arguments(tmp_path, kwargs, match):
    root = make_tree(tmp_path / "t")
    with pytest.raises(ValueError, match=match):
        image_dataset_from_directory(root, **kwargs)


def test_missing_or_flat_directories(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        image_dataset_from_directory(tmp_path / "nowhere")
    (tmp_path / "flat").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "flat" / "a.png")
    with pytest.raises(ValueError, match="has no class subfolders"):
        image_dataset_from_directory(tmp_path / "flat")


def test_grayscale_model_fed_rgb_images_names_the_shapes(tmp_path):
    root = make_tree(tmp_path / "t", mode="RGB")
    x, y = image_dataset_from_directory(root, seed=0)  # color_mode defaults to "rgb", as in Keras
    model = gn.Sequential([gn.layers.Conv2D(2, 3, input_shape=(6, 5, 1)), gn.layers.Flatten(),
                           gn.layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"per-sample shape \(6, 5, 3\).*\(6, 5, 1\)"):
        model.fit(x, y, verbose=0)


def test_hidden_folders_are_not_classes_and_not_searched(tmp_path):
    root = make_tree(tmp_path / "t")
    (root / ".ipynb_checkpoints").mkdir()  # Jupyter makes these beside every notebook
    Image.new("L", (5, 6)).save(root / ".ipynb_checkpoints" / "copy.png")
    (root / "NORMAL" / ".cache").mkdir()
    Image.new("L", (5, 6)).save(root / "NORMAL" / ".cache" / "copy.png")
    data = image_dataset_from_directory(root, color_mode="grayscale", shuffle=False)
    assert data.class_names == ["NORMAL", "PNEUMONIA"]
    assert data.y.tolist() == [0] * 3 + [1] * 5 and not any("copy" in p for p in data.file_paths)
    assert len(image_dataset_from_directory(root, labels=None).file_paths) == 8


def test_sixteen_bit_grayscale_keeps_its_high_byte(tmp_path):
    root = tmp_path / "t"
    values = np.array([[0, 1000, 30000, 65535]], np.uint16)
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        Image.fromarray(values).save(root / name / "x.png")  # 16-bit PNG, common for X-rays
    for mode in ("grayscale", "rgb"):
        x, _ = image_dataset_from_directory(root, color_mode=mode, shuffle=False)
        np.testing.assert_array_equal(x[0, 0, :, 0], values[0] // 256)  # not clipped to [0, 255, 255, 255]


def test_symbolic_links_are_not_followed_unless_asked_and_never_loop(tmp_path):
    root = make_tree(tmp_path / "t")
    (root / "NORMAL" / "up").symlink_to("..", target_is_directory=True)  # a loop back to the root
    data = image_dataset_from_directory(root, color_mode="grayscale", shuffle=False)
    assert len(data.file_paths) == 8  # the link is not walked: no pneumonia image counted as normal
    # Followed, the loop is walked once: NORMAL's 3 + PNEUMONIA's 5 reached through it + PNEUMONIA's 5.
    assert len(image_dataset_from_directory(root, shuffle=False, follow_links=True).file_paths) == 13
    (root / "NORMAL" / "up").unlink()
    extra = tmp_path / "elsewhere"
    extra.mkdir()
    Image.new("L", (5, 6), 7).save(extra / "linked.png")
    (root / "PNEUMONIA" / "more").symlink_to(extra, target_is_directory=True)
    assert len(image_dataset_from_directory(root, shuffle=False).file_paths) == 8
    followed = image_dataset_from_directory(root, color_mode="grayscale", shuffle=False, follow_links=True)
    assert [label for p, label in zip(followed.file_paths, followed.y) if "linked" in p] == [1]


def test_explicit_labels_follow_keras_file_order(tmp_path):
    root = tmp_path / "t"
    for folder, names in {"imgs": ["z.png", "a.png"], "imgs/sub": ["b.png"], "imgs-2": ["c.png"]}.items():
        (root / folder).mkdir(parents=True)
        for name in names:
            Image.new("L", (4, 4)).save(root / folder / name)
    data = image_dataset_from_directory(root, labels=[0, 1, 2, 3], shuffle=False)
    # Keras: folders sorted by path ("imgs" < "imgs-2" < "imgs/sub"), then files by name.
    assert [str(Path(p).relative_to(root)) for p in data.file_paths] == ["imgs/a.png", "imgs/z.png",
                                                                         "imgs-2/c.png", "imgs/sub/b.png"]
    assert data.y.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("labels, match", [
    ([0, 1, -1] + [0] * 5, r"non-negative integers.*\[-1\]"),
    ([0.2, 0.9] + [1] * 6, "non-negative integers"),
    (["cat", "dog"] + ["cat"] * 6, "non-negative integers"),
    ("infered", "labels must be 'inferred', None, or a list"),
])
def test_explicit_labels_must_be_class_indices(tmp_path, labels, match):
    root = make_tree(tmp_path / "t")
    with pytest.raises(ValueError, match=match):
        image_dataset_from_directory(root, labels=labels, label_mode="categorical")


def test_lazy_source_honours_on_invalid(tmp_path):
    root = make_tree(tmp_path / "t", {"a": 3, "b": 3})
    noise = np.random.default_rng(0).integers(0, 256, (6, 5), dtype=np.uint8)
    Image.fromarray(noise).save(root / "b" / "whole.png")
    whole = (root / "b" / "whole.png").read_bytes()
    (root / "b" / "whole.png").write_bytes(whole[: len(whole) - 30])  # the header still reads
    # Decoded once up front: the file leaves before training, so no batch comes out short
    # (or empty, for a batch of bad files only) in the middle of an epoch.
    with pytest.warns(UserWarning, match=r"(?s)whole\.png.*left out"):
        source = image_dataset_from_directory(root, color_mode="grayscale", batch_size=1, shuffle=False,
                                              on_invalid="warn")
    assert len(source) == 6 and not any("whole" in p for p in source.file_paths)
    x, y = np.concatenate([source[i][0] for i in range(6)]), np.concatenate([source[i][1] for i in range(6)])
    np.testing.assert_array_equal(y, x[:, 0, 0, 0] // 40)  # the labels left with their images
    strict = image_dataset_from_directory(root, color_mode="grayscale", batch_size=8, shuffle=False)
    with pytest.raises(ValueError, match=r"(?s)whole\.png.*on_invalid='warn'"):
        strict[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"image_size": 64}, r"image_size must be \(height, width\), two positive integers"),
    ({"image_size": (7.9, 8)}, "two positive integers"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer"),
    ({"interpolation": "cubic"}, "interpolation must be one of"),
    ({"on_invalid": "ignore"}, "on_invalid must be"),
])
def test_more_bad_arguments(tmp_path, kwargs, match):
    root = make_tree(tmp_path / "t")
    with pytest.raises(ValueError, match=match):
        image_dataset_from_directory(root, **kwargs)


def test_validation_split_zero_means_no_split(tmp_path):
    root = make_tree(tmp_path / "t")
    assert len(image_dataset_from_directory(root, validation_split=0.0, seed=0).file_paths) == 8


def test_load_images_checks_its_arguments(tmp_path):
    from glassnet.datasets.directory import load_images

    make_tree(tmp_path / "t")
    paths = sorted((tmp_path / "t").rglob("*.png"))
    with pytest.raises(ValueError, match="color_mode must be one of"):
        load_images(paths, color_mode="RGB")
    with pytest.raises(ValueError, match="on_invalid must be"):
        load_images(paths, on_invalid="ignore")


def test_image_data_goes_to_fit_evaluate_and_predict_whole(tmp_path):
    root = make_tree(tmp_path / "t", {"a": 6, "b": 6})
    train, val = image_dataset_from_directory(root, color_mode="grayscale", validation_split=0.25,
                                              subset="both", seed=0)
    model = gn.Sequential([gn.layers.Rescaling(1 / 255, input_shape=(6, 5, 1)), gn.layers.Flatten(),
                           gn.layers.Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)  # as Keras users pass datasets
    assert "val_accuracy" in history.history
    twin = gn.Sequential.from_config(model.get_config())
    twin.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    twin.set_weights(model.get_weights())
    assert model.evaluate(val) == twin.evaluate(val.x, val.y)
    np.testing.assert_array_equal(model.predict(val), model.predict(val.x))


def test_image_size_may_be_an_array(tmp_path):
    root = make_tree(tmp_path / "t")
    x, _ = image_dataset_from_directory(root, image_size=np.array([4, 3]), seed=0)
    assert x.shape[1:3] == (4, 3)


@pytest.mark.parametrize("class_names, match", [
    (["NORMAL", "NORMAL"], r"class_names lists \['NORMAL'\] more than once"),
    ("NORMAL", r"class_names must be a list of subfolder names.*got 'NORMAL'"),
])
def test_class_names_that_would_mislabel_files(tmp_path, class_names, match):
    """A repeated name read its folder twice under two labels; a string was read letter by letter."""
    root = make_tree(tmp_path / "t")
    with pytest.raises(ValueError, match=match):
        image_dataset_from_directory(root, class_names=class_names)


def test_load_images_takes_one_file_as_a_batch_of_one(tmp_path):
    """To predict on one image file: a str was read as a list of one-letter file names and a
    Path was refused as not iterable."""
    from glassnet.datasets.directory import load_images

    make_tree(tmp_path / "t")
    path = tmp_path / "t" / "PNEUMONIA" / "2.png"
    for one in (path, str(path)):
        x, kept = load_images(one, image_size=(3, 3), color_mode="grayscale")
        assert x.shape == (1, 3, 3, 1) and kept == [0] and np.all(x == 42)


def test_training_on_a_source_without_labels_says_so(tmp_path):
    """fit on image_dataset_from_directory(..., labels=None, batch_size=n) said only that a batch
    was "a tuple of 1"."""
    root = make_tree(tmp_path / "t")
    source = image_dataset_from_directory(root, labels=None, batch_size=4, color_mode="grayscale")
    model = gn.Sequential([gn.layers.Input((6, 5, 1)), gn.layers.Flatten(), gn.layers.Dense(1)])
    model.compile("adam", "mse")
    assert model.predict(source, verbose=0).shape == (8, 1)
    with pytest.raises(ValueError, match=r"is a tuple of 1;.*inputs only, as a source made without labels"):
        model.fit(source, epochs=1, verbose=0)
