"""What a user relies on around the export: clear errors naming the problem, the metadata, the
names, and a clear install message without the onnx package."""

import sys

import numpy as np
import pytest
from onnx_helpers import onnx, run_onnx

import glassnet as gn
from glassnet import activations, layers
from glassnet.export import ExportError


class Square(layers.Layer):
    def forward(self, x, training=False):
        return x * x


class Cube(activations.ActivationFunction):
    def forward(self, x):
        return x ** 3


class ShiftedDense(layers.Dense):  # a subclass: exported as Dense it would lose its shift in silence
    def forward(self, x, training=False):
        return super().forward(x) + 1


@pytest.mark.parametrize("layer, named", [(Square(name="square"), "Square"),
                                          (ShiftedDense(2, name="shifted"), "ShiftedDense")])
def test_a_layer_without_a_converter_is_named(layer, named):
    model = gn.Sequential([layers.Dense(3, input_shape=(4,)), layer], seed=0)
    with pytest.raises(ExportError, match=f"Layer '{layer.name}' .*{named}.* has no ONNX converter.*converts"):
        gn.export.to_onnx(model)


def test_an_activation_without_a_converter_is_named():
    model = gn.Sequential([layers.Dense(3, activation=Cube(), input_shape=(4,), name="cubic")], seed=0)
    with pytest.raises(ExportError, match="Layer 'cubic' uses the activation Cube, which has no ONNX converter"):
        model.export("unused.onnx")


def test_a_registered_converter_exports_your_own_layer():
    from glassnet.export import converts

    class Twice(layers.Layer):
        def forward(self, x, training=False):
            return 2 * x

    @converts(Twice)
    def convert_twice(g, layer, x):
        return g.node("Mul", [x, g.const(2.0)])

    model = gn.Sequential([layers.Dense(3, input_shape=(4,)), Twice()], seed=0)
    x = np.ones((2, 4), dtype="float32")
    np.testing.assert_allclose(run_onnx(gn.export.to_onnx(model), [x])[0], model.predict(x), rtol=1e-6)


def test_an_unbuilt_model_is_refused():
    with pytest.raises(ExportError, match="not built.*input_shape"):
        gn.export.to_onnx(gn.Sequential([layers.Dense(3)]))


def test_another_format_is_refused(tmp_path):
    model = gn.Sequential([layers.Dense(3, input_shape=(4,))], seed=0)
    with pytest.raises(ValueError, match="format='onnx' only"):
        model.export(tmp_path / "m", format="tf_saved_model")


def test_a_missing_folder_is_named(tmp_path):
    model = gn.Sequential([layers.Dense(3, input_shape=(4,))], seed=0)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.export(tmp_path / "nowhere" / "m.onnx")


def test_a_folder_is_refused_asking_for_a_file_name(tmp_path):
    """As model.save: Keras' export writes a SavedModel folder, glassnet's one .onnx file."""
    model = gn.Sequential([layers.Dense(3, input_shape=(4,))], seed=0)
    with pytest.raises(IsADirectoryError, match="it is a folder; give a file name, e.g. .*model.onnx"):
        model.export(tmp_path)


def test_without_onnx_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    model = gn.Sequential([layers.Dense(3, input_shape=(4,))], seed=0)
    with pytest.raises(ImportError, match=r"pip install 'glassnet\[export\]'"):
        model.export("m.onnx")


def test_an_unknown_preprocessor_is_refused_with_what_to_do():
    class Halver:
        n_features_out = 4

        def transform(self, x):
            return x / 2

        def get_state(self):
            return {}, {}

        @classmethod
        def from_state(cls, state, arrays):
            return cls()

    model = gn.Sequential([layers.Dense(1, input_shape=(4,), name="score")], seed=0)
    model.attach_preprocessor(Halver())
    with pytest.raises(ExportError, match="Halver.*include_preprocessor=False"):
        gn.export.to_onnx(model)
    assert [i.name for i in gn.export.to_onnx(model, include_preprocessor=False).graph.input] == ["score_input"]


def test_metadata_opset_names_and_the_batch_axis():
    a, b = gn.Input((3,), name="table"), gn.Input((2,), name="extra")
    h = layers.Dense(4, activation="relu", name="hidden")(layers.Concatenate()([a, b]))
    model = gn.Model([a, b], {"risk": layers.Dense(1, activation="sigmoid")(h), "days": layers.Dense(1)(h)},
                     name="triage", seed=0)
    proto = gn.export.to_onnx(model)
    assert proto.producer_name == "glassnet" and proto.producer_version == gn.__version__
    assert proto.graph.name == "triage"
    assert {p.key: p.value for p in proto.metadata_props} == {
        "model_name": "triage", "model_class": "Model", "glassnet_version": gn.__version__, "preprocessor": ""}
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", gn.export.OPSET)] and gn.export.OPSET == 17
    assert [i.name for i in proto.graph.input] == ["table", "extra"]
    assert [o.name for o in proto.graph.output] == ["risk", "days"]  # the dict's keys
    assert all(v.type.tensor_type.shape.dim[0].dim_param == "batch" for v in [*proto.graph.input, *proto.graph.output])
    onnx.checker.check_model(proto, full_check=True)


def test_a_recurrent_activation_onnx_cannot_take_is_named():
    model = gn.Sequential([layers.Input((5, 2)), layers.LSTM(3, activation="softmax", name="memory")], seed=0)
    with pytest.raises(ExportError, match="Layer 'memory' \\(LSTM\\) uses the activation Softmax, which ONNX's LSTM "
                                          "operator cannot take \\(it takes tanh, sigmoid, relu, linear"):
        gn.export.to_onnx(model)


def test_a_float64_recurrent_layer_is_refused_saying_to_use_float32():
    model = gn.Sequential([layers.Input((5, 2), dtype="float64"),
                           layers.Bidirectional(layers.GRU(3, dtype="float64"), dtype="float64", name="both")], seed=0)
    with pytest.raises(ExportError, match="Layer 'both' \\(Bidirectional\\) computes in float64.*dtype='float32'"):
        gn.export.to_onnx(model)


def test_a_layer_with_its_own_mask_rule_and_no_mask_converter_is_named():
    from glassnet.export import converts
    from glassnet.export.converters.core import identity

    class KeepFirstSteps(layers.Layer):  # a mask of its own making: exported without it, it would be lost
        def forward(self, x, training=False):
            return x

        def compute_mask(self, x, mask=None):
            return np.arange(x.shape[1]) < 3

    converts(KeepFirstSteps)(identity)
    model = gn.Sequential([layers.Input((5, 2)), KeepFirstSteps(name="first3"), layers.GRU(3)], seed=0)
    with pytest.raises(ExportError, match="Layer 'first3' \\(KeepFirstSteps\\) computes its own mask.*converts_mask"):
        gn.export.to_onnx(model)
