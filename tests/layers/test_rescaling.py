"""Rescaling: the harness's contract checks, torch as the oracle, and raw uint8 pixels in."""

import numpy as np
import pytest
import torch

import glassnet as gn
from harness import check_layer


def test_rescaling_passes_the_layer_contract():
    check_layer(gn.layers.Rescaling(0.5, offset=-1.0), (3, 4, 2),
                torch_fn=lambda x, params: x * 0.5 - 1.0)


def test_uint8_pixels_become_floats_in_the_layer_dtype():
    y = gn.layers.Rescaling(1 / 255)(np.array([[0, 255]], dtype=np.uint8))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [[0.0, 1.0]])


def test_non_finite_scale_is_rejected():
    with pytest.raises(ValueError, match="finite"):
        gn.layers.Rescaling(float("inf"))


def test_matches_torch_on_a_float32_batch():
    x = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    expected = (torch.from_numpy(x) / 16).numpy()
    np.testing.assert_allclose(gn.layers.Rescaling(1 / 16)(x), expected, rtol=1e-6)
