"""ONNX's element-type numbers (onnx.TensorProto's), for Cast's ``to``, without importing onnx."""

from __future__ import annotations

import numpy as np

FLOAT, INT32, INT64, BOOL, DOUBLE = 1, 6, 7, 9, 11


def float_type(dtype) -> int:
    """FLOAT or DOUBLE for a float32 or float64 model."""
    return DOUBLE if np.dtype(dtype) == np.float64 else FLOAT
