"""Export a trained model to ONNX, to run in ONNX Runtime (a web service, a phone, a browser).

``model.export("m.onnx")`` writes the model at inference (dropout and augmentation as the
identity, BatchNormalization with its moving statistics) in standard ONNX operators, opset
``OPSET``, with a dynamic batch axis, the model's input and output names, and its name and
glassnet's version in the metadata. A Sequential with an attached ``TabularPreprocessor``
exports it into the same graph, so the ONNX model takes the raw columns
(glassnet/export/preprocessor.py). Needs the ``onnx`` package: ``pip install 'glassnet[export]'``.

Example:
    >>> import numpy as np, glassnet as gn
    >>> model = gn.Sequential([gn.layers.Dense(3, activation="softmax", input_shape=(4,), name="probs")], seed=0)
    >>> proto = gn.export.to_onnx(model)
    >>> [i.name for i in proto.graph.input], [o.name for o in proto.graph.output]
    (['probs_input'], ['probs'])
"""

from __future__ import annotations

from glassnet.export.registry import (ExportError, converts, converts_activation, has_activation_converter,
                                      has_converter)

#: the ONNX operator set the exported graphs use: every operator the converters emit exists in it
#: (Softmax on any axis, ReduceMean with axes as an attribute), and ONNX Runtime 1.13 and later,
#: TensorRT 8.6 and onnxruntime-web run it.
OPSET = 17
#: the ai.onnx.ml operator set paired with OPSET (LabelEncoder, for a preprocessor's categories).
ML_OPSET = 3
#: the IR version of opset 17's release (onnx 1.12), so that older runtimes accept the file.
IR_VERSION = 8

#: what the ImportError says when the onnx package is missing
INSTALL_HINT = "ONNX export needs the onnx package (1.16 or later): pip install 'glassnet[export]'."


def require_onnx() -> None:
    """Raise an ImportError saying how to install onnx, unless it is installed."""
    try:
        import onnx  # noqa: F401
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err


def _onnx_model():
    require_onnx()
    from glassnet.export import onnx_model

    return onnx_model


def to_onnx(model, include_preprocessor: bool = True):
    """``model`` at inference as an ``onnx.ModelProto``, checked by ``onnx.checker``.

    Args:
        model: a built ``Sequential`` or ``gn.Model``.
        include_preprocessor: with an attached preprocessor, put it into the graph (inputs are
            then the raw columns); False exports the network alone (inputs are the features).

    Raises:
        ExportError: a layer, activation or preprocessor with no converter (named), or an unbuilt model.
        ImportError: the onnx package is not installed (the message says how to install it).
    """
    return _onnx_model().to_onnx(model, include_preprocessor)


def export_onnx(model, filepath, include_preprocessor: bool = True):
    """Write ``to_onnx(model, include_preprocessor)`` to ``filepath``; returns the path."""
    return _onnx_model().export_onnx(model, filepath, include_preprocessor)


__all__ = ["IR_VERSION", "ML_OPSET", "OPSET", "ExportError", "INSTALL_HINT", "converts", "converts_activation",
           "export_onnx", "has_activation_converter", "has_converter", "require_onnx", "to_onnx"]
