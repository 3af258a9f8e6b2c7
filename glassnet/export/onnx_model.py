"""A glassnet model (Sequential or ``gn.Model``, with its preprocessor) as an ONNX ModelProto."""

from __future__ import annotations

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
from glassnet.layers.reshaping import Input as InputLayer


def to_onnx(model, include_preprocessor: bool = True) -> onnx.ModelProto:
    """``model`` at inference as a checked ONNX model (see ``glassnet.export``)."""
    if not getattr(model, "built", False) or not model.layers:
        raise ExportError(f"Model {model.name!r} is not built, so its shapes and weights are unknown: give the "
                          f"first layer input_shape=..., start with layers.Input(shape) or call model.build(...).")
    is_graph = getattr(model, "is_graph", False)
    dtype = np.dtype(model.inputs[0].dtype if is_graph else model.layers[0].dtype)
    g = GraphBuilder(dtype)
    preprocessor = getattr(model, "preprocessor", None) if include_preprocessor else None
    output_shapes = [t.shape for t in model.outputs] if is_graph else [model.output_shape]
    try:
        if is_graph:
            inputs = [g.add_input(t.name, dtype, t.shape) for t in model.inputs]
        elif preprocessor is not None:
            inputs = [raw_feature_inputs(g, preprocessor)]
        else:
            first = model.layers[0]
            name = first.name if isinstance(first, InputLayer) else f"{first.name}_input"  # Keras 2's name
            inputs = [g.add_input(name, dtype, model.input_shape)]
        outputs = walk.run(g, model, inputs)
        for tensor, name, shape in zip(outputs, output_names(model, g), output_shapes):
            g.add_output(tensor, name, dtype, shape)
    except ValueError as err:
        if isinstance(err, ExportError):
            raise
        raise ExportError(f"Model {model.name!r} cannot be exported: {err}") from err
    proto = g.model(model.name, doc=f"{type(model).__name__} {model.name!r}, exported by glassnet "
                                    f"{glassnet.__version__}")
    proto.producer_name, proto.producer_version = "glassnet", glassnet.__version__
    proto.doc_string = proto.graph.doc_string
    helper.set_model_props(proto, {"model_name": model.name, "model_class": type(model).__name__,
                                   "glassnet_version": glassnet.__version__,
                                   "preprocessor": type(preprocessor).__name__ if preprocessor is not None else ""})
    onnx.checker.check_model(proto, full_check=True)  # full_check: shape inference must agree too
    return proto


def output_names(model, g) -> list[str]:
    """The outputs' names: a graph's dict keys or producing layers' names, a Sequential's last
    layer's name; ``_1``, ``_2`` ... where a name is already taken (an input's, another output's)."""
    if getattr(model, "is_graph", False):
        names = model.output_keys or model.output_names
    else:
        names = [model.layers[-1].name]
    unique = []
    for name in names:
        candidate, n = name, 0
        while candidate in unique or candidate in {i.name for i in g.inputs}:
            n += 1
            candidate = f"{name}_{n}"
        unique.append(candidate)
    return unique


def export_onnx(model, filepath, include_preprocessor: bool = True) -> Path:
    """Write ``to_onnx(model)`` to ``filepath``; returns the path."""
    path = Path(filepath)
    proto = to_onnx(model, include_preprocessor)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Cannot write {path}: the folder {path.parent} does not exist.")
    onnx.save_model(proto, str(path))
    return path
