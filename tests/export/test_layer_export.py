"""Every registered layer exported to ONNX and run in ONNX Runtime: the same numbers as ``predict``.

CASES holds, per layer class, small models that use it (with its options that change the ONNX
nodes); the coverage tests derive the list of layers from glassnet's registry, so a layer added
without a converter and a case here fails them.
"""

import numpy as np
import pytest
from onnx_helpers import assert_onnx_matches_predict, randomize

import glassnet as gn
from glassnet import activations, layers, nnfs
from glassnet._registry import registered
from glassnet.export import has_activation_converter, has_converter


def seq(*stack, shape):
    return gn.Sequential([layers.Input(shape), *stack], seed=0)


def merge(layer, *shapes):
    inputs = [gn.Input(s) for s in shapes]
    return gn.Model(inputs, layer(inputs), seed=0)


def nested_sequential():
    block = gn.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)), layers.Dense(3)], name="block")
    a, b = gn.Input((4,), name="left"), gn.Input((4,), name="right")
    return gn.Model([a, b], layers.Subtract()([block(a), block(b)]), seed=0)  # shared: called twice


def nested_graph_shared():
    x = gn.Input((4,))
    block = gn.Model(x, layers.Add()([x, layers.Dense(4, activation="tanh")(x)]), name="block")
    a, b = gn.Input((4,), name="left"), gn.Input((4,), name="right")
    return gn.Model([a, b], layers.Subtract()([block(a), block(block(b))]), seed=0)  # shared: three calls


def shared_dense():
    a, b = gn.Input((4,)), gn.Input((4,))
    dense = layers.Dense(3, activation="tanh")
    return gn.Model([a, b], layers.Add()([dense(a), dense(b)]), seed=0)  # one layer, two calls


def nested_graph():
    x = gn.Input((6,))
    inner = gn.Model(x, layers.Add()([x, layers.Dense(6, activation="tanh")(x)]), name="residual")
    return gn.Sequential([layers.Input((6,)), inner, layers.Dense(2, activation="softmax")], seed=0)


def masked_graph():  # Embedding's mask carried through a graph to a Bidirectional layer
    ids = gn.Input((9,), name="ids")
    x = layers.Embedding(VOCAB, 4, mask_zero=True)(ids)
    x = layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="ave")(x)
    return gn.Model(ids, layers.GlobalMaxPooling1D()(x), seed=0)


def merged_masks(merge, second_mask_zero: bool = True):
    """Two padded id sequences merged, then a recurrent layer that reads the combined mask."""
    a, b = gn.Input((9,), name="a"), gn.Input((9,), name="b")
    ea = layers.Embedding(VOCAB, 4, mask_zero=True)(a)
    eb = layers.Embedding(VOCAB, 4, mask_zero=second_mask_zero)(b)
    return gn.Model([a, b], layers.GRU(3, return_sequences=True)(merge([ea, eb])), seed=0)


def nested_masked(inner_kind):
    """A recurrent block nested as a model: it takes the Embedding's mask and hands its own on."""
    if inner_kind == "Sequential":
        inner = gn.Sequential([layers.Input((9, 4)), layers.LSTM(3, return_sequences=True)], name="block")
    else:
        x = gn.Input((9, 4))
        inner = gn.Model(x, layers.LSTM(3, return_sequences=True)(x), name="block")
    ids = gn.Input((9,))
    return gn.Model(ids, layers.GlobalAveragePooling1D()(inner(layers.Embedding(VOCAB, 4, mask_zero=True)(ids))),
                    seed=0)


def nested_graph_outputs(masked: bool = False):
    """A graph with two outputs nested in another (``a, b = inner(z)``); masked: each output hands
    the Embedding's mask on to the layer reading it."""
    x = gn.Input((9, 4) if masked else (6,))
    if masked:
        heads = [layers.LSTM(3, return_sequences=True)(x), layers.Dense(2)(x)]
    else:
        h = layers.Dense(4, activation="tanh")(x)
        heads = [layers.Dense(3)(h), layers.Dense(2, activation="softmax")(h)]
    inner = gn.Model(x, heads, name="heads")
    z = gn.Input((9,) if masked else (6,))
    a, b = inner(layers.Embedding(VOCAB, 4, mask_zero=True)(z) if masked else z)
    if masked:
        return gn.Model(z, [layers.GRU(3)(a), layers.GlobalAveragePooling1D()(b)], seed=0)
    return gn.Model(z, [layers.Dense(1)(a), b], seed=0)


def bidirectional_unmirrored():  # the two directions differ: two single-direction operators
    return seq(layers.Bidirectional(layers.LSTM(3, return_sequences=True),
                                    backward_layer=layers.GRU(2, return_sequences=True, go_backwards=True)),
               shape=(8, 3))


WORDS = np.array("the cat sat on a mat, and The Dog ran far-away! Jane".split(), dtype=object)


def text_model(*stack, **settings):
    """A TextVectorization, adapted on random sentences of WORDS, and ``stack`` after it."""
    layer = layers.TextVectorization(**settings)
    layer.adapt(random_texts(40, seed=2))
    return gn.Sequential([layers.Input((1,), dtype="string"), layer, *stack], seed=0)


def random_texts(batch: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([[" ".join(rng.choice(WORDS, rng.integers(0, 9)))] for _ in range(batch)], dtype=object)


IMAGE = (9, 10, 3)
VOCAB = 20
EMBED = dict(input_dim=VOCAB, output_dim=4)
CASES = {
    "Input": lambda: seq(shape=(4,)),
    "Dense": lambda: seq(layers.Dense(5, activation="tanh"), shape=(6,)),
    "Dense-shared": lambda: shared_dense(),
    "Dense-3d": lambda: seq(layers.Dense(5, use_bias=False), shape=(4, 6)),
    "Activation": lambda: seq(layers.Activation("sigmoid"), shape=(6,)),
    "ReLU": lambda: seq(layers.ReLU(), shape=(6,)),
    "LeakyReLU": lambda: seq(layers.LeakyReLU(0.1), shape=(6,)),
    "ELU": lambda: seq(layers.ELU(alpha=0.7), shape=(6,)),
    "Softmax": lambda: seq(layers.Softmax(axis=1), shape=(4, 5)),
    "Dropout": lambda: seq(layers.Dropout(0.5), layers.Dense(3), shape=(6,)),
    "SpatialDropout1D": lambda: seq(layers.SpatialDropout1D(0.5), shape=(7, 3)),
    "SpatialDropout2D": lambda: seq(layers.SpatialDropout2D(0.5), shape=IMAGE),
    "RandomFlip": lambda: seq(layers.RandomFlip(), shape=IMAGE),
    "RandomTranslation": lambda: seq(layers.RandomTranslation(0.1, 0.1), shape=IMAGE),
    "RandomRotation": lambda: seq(layers.RandomRotation(0.1), shape=IMAGE),
    "RandomZoom": lambda: seq(layers.RandomZoom(0.1), shape=IMAGE),
    "RandomBrightness": lambda: seq(layers.RandomBrightness(0.1), shape=IMAGE),
    "RandomContrast": lambda: seq(layers.RandomContrast(0.1), shape=IMAGE),
    "Flatten": lambda: seq(layers.Flatten(), layers.Dense(4), shape=IMAGE),
    "Reshape": lambda: seq(layers.Reshape((6, -1)), shape=(4, 3, 2)),
    "Rescaling": lambda: seq(layers.Rescaling(1 / 127.5, offset=-1), shape=IMAGE),
    "Conv2D": lambda: seq(layers.Conv2D(4, 3, padding="same", activation="relu"), shape=IMAGE),
    # stride 2 on odd and even sizes: "same" pads the odd pixel after, as TensorFlow
    "Conv2D-strided": lambda: seq(layers.Conv2D(4, (2, 3), strides=2, padding="same", use_bias=False), shape=IMAGE),
    "Conv2D-dilated": lambda: seq(layers.Conv2D(2, 3, dilation_rate=(2, 1), activation="softmax"), shape=IMAGE),
    "Conv1D": lambda: seq(layers.Conv1D(4, 5, padding="same", activation="elu"), shape=(12, 3)),
    "Conv1D-causal": lambda: seq(layers.Conv1D(4, 3, padding="causal", dilation_rate=2), shape=(12, 3)),
    "Conv1D-valid": lambda: seq(layers.Conv1D(4, 3, strides=2), shape=(12, 3)),
    # sequences of any length: "same" padding decided by the runtime (SAME_UPPER, TensorFlow's rule)
    "Conv1D-any-length": lambda: seq(layers.Conv1D(4, 4, strides=2, padding="same"), layers.Conv1D(2, 3),
                                     layers.MaxPooling1D(padding="same"), layers.GlobalMaxPooling1D(), shape=(None, 3)),
    "MaxPooling2D": lambda: seq(layers.MaxPooling2D(), shape=IMAGE),
    "MaxPooling2D-same": lambda: seq(layers.MaxPooling2D(3, strides=2, padding="same"), shape=IMAGE),
    "AveragePooling2D": lambda: seq(layers.AveragePooling2D((2, 3)), shape=IMAGE),
    "AveragePooling2D-same": lambda: seq(layers.AveragePooling2D(3, strides=2, padding="same"), shape=IMAGE),
    "MaxPooling1D": lambda: seq(layers.MaxPooling1D(3, strides=2, padding="same"), shape=(11, 3)),
    "AveragePooling1D": lambda: seq(layers.AveragePooling1D(2, padding="same"), shape=(11, 3)),
    "GlobalAveragePooling2D": lambda: seq(layers.GlobalAveragePooling2D(), shape=IMAGE),
    "GlobalMaxPooling2D": lambda: seq(layers.GlobalMaxPooling2D(keepdims=True), shape=IMAGE),
    "GlobalAveragePooling1D": lambda: seq(layers.GlobalAveragePooling1D(keepdims=True), shape=(7, 3)),
    "GlobalMaxPooling1D": lambda: seq(layers.GlobalMaxPooling1D(), shape=(7, 3)),
    "BatchNormalization": lambda: seq(layers.BatchNormalization(), shape=IMAGE),
    "BatchNormalization-axis1": lambda: seq(layers.BatchNormalization(axis=1, scale=False), shape=(4, 6)),
    "LayerNormalization": lambda: seq(layers.LayerNormalization(), shape=(6,)),
    "LayerNormalization-axes": lambda: seq(layers.LayerNormalization(axis=[1, 3], center=False), shape=IMAGE),
    "Add": lambda: merge(layers.Add(), (4,), (4,), (1,)),  # the third broadcasts
    "Subtract": lambda: merge(layers.Subtract(), (3, 4), (3, 4)),
    "Multiply": lambda: merge(layers.Multiply(), (4,), (4,), (4,)),
    "Average": lambda: merge(layers.Average(), (4,), (4,), (4,)),
    "Maximum": lambda: merge(layers.Maximum(), (4,), (4,)),
    "Minimum": lambda: merge(layers.Minimum(), (4,), (4,)),
    "Concatenate": lambda: merge(layers.Concatenate(axis=1), (2, 4), (3, 4)),
    "Dot": lambda: merge(layers.Dot(axes=(1, 2)), (5, 3), (2, 5)),
    "Dot-normalized": lambda: merge(layers.Dot(axes=-1, normalize=True), (6,), (6,)),
    "ModelLayer": nested_sequential,
    "ModelLayer-graph": nested_graph,
    "ModelLayer-graph-outputs": nested_graph_outputs,
    "ModelLayer-graph-shared": nested_graph_shared,
    "Layer_Dense": lambda: seq(nnfs.Layer_Dense(4, 3), shape=(4,)),
    "Layer_Dropout": lambda: seq(nnfs.Layer_Dropout(0.1), shape=(4,)),
    "Activation_ReLU": lambda: seq(nnfs.Activation_ReLU(), shape=(4,)),
    "Activation_Softmax": lambda: seq(nnfs.Activation_Softmax(), shape=(4,)),
    "Activation_Sigmoid": lambda: seq(nnfs.Activation_Sigmoid(), shape=(4,)),
    "Activation_Linear": lambda: seq(nnfs.Activation_Linear(), shape=(4,)),
    # -- sequences: dropout is the identity at inference; Embedding inputs are token ids with 0s
    # (padding) at the end and in the middle; Masking inputs have whole steps of mask_value.
    "Embedding": lambda: seq(layers.Embedding(**EMBED), layers.Flatten(), shape=(9,)),
    "Embedding-mask_zero": lambda: seq(layers.Embedding(**EMBED, mask_zero=True), layers.LSTM(5), shape=(9,)),
    "Embedding-any-length": lambda: seq(layers.Embedding(**EMBED, mask_zero=True), layers.GRU(3, return_sequences=True),
                                        layers.GlobalAveragePooling1D(), shape=(None,)),
    "SimpleRNN": lambda: seq(layers.SimpleRNN(5), shape=(8, 3)),
    "SimpleRNN-relu-backwards": lambda: seq(layers.SimpleRNN(4, activation="relu", return_sequences=True,
                                                             go_backwards=True, use_bias=False), shape=(8, 3)),
    "SimpleRNN-linear": lambda: seq(layers.SimpleRNN(4, activation="linear", return_sequences=True), shape=(8, 3)),
    "SimpleRNN-state": lambda: seq(layers.SimpleRNN(4, return_state=True, dropout=0.3), shape=(8, 3)),
    "LSTM": lambda: seq(layers.LSTM(5, dropout=0.2, recurrent_dropout=0.3), shape=(8, 3)),
    "LSTM-sequences-backwards": lambda: seq(layers.LSTM(4, return_sequences=True, go_backwards=True), shape=(8, 3)),
    "LSTM-state": lambda: seq(layers.LSTM(4, return_sequences=True, return_state=True), shape=(8, 3)),
    "LSTM-activations": lambda: seq(layers.LSTM(4, activation="relu", recurrent_activation="tanh", use_bias=False),
                                    shape=(8, 3)),
    "LSTM-elu": lambda: seq(layers.LSTM(4, activation=activations.ELU(0.6)), shape=(8, 3)),
    "LSTM-hard-sigmoid": lambda: seq(layers.LSTM(4, recurrent_activation="hard_sigmoid"), shape=(8, 3)),
    "HardSigmoid": lambda: seq(layers.Activation("hard_sigmoid"), shape=(6,)),
    "RepeatVector": lambda: seq(layers.Dense(3), layers.RepeatVector(4), layers.LSTM(2, return_sequences=True),
                                shape=(5,)),
    "Permute": lambda: seq(layers.Permute((2, 1)), layers.Dense(3), shape=(4, 5)),
    "UpSampling2D": lambda: seq(layers.UpSampling2D((2, 3)), shape=IMAGE),
    "ZeroPadding2D": lambda: seq(layers.ZeroPadding2D(((1, 0), (2, 1))), shape=IMAGE),
    **{f"Activation-{name}": (lambda name=name: seq(layers.Dense(5, activation=name), shape=(6,)))
       for name in ("selu", "gelu", "silu", "softplus", "softsign", "relu6", "exponential", "mish")},
    "Activation-gelu-tanh": lambda: seq(layers.Dense(5, activation=activations.GELU(approximate=True)), shape=(6,)),
    "GRU-softsign": lambda: seq(layers.GRU(4, activation="softsign", recurrent_activation="hard_sigmoid"),
                                shape=(8, 3)),
    "LSTM-any-length": lambda: seq(layers.LSTM(4, return_sequences=True), layers.Dense(2), shape=(None, 3)),
    "GRU": lambda: seq(layers.GRU(5), shape=(8, 3)),
    "GRU-leaky": lambda: seq(layers.Bidirectional(layers.GRU(4, activation=activations.LeakyReLUFunction(0.3),
                                                             return_sequences=True)), shape=(8, 3)),
    "GRU-state-backwards": lambda: seq(layers.GRU(4, return_state=True, go_backwards=True), shape=(8, 3)),
    "GRU-sequences-nobias": lambda: seq(layers.GRU(4, return_sequences=True, use_bias=False,
                                                   activation="relu"), shape=(8, 3)),
    "Bidirectional": lambda: seq(layers.Bidirectional(layers.LSTM(3, return_sequences=True)), shape=(8, 3)),
    "Bidirectional-sum": lambda: seq(layers.Bidirectional(layers.GRU(3), merge_mode="sum"), shape=(8, 3)),
    "Bidirectional-mul": lambda: seq(layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True),
                                                          merge_mode="mul"), shape=(8, 3)),
    "Bidirectional-ave": lambda: seq(layers.Bidirectional(layers.LSTM(3), merge_mode="ave"), shape=(8, 3)),
    "Bidirectional-none": lambda: seq(layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode=None),
                                      shape=(8, 3)),
    "Bidirectional-backwards-first": lambda: seq(layers.Bidirectional(layers.GRU(3, go_backwards=True,
                                                                                 return_sequences=True)),
                                                 shape=(8, 3)),
    "Bidirectional-unmirrored": bidirectional_unmirrored,
    "Bidirectional-masked": lambda: seq(layers.Masking(), layers.Bidirectional(layers.LSTM(3, return_sequences=True),
                                                                                merge_mode="sum"),
                                        layers.Bidirectional(layers.GRU(2)), shape=(8, 3)),
    "Bidirectional-masked-graph": masked_graph,
    # masks combined by merging layers, and handed through nested models (as predict does)
    "Add-masked": lambda: merged_masks(layers.Add()),
    "Minimum-masked-one-input": lambda: merged_masks(layers.Minimum(), second_mask_zero=False),
    "Concatenate-masked-time": lambda: merged_masks(layers.Concatenate(axis=1), second_mask_zero=False),
    "Concatenate-masked-features": lambda: merged_masks(layers.Concatenate(), second_mask_zero=False),
    "Concatenate-masked-both": lambda: merged_masks(layers.Concatenate()),
    "Sequential-nested-masked": lambda: nested_masked("Sequential"),
    "Model-nested-masked": lambda: nested_masked("Model"),
    "Model-nested-masked-outputs": lambda: nested_graph_outputs(masked=True),
    "Masking": lambda: seq(layers.Masking(), layers.Dense(3), layers.GRU(4, return_sequences=True),
                           layers.GlobalMaxPooling1D(), shape=(8, 3)),
    "Masking-value-backwards": lambda: seq(layers.Masking(mask_value=-1.0), layers.LSTM(4, go_backwards=True,
                                                                                      return_sequences=True),
                                           shape=(8, 3)),
    "Masking-state": lambda: seq(layers.Masking(), layers.LSTM(4, return_state=True, go_backwards=True), shape=(8, 3)),
    "Masking-unmirrored": lambda: seq(layers.Masking(), layers.Bidirectional(
        layers.SimpleRNN(3, return_sequences=True), backward_layer=layers.LSTM(2, go_backwards=True,
                                                                               return_sequences=True)), shape=(8, 3)),
    "TimeDistributed": lambda: seq(layers.TimeDistributed(layers.Dense(3, activation="relu")), shape=(8, 5)),
    "TimeDistributed-conv": lambda: seq(layers.TimeDistributed(layers.Conv2D(2, 3)), shape=(4, 6, 5, 2)),
    "TimeDistributed-masked": lambda: seq(layers.Embedding(**EMBED, mask_zero=True),
                                          layers.TimeDistributed(layers.Dense(3)), layers.SimpleRNN(3), shape=(9,)),
    # settings that export (the refused ones: tests/export/test_text_export.py)
    "TextVectorization": lambda: text_model(output_sequence_length=6),
    "TextVectorization-tf_idf": lambda: text_model(layers.Dense(3), standardize=None, output_mode="tf_idf", ngrams=2),
}


def registered_layer_classes() -> dict[str, type]:
    return {cls.__name__: cls for cls in registered("layer").values()}


def test_every_registered_layer_has_a_converter():
    missing = sorted(name for name, cls in registered_layer_classes().items() if not has_converter(cls))
    assert not missing, f"layers without an ONNX converter (glassnet/export/converters/): {missing}"


def test_every_registered_activation_has_a_converter():
    missing = sorted({cls.__name__ for cls in registered("activation").values() if not has_activation_converter(cls)})
    assert not missing, f"activations without an ONNX converter: {missing}"


def test_every_registered_layer_has_an_export_case():
    covered = {key.split("-")[0] for key in CASES}
    missing = sorted(set(registered_layer_classes()) - covered)
    assert not missing, f"layers without an export case in CASES: {missing}"


def random_inputs(model, batch: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = [t.shape for t in model.inputs] if getattr(model, "is_graph", False) else [model.input_shape]
    if model.layers[0].dtype == "string":
        return [random_texts(batch, seed)]
    xs = [rng.normal(0, 2, (batch, *(11 if d is None else d for d in shape[1:]))).astype("float32")
          for shape in shapes]
    first = next((layer for layer in model.layers if not isinstance(layer, layers.Input)), None)
    if isinstance(first, layers.Embedding):
        xs = [rng.integers(1, first.input_dim, x.shape) * padding(rng, x.shape) for x in xs]  # int64 ids
    if isinstance(first, layers.Masking):
        xs = [np.where(padding(rng, x.shape[:2])[..., None], x, np.float32(first.mask_value)) for x in xs]
    return xs


def padding(rng, shape) -> np.ndarray:
    """A (N, T) mask of kept steps: some samples padded at the end, every one with random holes,
    the first sample all padding (ONNX's sequence_lens 0)."""
    keep = rng.random(shape) > 0.3
    keep[1::3, shape[1] // 2:] = False
    keep[0] = False
    return keep


@pytest.mark.parametrize("case", sorted(CASES))
def test_onnx_runtime_gives_predicts_numbers(case):
    model = CASES[case]()
    randomize(model)
    proto = None
    for batch in (1, 37):  # one file for every batch size: the batch axis is dynamic
        proto = assert_onnx_matches_predict(model, random_inputs(model, batch), proto)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_a_float64_model_exports_in_float64():
    model = gn.Sequential([layers.Dense(3, activation="tanh", input_shape=(4,), dtype="float64"),
                           layers.BatchNormalization(dtype="float64")], seed=0)
    randomize(model)
    proto = assert_onnx_matches_predict(model, np.random.default_rng(0).normal(size=(5, 4)))
    assert proto.graph.input[0].type.tensor_type.elem_type == 11  # TensorProto.DOUBLE


def test_a_shared_layer_and_a_shared_nested_model_store_their_weights_once():
    for model in (shared_dense(), nested_sequential(), nested_graph_shared()):
        proto = gn.export.to_onnx(model)
        names = [i.name for i in proto.graph.initializer if i.name.endswith("/kernel")]
        kernels = sum(key.endswith("kernel") for layer in model.layers for key in layer.params)  # 1, then 2
        assert len(names) == len(set(names)) == kernels
