"""GraphBuilder: the ONNX graph under construction, with unique names, weights and constants.

Converters (glassnet/export/converters/) only call ``node``, ``const`` and ``weight``; this is the
one module that touches the ``onnx`` package's protobuf helpers.
"""

from __future__ import annotations

import contextlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from glassnet.export import IR_VERSION, OPSET
from glassnet.export.registry import activation_converter, layer_converter

#: the symbolic size of the batch axis of every input and output.
BATCH = "batch"

_ELEMENT_TYPES = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("float64"): TensorProto.DOUBLE,
                  np.dtype("int64"): TensorProto.INT64, np.dtype("bool"): TensorProto.BOOL,
                  np.dtype(object): TensorProto.STRING}


def element_type(dtype) -> int:
    """The ONNX element type of a NumPy dtype (float32, float64, int64, bool, str)."""
    dtype = np.dtype(object) if dtype is str else np.dtype(dtype)
    return _ELEMENT_TYPES[dtype]


def value_info(name: str, dtype, shape) -> onnx.ValueInfoProto:
    """A graph input or output: ``shape`` with None for the batch axis (and any other unknown size)."""
    dims = [BATCH if i == 0 and d is None else d for i, d in enumerate(shape)]
    return helper.make_tensor_value_info(name, element_type(dtype), dims)


class GraphBuilder:
    """Collects the nodes, initializers, inputs and outputs of one ONNX graph.

    Args:
        dtype: the model's float type; ``const`` and ``weight`` store floats in it.

    Names: every node output gets a fresh name ``<scope><hint>:<n>``; a weight is named after the
    layer path and key (``block/dense/kernel``), once, so a shared layer's calls read one array.
    """

    def __init__(self, dtype="float32"):
        self.dtype = np.dtype(dtype)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.domains = {"": OPSET}
        self._used: set[str] = set()
        self._scope = ""
        self._count = 0

    # -- names ------------------------------------------------------------------------------------
    def reserve(self, name: str) -> str:
        """Claim ``name`` for a graph input or output; raises if it is taken."""
        if name in self._used:
            raise ValueError(f"The ONNX graph already has a tensor named {name!r}.")
        self._used.add(name)
        return name

    def fresh(self, hint: str) -> str:
        """A name nothing else in the graph has, built from the current scope and ``hint``."""
        while True:
            self._count += 1
            name = f"{self._scope}{hint}:{self._count}"
            if name not in self._used:
                self._used.add(name)
                return name

    @contextlib.contextmanager
    def scope(self, prefix: str):
        """Names (and weight names) made inside start with ``prefix/`` (a nested model's layers)."""
        outer = self._scope
        self._scope = f"{outer}{prefix}/"
        try:
            yield
        finally:
            self._scope = outer

    # -- tensors ----------------------------------------------------------------------------------
    def add_input(self, name: str, dtype, shape) -> str:
        self.inputs.append(value_info(self.reserve(name), dtype, shape))
        return name

    def add_output(self, tensor: str, name: str, dtype, shape) -> None:
        """Expose ``tensor`` as graph output ``name`` (an Identity node gives it that name)."""
        self.reserve(name)
        self.nodes.append(helper.make_node("Identity", [tensor], [name], name=f"output/{name}"))
        self.outputs.append(value_info(name, dtype, shape))

    def const(self, value, dtype=None, hint: str = "const") -> str:
        """An initializer holding ``value``; floats in the model's dtype unless ``dtype`` says otherwise."""
        array = np.asarray(value)
        if dtype is not None:
            array = array.astype(dtype)
        elif array.dtype.kind == "f":
            array = array.astype(self.dtype)
        name = self.fresh(hint)
        self.initializers[name] = self._tensor(array, name)
        return name

    def weight(self, layer, key: str, array: np.ndarray | None = None) -> str:
        """The initializer of ``layer``'s weight ``key`` (or of ``array`` under that name), stored once."""
        name = f"{self._scope}{layer.name}/{key}"
        if name not in self.initializers:
            value = layer.params.get(key, layer.state.get(key)) if array is None else array
            self._used.add(name)
            self.initializers[name] = self._tensor(np.asarray(value, dtype=self.dtype), name)
        return name

    @staticmethod
    def _tensor(array: np.ndarray, name: str) -> onnx.TensorProto:
        if array.dtype == object:
            return helper.make_tensor(name, TensorProto.STRING, array.shape,
                                      [str(v).encode("utf-8") for v in array.reshape(-1)])
        return numpy_helper.from_array(np.ascontiguousarray(array), name)

    def node(self, op: str, inputs: list[str], domain: str = "", **attributes) -> str:
        """Add one node with one output; returns the output's name."""
        output = self.fresh(op)
        self.nodes.append(helper.make_node(op, list(inputs), [output], name=f"node/{output}",
                                           domain=domain or None, **attributes))
        return output

    # -- layers -----------------------------------------------------------------------------------
    def layer(self, layer, x):
        """The output of ``layer`` on ``x`` (a name, or a list of names for a list-taking layer)."""
        return layer_converter(layer)(self, layer, x)

    def activation(self, function, x: str, layer) -> str:
        """``function`` (an ActivationFunction of ``layer``) applied to ``x``."""
        return activation_converter(function, layer)(self, function, x)

    # -- the model --------------------------------------------------------------------------------
    def model(self, graph_name: str, doc: str = "") -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs,
                                  initializer=list(self.initializers.values()), doc_string=doc)
        opsets = [helper.make_opsetid(domain, version) for domain, version in self.domains.items()]
        return helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION)
