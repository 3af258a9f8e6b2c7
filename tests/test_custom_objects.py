"""Your own classes in saved models: custom_objects reaches nested objects (a schedule inside an
optimizer, an activation inside a layer), on load_model and on resuming from a backup."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.saving import ModelFileError, custom_object_scope


class Warmup(gn.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup`` steps, then constant."""

    def __init__(self, peak=0.01, warmup=10):
        self.peak, self.warmup = peak, warmup

    def __call__(self, step):
        return self.peak * min(1.0, (step + 1) / self.warmup)

    def get_config(self):
        return {"peak": self.peak, "warmup": self.warmup}


class Cube(gn.activations.ActivationFunction):
    """Math: y = x³; dx = grad · 3x². Sets no ``name``: it inherits the base class's."""

    def forward(self, x):
        self._x = x
        return x ** 3

    def backward(self, grad):
        return grad * 3 * self._x ** 2


class Scaled(gn.activations.ActivationFunction):
    """Math: y = k·x; dx = k·grad. A required argument: no default instance exists."""

    name = "scaled"

    def __init__(self, k):
        self.k = k

    def forward(self, x):
        return self.k * x

    def backward(self, grad):
        return self.k * grad

    def get_config(self):
        return {"k": self.k}


class LoudReLU(gn.activations.ReLU):
    """A subclass of a built-in: it inherits the name "relu" of a different class."""

    def forward(self, x):
        return 2 * super().forward(x)

    def backward(self, grad):
        return 2 * super().backward(grad)


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")


def _model(optimizer=None, activation="relu", seed=0):
    model = gn.Sequential([layers.Dense(4, activation=activation, input_shape=(3,)), layers.Dense(1)], seed=seed)
    model.compile(optimizer=optimizer or gn.optimizers.Adam(Warmup()), loss="mse")
    return model


def _same_weights(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


# -- load_model ----------------------------------------------------------------------------------------
def test_a_custom_schedule_inside_the_optimizer_loads_and_training_continues_exactly(tmp_path):
    x, y = _data()
    reference = _model()
    reference.fit(x, y, epochs=4, batch_size=8, verbose=0)

    first = _model()
    first.fit(x, y, epochs=2, batch_size=8, verbose=0)
    first.save(tmp_path / "m.glassnet")
    resumed = gn.load_model(tmp_path / "m.glassnet", custom_objects={"Warmup": Warmup})
    schedule = resumed.optimizer.learning_rate
    assert type(schedule) is Warmup and schedule.get_config() == {"peak": 0.01, "warmup": 10}
    resumed.fit(x, y, epochs=4, initial_epoch=resumed._epochs_completed, batch_size=8, verbose=0)
    assert _same_weights(resumed, reference)
    assert resumed.optimizer.current_learning_rate == reference.optimizer.current_learning_rate


@pytest.mark.parametrize("make", [Cube, lambda: Scaled(k=0.5), LoudReLU], ids=["Cube", "Scaled", "LoudReLU"])
def test_a_custom_activation_inside_a_layer_loads_as_its_own_class(tmp_path, make):
    x, _ = _data()
    model = _model(optimizer="adam", activation=make())
    model.save(tmp_path / "m.glassnet")
    name = type(make()).__name__
    loaded = gn.load_model(tmp_path / "m.glassnet", custom_objects={name: type(make())})
    activation = loaded.layers[0].activation
    assert type(activation) is type(make()) and activation.get_config() == make().get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_a_subclass_of_a_built_in_activation_is_not_saved_as_the_built_in():
    # LoudReLU inherits name "relu": written as that name it would load as a plain ReLU.
    config = layers.Dense(2, activation=LoudReLU()).get_config()
    assert config["activation"] == {"class_name": "LoudReLU", "config": {}}
    assert layers.Dense(2, activation="relu").get_config()["activation"] == "relu"


@pytest.mark.parametrize("kind, name, make_model", [
    ("schedule", "Warmup", lambda: _model()),
    ("activation", "Cube", lambda: _model(optimizer="adam", activation=Cube())),
])
def test_a_class_missing_from_custom_objects_is_named_in_the_error(tmp_path, kind, name, make_model):
    make_model().save(tmp_path / "m.glassnet")
    for custom_objects in (None, {"Other": Warmup}):
        with pytest.raises(ModelFileError, match=rf"Unknown {kind} '{name}'.*custom_objects=\{{'{name}'"):
            gn.load_model(tmp_path / "m.glassnet", custom_objects=custom_objects)


def test_custom_objects_must_be_a_dict(tmp_path):
    _model().save(tmp_path / "m.glassnet")
    with pytest.raises(TypeError, match="custom_objects must be a dict of name -> class"):
        gn.load_model(tmp_path / "m.glassnet", custom_objects=[Warmup])


# -- custom_object_scope ---------------------------------------------------------------------------------
def test_the_scope_reaches_nested_objects_and_ends_with_the_block():
    model = _model(activation=Cube())
    config, compile_config = model.get_config(), model.get_compile_config()
    with custom_object_scope({"Warmup": Warmup, "Cube": Cube}):
        clone = gn.Sequential.from_config(config)
        optimizer = gn.optimizers.get(compile_config["optimizer"])
    assert type(clone.layers[0].activation) is Cube and type(optimizer.learning_rate) is Warmup
    with pytest.raises(ValueError, match="Unknown schedule 'Warmup'"):
        gn.optimizers.get(compile_config["optimizer"])


def test_a_custom_objects_argument_reaches_nested_objects_too():
    config = _model(optimizer="adam", activation=Cube()).get_config()
    clone = gn.Sequential.from_config(config, custom_objects={"Cube": Cube})
    assert type(clone.layers[0].activation) is Cube


def test_inner_scopes_win_and_the_outer_scope_comes_back():
    class Other(Warmup):
        pass

    spec = gn.optimizers.Adam(Warmup()).get_config()
    with custom_object_scope({"Warmup": Warmup}):
        with custom_object_scope({"Warmup": Other}):
            assert type(gn.optimizers.Adam.from_config(spec).learning_rate) is Other
        assert type(gn.optimizers.Adam.from_config(spec).learning_rate) is Warmup


# -- resuming ---------------------------------------------------------------------------------------------
class _Crash(gn.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("simulated crash")


def test_backup_and_restore_resumes_a_model_with_a_custom_schedule(tmp_path):
    x, y = _data()
    fit = dict(x=x, y=y, epochs=4, batch_size=8, verbose=0)
    reference = _model()
    reference.fit(**fit)

    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="simulated crash"):
        _model().fit(**fit, callbacks=[gn.callbacks.BackupAndRestore(backup), _Crash()])
    resumed = _model()  # compiled with Warmup again: that is all the restore needs
    history = resumed.fit(**fit, callbacks=[gn.callbacks.BackupAndRestore(backup)])
    assert history.epoch == [2, 3]
    assert _same_weights(resumed, reference)
    assert type(resumed.optimizer.learning_rate) is Warmup


def test_restore_training_state_takes_custom_objects_for_a_schedule_the_model_lacks(tmp_path):
    x, y = _data()
    saved = _model()
    saved.fit(x, y, epochs=1, batch_size=8, verbose=0)
    saved.save(tmp_path / "m.glassnet")

    model = _model(optimizer=gn.optimizers.Adam(0.01))
    with pytest.raises(ModelFileError, match=r"Unknown schedule 'Warmup'.*custom_objects"):
        gn.saving.restore_training_state(model, tmp_path / "m.glassnet")
    assert gn.saving.restore_training_state(model, tmp_path / "m.glassnet", custom_objects={"Warmup": Warmup}) == 1
    assert type(model.optimizer.learning_rate) is Warmup
    assert _same_weights(model, saved) and model.optimizer.iterations == saved.optimizer.iterations
