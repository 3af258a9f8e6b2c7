"""Helpers of the export tests: run an exported model in ONNX Runtime beside ``model.predict``."""

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

#: |ONNX Runtime - predict| <= ATOL + RTOL · |predict|, float32
ATOL = RTOL = 1e-5


def session(proto):
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def as_list(outputs) -> list:
    if isinstance(outputs, dict):
        return list(outputs.values())
    return list(outputs) if isinstance(outputs, list) else [outputs]


def run_onnx(proto, xs) -> list[np.ndarray]:
    """ONNX Runtime's outputs for input arrays ``xs`` (one array per model input, in order)."""
    sess = session(proto)
    return sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), as_list(xs))})


def assert_onnx_matches_predict(model, xs, proto=None):
    """Export ``model`` (unless ``proto`` is given), run both, compare every output."""
    import glassnet as gn

    proto = gn.export.to_onnx(model) if proto is None else proto
    if isinstance(xs, list) and not getattr(model, "is_graph", False):
        xs = xs[0]  # a Sequential takes one array
    expected = as_list(model.predict(xs))
    got = run_onnx(proto, xs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL)
    return proto


def randomize(model, seed: int = 0) -> None:
    """Every weight and statistic drawn at random (biases and moving statistics start as 0 and 1,
    which would hide a converter that drops or swaps them); variances stay positive."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for key, value in {**layer.params, **layer.state}.items():
            draw = rng.uniform(0.5, 2.0, value.shape) if "variance" in key else rng.normal(0, 0.5, value.shape)
            value[...] = draw


def raw_columns(prep, df) -> dict[str, np.ndarray]:
    """A DataFrame as an exported preprocessor's inputs, exactly as the README's recipe builds them:
    per column (N, 1), numbers as float64 (NaN where missing), categories as strings ("" where missing)."""
    feeds = {c: df[[c]].to_numpy("float64") for c in prep.numeric_columns_}
    feeds |= {c: df[[c]].fillna("").astype(str).to_numpy() for c in prep.categorical_columns_}
    return feeds
