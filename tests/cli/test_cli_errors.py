"""Bad input: each failure exits 1 with a one-line reason (2 for usage errors), no traceback."""

import numpy as np
import pytest

from glassnet.cli import main


def run(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.err


def one_line_failure(code, err):
    assert code == 1
    assert err.startswith("glassnet: error: ") and "Traceback" not in err
    return err.splitlines()[0]


def test_missing_config(capsys, tmp_path):
    message = one_line_failure(*run(capsys, "train", tmp_path / "nope.toml"))
    assert "nope.toml does not exist" in message


def test_malformed_toml_names_the_line(capsys, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('name = "x"\n[fit]\nepochs = = 3\n')
    message = one_line_failure(*run(capsys, "train", config))
    assert "not valid TOML" in message and "line 3" in message


def test_unknown_key_names_the_key_and_line_and_suggests(capsys, tmp_path):
    config = tmp_path / "typo.toml"
    config.write_text('name = "x"\n\n[fit]\nbatch_size = 8\nepoch = 3\n')
    message = one_line_failure(*run(capsys, "train", config))
    assert "typo.toml line 5: [fit] epoch: unknown key; did you mean 'epochs'?" in message


def test_wrong_value_kind_names_the_key_and_line(capsys, tmp_path):
    config = tmp_path / "kind.toml"
    config.write_text('[fit]\nepochs = "ten"\n')
    message = one_line_failure(*run(capsys, "train", config))
    assert "line 2: [fit] epochs: must be an integer" in message


def test_unknown_layer_lists_the_valid_ones(capsys, tmp_path):
    config = tmp_path / "layer.toml"
    config.write_text('[[layers]]\ntype = "Dense"\nunits = 8\n\n[[layers]]\ntype = "Dnse"\nunits = 10\n')
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert "line 6: layers[1].type: unknown layer type 'Dnse'" in message
    assert "Conv2D" in message and "Dense" in message and "MaxPooling2D" in message


def test_bad_layer_argument_names_the_layer(capsys, tmp_path):
    config = tmp_path / "arg.toml"
    config.write_text('[[layers]]\ntype = "Dense"\nunits = 8\nunitz = 8\n')
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert "layers[0].type: Dense:" in message and "unitz" in message


def test_data_that_does_not_match_the_model(capsys, default_run, tmp_path):
    _, _, folder = default_run
    np.savetxt(tmp_path / "narrow.csv", np.ones((4, 6)), delimiter=",", header="a,b,c,d,e,y", comments="")
    message = one_line_failure(*run(capsys, "evaluate", folder / "model.glassnet", tmp_path / "narrow.csv",
                                    "--target", "y"))
    assert "(5,)" in message and "(8, 8)" in message and "does not fit" in message
    np.savez(tmp_path / "x.npz", x=np.ones((3, 28, 28)))
    message = one_line_failure(*run(capsys, "predict", folder / "model.glassnet", tmp_path / "x.npz",
                                    "-o", tmp_path / "p.csv"))
    assert "does not fit" in message


def test_an_output_folder_that_cannot_be_written(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    message = one_line_failure(*run(capsys, "train", "--out", blocker / "runs"))
    assert "cannot write the run folder" in message and str(blocker) in message


def test_debug_shows_the_traceback(capsys, tmp_path):
    code, err = run(capsys, "train", tmp_path / "nope.toml", "--debug")
    assert code == 1 and "Traceback" in err and "glassnet: error:" in err


@pytest.mark.parametrize("args", [["train", "--epochs", "-1"], ["train", "--epochs", "ten"], ["nosuchcommand"],
                                  ["evaluate"], ["summary", "/no/such/model.glassnet"]])
def test_usage_errors_exit_2(capsys, args):
    code, err = run(capsys, *args)
    assert code == 2 and "Usage:" in err or "Error:" in err
    assert code == 2


def test_a_file_that_is_not_a_model(capsys, tmp_path):
    bogus = tmp_path / "model.glassnet"
    bogus.write_bytes(b"hello")
    one_line_failure(*run(capsys, "inspect", bogus))


def test_an_error_in_a_repeated_layer_names_its_own_line(capsys, tmp_path):
    # Both layers say type = "Dense": the second one's error must point at line 6, not line 2.
    config = tmp_path / "twice.toml"
    config.write_text('[[layers]]\ntype = "Dense"\nunits = 8\n\n[[layers]]\ntype = "Dense"\nunits = 10\nunitz = 1\n')
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert "line 6: layers[1].type: Dense:" in message and "unitz" in message


def test_a_misspelt_class_weight_is_refused_not_ignored(capsys, tmp_path):
    config = tmp_path / "weights.toml"
    config.write_text('[fit]\nepochs = 1\nclass_weight = "balancd"\n')
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert "line 3: [fit] class_weight: must be \"balanced\" or a table" in message and "'balancd'" in message


def test_class_weight_is_keyed_by_class_name_or_index():
    from glassnet.cli.config import ConfigError
    from glassnet.cli.train import _class_weight

    y, names = np.array([0, 1, 1, 0]), ["<=50K", ">50K"]
    assert _class_weight({"<=50K": 1, ">50K": 3.0}, y, names) == {0: 1.0, 1: 3.0}
    assert _class_weight({"1": 2.5}, y, names) == {1: 2.5}
    with pytest.raises(ConfigError, match=r"'>50' is not a class of the data.*0 \('<=50K'\), 1 \('>50K'\)"):
        _class_weight({">50": 3.0}, y, names)
    with pytest.raises(ConfigError, match="'2' is not a class"):
        _class_weight({"2": 3.0}, y, names)
    with pytest.raises(ConfigError, match="non-negative number"):
        _class_weight({"1": -1.0}, y, names)


@pytest.mark.parametrize("data, expected", [
    ('source = "csv"\npath = "absent.csv"\ntarget = "y"',
     "[data] path: absent.csv does not exist (relative paths are read from the current folder"),
    ('source = "npz"\npath = "{tmp}"', "is a folder; source = 'npz' reads a file"),
    ('source = "image_folder"\npath = "{tmp}/run.toml"', "is a file; source = 'image_folder' reads a folder"),
    ('source = "fashion_mnist"\npath = "{tmp}/absent"', "[data] path: {tmp}/absent does not exist"),
])
def test_a_missing_data_file_names_the_key_and_the_fix(capsys, tmp_path, data, expected):
    config = tmp_path / "run.toml"
    config.write_text(f"[data]\n{data.format(tmp=tmp_path.as_posix())}\n")
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert expected.format(tmp=tmp_path.as_posix()) in message


def test_test_path_where_the_source_cannot_read_one(capsys, tmp_path):
    np.savez(tmp_path / "xy.npz", x=np.ones((8, 3)), y=np.arange(8) % 2)
    config = tmp_path / "run.toml"
    config.write_text(f'[data]\nsource = "npz"\npath = "{(tmp_path / "xy.npz").as_posix()}"\n'
                      f'test_path = "{(tmp_path / "xy.npz").as_posix()}"\n')
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert "[data] test_path: source = 'npz' has no separate test file; use test_size" in message


def test_class_names_of_the_wrong_length_are_refused(capsys, tmp_path):
    """Two names for digits' ten classes named the wrong classes and cut the confusion matrix to 2x2."""
    config = tmp_path / "run.toml"
    config.write_text('[data]\nsource = "digits"\nclass_names = ["zero", "one"]\n[fit]\nepochs = 1\n')
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert "[data] class_names has 2 name(s) but the labels run from 0 to 9; give one name per class" in message


@pytest.mark.parametrize("data, key", [
    ('source = "fashion_mnist"\nimage_size = [32, 32]', "image_size"),
    ('source = "digits"\ncolor_mode = "rgb"', "color_mode"),
    ('source = "image_folder"\ntarget = "label"', "target"),
])
def test_a_data_key_the_source_does_not_read_is_refused(capsys, tmp_path, data, key):
    """image_size with MNIST did not resize it, silently; such keys are now named."""
    config = tmp_path / "run.toml"
    config.write_text(f"[data]\n{data}\n")
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert f"line 3: [data] {key}: source = " in message and f"does not read {key} (the sources that do:" in message


def test_idx_images_and_labels_of_different_counts(capsys, tmp_path):
    """A labels file from another split failed later with an unrelated message (an index out of
    bounds, or a split of the wrong size)."""
    from glassnet.datasets.readers import read_idx

    def write_idx(path, array):
        header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
        path.write_bytes(header + array.astype(np.uint8).tobytes())
        assert read_idx(path).shape == array.shape

    write_idx(tmp_path / "images.idx", np.zeros((6, 4, 4)))
    write_idx(tmp_path / "labels.idx", np.arange(4) % 2)
    config = tmp_path / "run.toml"
    config.write_text(f'[data]\nsource = "idx"\ntrain_images = "{(tmp_path / "images.idx").as_posix()}"\n'
                      f'train_labels = "{(tmp_path / "labels.idx").as_posix()}"\n')
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert "[data] train_images holds 6 images but train_labels holds 4 labels" in message


def test_npz_samples_and_labels_of_different_counts(capsys, tmp_path):
    np.savez(tmp_path / "xy.npz", x=np.zeros((6, 3)), y=np.arange(5) % 2)
    config = tmp_path / "run.toml"
    config.write_text(f'[data]\nsource = "npz"\npath = "{(tmp_path / "xy.npz").as_posix()}"\n')
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert "xy.npz holds 6 training samples but 5 labels" in message


def test_a_failed_run_says_why_in_its_log(capsys, tmp_path):
    """The run folder of a failed run held a train.log that stopped at "Loading data ..."."""
    config = tmp_path / "run.toml"
    config.write_text('[data]\nsource = "csv"\npath = "absent.csv"\ntarget = "y"\n')
    one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    (folder,) = (tmp_path / "runs").iterdir()
    assert (folder / "train.log").read_text().splitlines()[-1].startswith("glassnet: error: [data] path: absent.csv")


def test_a_table_option_for_data_that_is_not_a_table_is_refused(capsys, tmp_path):
    """[preprocessing] drop reaches only a CSV's TabularPreprocessor; elsewhere it did nothing, silently."""
    config = tmp_path / "run.toml"
    config.write_text('[data]\nsource = "digits"\n[preprocessing]\ndrop = ["x"]\n')
    message = one_line_failure(*run(capsys, "train", config, "--out", tmp_path / "runs"))
    assert "line 4: [preprocessing] drop: applies to CSV tables" in message and "source = 'digits'" in message
