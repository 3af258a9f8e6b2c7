"""A glassnet model (Sequential or ``gn.Model``, with its preprocessor) as an ONNX ModelProto."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import helper

import glassnet
from glassnet.export import converters  # noqa: F401  (registers every converter)
from glassnet.export import walk
from glassnet.export.builder import GraphBuilder
from glassnet.export.preprocessor import raw_feature_inputs
from glassnet.export.registry import ExportError
from glassnet.layers.embedding import Embedding
from glassnet.layers.reshaping import Input as InputLayer
from glassnet.layers.text_vectorization import TextVectorization
from glassnet.layers.wrappers import Bidirectional
from glassnet.models import data


def to_onnx(model, include_preprocessor: bool = True, include_text_vectorization: bool = True) -> onnx.ModelProto:
    """``model`` at inference as a checked ONNX model (see ``glassnet.export``)."""
    if not getattr(model, "built", False) or not model.layers:
        raise ExportError(f"Model {model.name!r} is not built, so its shapes and weights are unknown: give the "
                          f"first layer input_shape=..., start with layers.Input(shape) or call model.build(...).")
    is_graph = getattr(model, "is_graph", False)
    dtype = float_type(model)
    g = GraphBuilder(dtype)
    preprocessor = getattr(model, "preprocessor", None) if include_preprocessor else None
    output_shapes = [t.shape for t in model.outputs] if is_graph else [model.output_shape]
    left_out = {}  # TextVectorization layer -> the graph input that takes its output instead
    try:
        if not include_text_vectorization:
            inputs, outputs = _after_text_vectorization(g, model, dtype, left_out)
        else:
            if is_graph:
                inputs = [g.add_input(t.name, str if t.dtype == "string" else graph_input_dtype(model, t, dtype), t.shape)
                          for t in model.inputs]
            elif preprocessor is not None:
                inputs = [raw_feature_inputs(g, preprocessor)]
            else:
                first = model.layers[0]
                name = first.name if isinstance(first, InputLayer) else f"{first.name}_input"  # Keras 2's name
                kind = str if data.takes_text(model.layers) else input_dtype(model, dtype)
                inputs = [g.add_input(name, kind, model.input_shape)]
            outputs = walk.run(g, model, inputs)
        kinds = output_types(model, dtype)
        if not is_graph and isinstance(outputs[0], list):  # a last layer with return_state: [y, *states]
            outputs, last = outputs[0], model.layers[-1]
            state_shape = model.output_shape if isinstance(last, Bidirectional) else (None, last.units)
            output_shapes += [state_shape] * (len(outputs) - 1)  # merge_mode=None: [y_f, y_b]
            kinds += [dtype] * (len(outputs) - 1)
        for tensor, name, shape, kind in zip(outputs, output_names(model, g, len(outputs)), output_shapes, kinds):
            g.add_output(tensor, name, kind, shape)
    except ValueError as err:
        if isinstance(err, ExportError):
            raise
        raise ExportError(f"Model {model.name!r} cannot be exported: {err}") from err
    proto = g.model(model.name, doc=f"{type(model).__name__} {model.name!r}, exported by glassnet "
                                    f"{glassnet.__version__}")
    proto.producer_name, proto.producer_version = "glassnet", glassnet.__version__
    proto.doc_string = proto.graph.doc_string
    props = {"model_name": model.name, "model_class": type(model).__name__, "glassnet_version": glassnet.__version__,
             "preprocessor": type(preprocessor).__name__ if preprocessor is not None else ""}
    if left_out:
        props["text_vectorization"] = text_vectorization_metadata(left_out)
    helper.set_model_props(proto, props)
    onnx.checker.check_model(proto, full_check=True)  # full_check: shape inference must agree too
    return proto


def float_type(model) -> np.dtype:
    """The model's float type: its first input's, or past a string input, its first computing layer's."""
    kinds = [t.dtype for t in model.inputs] if getattr(model, "is_graph", False) else []
    kinds += [layer.dtype for layer in model.layers]
    return np.dtype(next(kind for kind in kinds if kind != "string"))


def output_types(model, dtype) -> list:
    """Each output's element type: int64 where a TextVectorization in int mode gives it, else ``dtype``."""
    if getattr(model, "is_graph", False):
        ids = {id(node.output) for node in model.nodes if _gives_ids(node.layer)}
        return [np.int64 if id(t) in ids else dtype for t in model.outputs]
    return [np.int64 if _gives_ids(model.layers[-1]) else dtype]


def _gives_ids(layer) -> bool:
    return isinstance(layer, TextVectorization) and layer.output_mode == "int"


def _after_text_vectorization(g, model, dtype, left_out: dict) -> tuple[list[str], list[str]]:
    """The graph without the TextVectorization layers that read the model's strings: each one's
    output is a graph input named after the layer. Fills ``left_out``; returns (inputs, outputs)."""

    def add(layer):
        left_out[layer] = g.add_input(layer.name, np.int64 if _gives_ids(layer) else dtype, layer.output_shape)
        return left_out[layer]

    if not getattr(model, "is_graph", False):
        start = next((i for i, layer in enumerate(model.layers) if isinstance(layer, TextVectorization)), None)
        if start is None:
            return _no_text_vectorization(model)
        x = given = add(model.layers[start])
        mask = None
        for layer in model.layers[start + 1:]:
            x, mask = walk.call(g, layer, x, mask)
        return [given], [x]
    given, inputs = {}, []
    for t in model.inputs:
        if t.dtype != "string":
            inputs.append(g.add_input(t.name, dtype, t.shape))
            given[id(t)] = inputs[-1]
            continue
        for node in model.nodes:  # the layers reading this string input: all TextVectorization
            if any(i is t for i in node.inputs) and isinstance(node.layer, TextVectorization):
                given[id(node.output)] = add(node.layer)
                inputs.append(given[id(node.output)])
    if not left_out:
        return _no_text_vectorization(model)
    return inputs, walk.graph(g, model, given=given)


def _no_text_vectorization(model):
    raise ExportError(f"Model {model.name!r} has no TextVectorization layer reading its own inputs (one inside a "
                      f"nested model is not left out), so include_text_vectorization=False leaves nothing out; "
                      f"export it without that option.")


def text_vectorization_metadata(left_out: dict) -> str:
    """JSON of what a deployer needs to vectorize text for the graph: per left-out layer, the ONNX
    input its output goes to and its config (settings, vocabulary with the reserved tokens, idf weights)."""
    entries = {}
    for layer, input_name in left_out.items():
        config = layer.get_config()
        for key in ("standardize", "split"):  # a function cannot travel: its name says what to reimplement
            if callable(config[key]):
                config[key] = f"function {getattr(config[key], '__qualname__', type(config[key]).__name__)}"
        entries[layer.name] = {"onnx_input": input_name, "class_name": type(layer).__name__, "config": config}
    return json.dumps(entries)


def input_dtype(model, dtype):
    """A Sequential that starts with an Embedding takes int64 token ids; any other, ``dtype``."""
    layers = [layer for layer in model.layers if not isinstance(layer, InputLayer)]
    return np.int64 if layers and type(layers[0]) is Embedding else dtype


def graph_input_dtype(model, tensor, dtype):
    """A graph's input read only by Embedding layers takes int64 token ids; any other, ``dtype``."""
    readers = [node.layer for node in model.nodes if any(t is tensor for t in node.inputs)]
    return np.int64 if readers and all(type(layer) is Embedding for layer in readers) else dtype


def output_names(model, g, count: int = 1) -> list[str]:
    """The outputs' names: a graph's dict keys or producing layers' names, a Sequential's last
    layer's name (once per output: a recurrent layer's return_state gives three); ``_1``, ``_2`` ...
    where a name is already taken (an input's, another output's)."""
    if getattr(model, "is_graph", False):
        names = model.output_keys or model.output_names
    else:
        names = [model.layers[-1].name] * count
    unique = []
    for name in names:
        candidate, n = name, 0
        while candidate in unique or candidate in {i.name for i in g.inputs}:
            n += 1
            candidate = f"{name}_{n}"
        unique.append(candidate)
    return unique


def export_onnx(model, filepath, include_preprocessor: bool = True, include_text_vectorization: bool = True) -> Path:
    """Write ``to_onnx(model)`` to ``filepath``; returns the path."""
    path = Path(filepath)
    proto = to_onnx(model, include_preprocessor, include_text_vectorization)
    if path.is_dir():
        raise IsADirectoryError(f"Cannot write {path}: it is a folder; give a file name, e.g. {path / 'model.onnx'}.")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Cannot write {path}: the folder {path.parent} does not exist.")
    onnx.save_model(proto, str(path))
    return path
