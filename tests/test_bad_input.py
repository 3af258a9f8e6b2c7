"""Bad input fails at once with an error that names the argument, the problem and the fix."""

import re

import numpy as np
import pandas as pd
import pytest

import glassnet as gn
from glassnet import layers

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 4)).astype("float32")
Y = np.arange(30) % 3


def _classifier(loss="sparse_categorical_crossentropy", units=3, activation="softmax"):
    model = gn.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                           layers.Dense(units, activation=activation)], seed=0)
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def _regressor(units=1):
    model = gn.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(units)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    return model


# -- the data ----------------------------------------------------------------------------------
def test_x_and_y_lengths_differ():
    with pytest.raises(ValueError, match=r"x has 30, y has 20\. Give every array one entry per sample"):
        _classifier().fit(X, Y[:20], verbose=0)


def test_validation_data_lengths_differ():
    with pytest.raises(ValueError, match=r"x_val has 30, y_val has 5"):
        _classifier().fit(X, Y, validation_data=(X, Y[:5]), verbose=0)


def test_sample_weight_length_differs():
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(30,\), one weight per sample; got \(5,\)"):
        _classifier().fit(X, Y, sample_weight=np.ones(5), verbose=0)


@pytest.mark.parametrize("call", ["fit", "predict", "evaluate"])
def test_wrong_number_of_features(call):
    model = _classifier()
    args = (X[:, :3],) if call == "predict" else (X[:, :3], Y)
    with pytest.raises(ValueError, match=r"x has 3 features per sample, but the model's input expects 4 .*"
                                         r"set input_shape on the first layer"):
        getattr(model, call)(*args)


def test_wrong_per_sample_shape():
    with pytest.raises(ValueError, match=r"x has per-sample shape \(2, 2\), but the model's input expects \(4,\)\. "
                                         r"Reshape"):
        _classifier().fit(X.reshape(30, 2, 2), Y, verbose=0)


def test_one_image_without_the_batch_axis_or_the_channel_axis():
    """predict on one image read from a file is (H, W, C), not (1, H, W, C); grayscale arrays
    often come as (N, H, W). The message said only "Reshape the data"."""
    model = gn.Sequential([gn.layers.Input((6, 5, 1)), gn.layers.Flatten(), gn.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"per-sample shape \(5, 1\).*one sample without the batch axis: "
                                         r"pass x\[None\] \(shape \(1, 6, 5, 1\)\)"):
        model.predict(np.zeros((6, 5, 1), np.float32), verbose=0)
    with pytest.raises(ValueError, match=r"per-sample shape \(6, 5\).*Add the channel axis: x\[\.\.\., None\]"):
        model.predict(np.zeros((3, 6, 5), np.float32), verbose=0)


def test_one_sample_as_a_flat_vector():
    with pytest.raises(ValueError, match=r"x has shape \(4,\).*x\.reshape\(1, -1\)"):
        _classifier().predict(X[0])


def test_flat_x_for_an_unbuilt_model():
    model = gn.Sequential([layers.Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"x has shape \(30,\), one value per sample.*x\.reshape\(-1, 1\)"):
        model.fit(X[:, 0], Y, verbose=0)


@pytest.mark.parametrize("labels, seen", [(Y + 1, "from 1 to 3"), (Y - 1, "from -1 to 1")])
def test_labels_out_of_range(labels, seen):
    with pytest.raises(ValueError, match=rf"^y: Labels out of range: found labels {seen}, but the model's last "
                                         rf"layer has 3 units, so labels must be in \[0, 2\]\. Set the last "
                                         rf"layer's units"):
        _classifier().fit(X, labels, verbose=0)


def test_fractional_labels():
    with pytest.raises(ValueError, match="labels must be whole numbers"):
        _classifier().fit(X, Y + 0.5, verbose=0)


def test_one_hot_width_differs_from_output_units():
    with pytest.raises(ValueError, match=r"^y: .*y has shape \(30, 4\) but the model outputs \(None, 3\)"):
        _classifier("categorical_crossentropy").fit(X, gn.utils.to_categorical(Y, 4), verbose=0)


def test_integer_labels_given_to_categorical_crossentropy():
    with pytest.raises(ValueError, match=r"needs one-hot targets of shape \(N, 3\).*to_categorical\(y, 3\).*"
                                         r"'sparse_categorical_crossentropy'"):
        _classifier("categorical_crossentropy").fit(X, Y, verbose=0)


def test_one_hot_targets_given_to_sparse_crossentropy():
    with pytest.raises(ValueError, match=r"y looks one-hot.*Use 'categorical_crossentropy' or y\.argmax"):
        _classifier().fit(X, gn.utils.to_categorical(Y, 3), verbose=0)


def test_multiclass_labels_given_to_binary_crossentropy():
    with pytest.raises(ValueError, match=r"binary_crossentropy targets must be in \[0, 1\].*Encode the two classes"):
        _classifier("binary_crossentropy", units=1, activation="sigmoid").fit(X, Y, verbose=0)


@pytest.mark.parametrize("where", ["x", "y", "x_val", "y_val"])
@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (np.inf, "infinite values")])
def test_nan_and_inf(where, value, word):
    data = {"x": X.copy(), "y": (X[:, :1] * 2).copy(), "x_val": X.copy(), "y_val": (X[:, :1] * 2).copy()}
    data[where][[3, 7]] = value
    with pytest.raises(ValueError, match=rf"^{where} contains {word} in 2 row\(s\) \(first at row 3\)\. "
                                         rf"Impute or drop"):
        _regressor().fit(data["x"], data["y"], validation_data=(data["x_val"], data["y_val"]), verbose=0)


def test_nan_in_predict_input():
    with pytest.raises(ValueError, match="x contains NaN"):
        _classifier().predict(np.full((2, 4), np.nan))


@pytest.mark.parametrize("call", ["fit", "predict"])
def test_empty_x(call):
    model = _classifier()
    args = (np.zeros((0, 4)),) if call == "predict" else (np.zeros((0, 4)), np.zeros(0))
    with pytest.raises(ValueError, match=r"x is empty \(shape \(0, 4\)\)"):
        getattr(model, call)(*args, **({"verbose": 0} if call == "fit" else {}))


def test_empty_y():
    with pytest.raises(ValueError, match="x has 30, y has 0"):
        _classifier().fit(X, np.zeros(0), verbose=0)


def test_single_value_y():
    with pytest.raises(ValueError, match=r"y is a single value; pass one entry per sample"):
        _classifier().fit(X, 1, verbose=0)


@pytest.mark.parametrize("x", [np.array([["a", "b", "c", "d"]] * 30),
                               pd.DataFrame({"city": ["Oslo"] * 30, "b": 1.0, "c": 2.0, "d": 3.0})],
                         ids=["strings", "pandas-object-column"])
def test_non_numeric_x(x):
    with pytest.raises(ValueError, match=r"x must be numeric, but it has dtype (<U1|object).*Encode text "
                                         r"categories as numbers first"):
        _classifier().fit(x, Y, verbose=0)


def test_non_numeric_pandas_object_column_names_the_value():
    x = pd.DataFrame({"a": 1.0, "city": ["Oslo"] * 30, "c": 2.0, "d": 3.0})
    with pytest.raises(ValueError, match="such as 'Oslo'"):
        _classifier().fit(x, Y, verbose=0)


def test_string_labels():
    with pytest.raises(ValueError, match="y must be numeric.*such as 'cat'"):
        _classifier().fit(X, pd.Series(["cat", "dog", "emu"] * 10), verbose=0)


def test_numeric_pandas_input_is_fine():
    history = _classifier().fit(pd.DataFrame(X), pd.Series(Y), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


# -- hyperparameters ---------------------------------------------------------------------------
@pytest.mark.parametrize("units", [0, -3, 2.5, "8"])
def test_dense_units(units):
    with pytest.raises(ValueError, match=rf"Dense: units must be a positive integer; got {units!r}"):
        layers.Dense(units)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_rate(rate):
    with pytest.raises(ValueError, match=rf"Dropout rate must be in \[0, 1\); got {rate}"):
        layers.Dropout(rate)


@pytest.mark.parametrize("lr", [-0.01, 0, float("nan")])
def test_learning_rate(lr):
    with pytest.raises(ValueError, match="learning_rate must be a positive number or a schedule"):
        gn.optimizers.Adam(learning_rate=lr)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "32"])
def test_batch_size(batch_size):
    with pytest.raises(ValueError, match=rf"batch_size must be a positive integer; got {batch_size!r}"):
        _classifier().fit(X, Y, batch_size=batch_size, verbose=0)


@pytest.mark.parametrize("epochs", [-1, 1.5, "3", True])
def test_epochs(epochs):
    with pytest.raises(ValueError, match=rf"epochs must be a non-negative integer; got {epochs!r}"):
        _classifier().fit(X, Y, epochs=epochs, verbose=0)


def test_initial_epoch_after_epochs():
    with pytest.raises(ValueError, match=r"initial_epoch \(5\) is after epochs \(3\)"):
        _classifier().fit(X, Y, epochs=3, initial_epoch=5, verbose=0)


@pytest.mark.parametrize("split", [0.0001, 1.0, 1.5, -0.2])
def test_validation_split(split):
    with pytest.raises(ValueError, match="validation_split"):
        _classifier().fit(X, Y, validation_split=split, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"verbose": 3}, "verbose must be 0, 1, 2 or 'auto'; got 3"),
    ({"log_every": 0}, "log_every must be a positive integer; got 0"),
    ({"validation_data": (X,)}, r"validation_data must be a tuple \(x_val, y_val\)"),
    ({"sample_weight": -np.ones(30)}, "sample_weight must be >= 0"),
    ({"class_weight": {0: 1.0, 1: 1.0}}, r"class_weight has no entry for class\(es\) \[2\]"),
])
def test_other_fit_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _classifier().fit(X, Y, **{"verbose": 0, **kwargs})


def test_random_seed():
    with pytest.raises(ValueError, match="seed must be a non-negative integer; got -1"):
        gn.utils.set_random_seed(-1)


# -- order of calls ----------------------------------------------------------------------------
def test_predict_before_build():
    model = gn.Sequential([layers.Dense(3), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"Cannot predict before the model is built: give the first layer "
                                         r"input_shape=\.\.\., start with layers\.Input\(shape\)"):
        model.predict(X)


def test_predict_with_no_layers():
    with pytest.raises(ValueError, match="Cannot predict: the model has no layers"):
        gn.Sequential().predict(X)


@pytest.mark.parametrize("call, action", [("fit", "fit"), ("evaluate", "evaluate"), ("train_on_batch", "train")])
def test_training_before_compile(call, action):
    model = gn.Sequential([layers.Dense(3, input_shape=(4,))])
    with pytest.raises(ValueError, match=rf"Cannot {action} before compile\(\): call model\.compile\(optimizer=\.\.\., "
                                         rf"loss=\.\.\.\)"):
        getattr(model, call)(X, Y)


def test_compile_without_loss():
    with pytest.raises(ValueError, match="compile needs a loss, e.g. loss="):
        gn.Sequential([layers.Dense(1, input_shape=(4,))]).compile(optimizer="adam")


def test_add_something_that_is_not_a_layer():
    with pytest.raises(TypeError, match="Sequential.add needs a glassnet layer; got str"):
        gn.Sequential().add("dense")


# -- unknown identifiers list the valid ones ---------------------------------------------------
@pytest.mark.parametrize("make, kind, valid", [
    (lambda: _regressor().compile(optimizer="adamm", loss="mse"), "optimizer", ["adam", "sgd", "rmsprop"]),
    (lambda: _regressor().compile(optimizer="adam", loss="msee"), "loss", ["mse", "mae", "binary_crossentropy"]),
    (lambda: _regressor().compile(optimizer="adam", loss="mse", metrics=["acuracy"]), "metric",
     ["accuracy", "mae", "auc"]),
    (lambda: layers.Dense(3, activation="rleu"), "activation", ["relu", "tanh", "softmax", "leaky_relu"]),
    (lambda: layers.Dense(3, kernel_initializer="glorot"), "initializer", ["glorot_uniform", "he_normal"]),
])
def test_unknown_identifier_lists_the_valid_ones(make, kind, valid):
    with pytest.raises(ValueError, match=rf"Unknown {kind} '\w+'\. Valid {kind} identifiers: ") as info:
        make()
    listed = str(info.value).split("identifiers: ")[1].rstrip(".").split(", ")
    assert set(valid) <= set(listed)


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": 3, "loss": "mse"}, "optimizer must be a name such as 'adam' or a glassnet optimizer; got int"),
    ({"optimizer": None, "loss": "mse"}, "optimizer must be a name"),
    ({"optimizer": "adam", "loss": 3}, "loss must be a name such as 'mse' or a glassnet Loss; got int"),
    ({"optimizer": "adam", "loss": "mse", "metrics": "accuracy"}, r"metrics must be a list, e.g. metrics=\['accuracy'\]"),
    ({"optimizer": "adam", "loss": "mse", "metrics": [3]}, "metrics entries must be names or Metric objects"),
])
def test_compile_arguments_of_the_wrong_type(kwargs, message):
    with pytest.raises(TypeError, match=message):
        _regressor().compile(**kwargs)


def test_a_failed_compile_leaves_the_model_as_it_was():
    model = _regressor()
    optimizer, loss = model.optimizer, model.loss
    with pytest.raises(ValueError):
        model.compile(optimizer="sgd", loss="msee")
    assert model.optimizer is optimizer and model.loss is loss


def test_activation_of_the_wrong_type_lists_the_valid_names():
    with pytest.raises(TypeError, match=r"activation must be a name such as 'relu'.*Valid names: .*tanh"):
        layers.Dense(3, activation=3)


# -- (N,) targets against (N, 1) outputs -------------------------------------------------------
def test_flat_targets_meet_single_output_without_broadcasting():
    y = X[:, 0] * 3 - X[:, 1]
    model = _regressor()
    flat, column = model.evaluate(X, y), model.evaluate(X, y.reshape(-1, 1))
    assert flat == column
    expected = float(np.mean((model.predict(X)[:, 0].astype("float64") - y) ** 2))
    assert flat == pytest.approx(expected, rel=1e-6)
    # broadcasting (N,) against (N, 1) would average all N² pairs: a very different figure
    broadcast = float(np.mean((model.predict(X) - y) ** 2))
    assert abs(flat - broadcast) > 0.1 * broadcast
    a, b = _regressor(), _regressor()
    a.fit(X, y, epochs=2, batch_size=8, verbose=0)
    b.fit(X, y.reshape(-1, 1), epochs=2, batch_size=8, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_flat_binary_labels_meet_a_sigmoid_output():
    y = (Y == 0).astype("float32")
    model = _classifier("binary_crossentropy", units=1, activation="sigmoid")
    assert model.evaluate(X, y) == model.evaluate(X, y.reshape(-1, 1))


@pytest.mark.parametrize("units, y_shape", [(1, (30, 2)), (3, (30,)), (1, (30, 1, 1)), (2, (30, 3))])
def test_mismatched_target_shape_raises(units, y_shape):
    shape = re.escape(str(tuple(y_shape)))
    with pytest.raises(ValueError, match=rf"^y: MeanSquaredError: y has shape {shape} but the model "
                                         rf"outputs \(None, {units}\)\. Give one target row per sample"):
        _regressor(units).fit(X, np.zeros(y_shape), verbose=0)


@pytest.mark.parametrize("loss", [gn.losses.MeanSquaredError(), gn.losses.MeanAbsoluteError(), gn.losses.Huber()])
def test_a_loss_called_directly_does_not_broadcast(loss):
    y_pred = np.arange(4.0).reshape(-1, 1)
    y_true = np.arange(4.0)  # equal to the predictions
    try:  # either meet as (N, 1), as a model does, or refuse: never average all N² pairs
        value, grad = loss(y_true, y_pred), loss.gradient(y_true, y_pred)
    except ValueError:
        return
    assert value == 0.0 and grad.shape == (4, 1)


def test_log_every_and_print_every_disagree():
    with pytest.raises(ValueError, match="print_every is the NNFS spelling of log_every; give one of them"):
        _classifier().fit(X, Y, log_every=2, print_every=5, verbose=0)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.Dense(2, unitz=3), r"Dense got an unknown argument 'unitz'; did you mean 'units'\?"),
    (lambda: layers.LSTM(2, implementation=2), r"LSTM got an unknown argument 'implementation'\. LSTM takes: .*units"),
    (lambda: layers.Conv2D(2, 3, data_format="channels_first"), r"Conv2D got an unknown argument 'data_format'"),
])
def test_an_unknown_layer_argument_names_the_layer_and_what_it_takes(make, match):
    """Keras code passes arguments glassnet lacks (constraints, cuDNN switches) and typos: the error
    names the layer, the argument, a close match and the accepted ones, not Layer.__init__."""
    with pytest.raises(TypeError, match=match):
        make()


def test_class_names_in_y_get_label_encoding_advice():
    model = gn.Sequential([layers.Dense(2, input_shape=(3,)), layers.Softmax()])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    x = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"LabelEncoder.*np\.unique\(y, return_inverse=True\)") as err:
        model.fit(x, np.array(["cat", "dog", "cat", "dog"]), epochs=1, verbose=0)
    assert "TextVectorization" not in str(err.value)  # that advice is for inputs, not labels


def test_sequence_of_the_wrong_length_is_told_time_steps():
    model = gn.Sequential([layers.LSTM(4, input_shape=(7, 2)), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"3 time steps per sample.*built for 7.*pad_sequences.*maxlen=7"
                                         r".*gn\.Input\(shape=\(None, 2\)\)"):
        model.predict(np.ones((2, 3, 2), np.float32), verbose=0)


def test_token_sequences_of_the_wrong_length_are_told_to_pad():
    model = gn.Sequential([layers.Embedding(10, 4, input_shape=(7,)), layers.LSTM(4), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    ids = np.ones((2, 3), np.float32)
    for call in (lambda: model.predict(ids, verbose=0), lambda: model.fit(ids, np.zeros(2), verbose=0)):
        with pytest.raises(ValueError, match=r"x has 3 features.*time steps.*pad_sequences\(sequences, maxlen=7\)"
                                             r".*gn\.Input\(shape=\(None,\)\)"):
            call()
