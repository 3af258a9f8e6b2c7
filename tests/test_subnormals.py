"""No decaying state is left subnormal: optimizer slots and BatchNormalization's moving statistics.

A parameter whose gradient is exactly zero (a dead ReLU unit, a pixel that is always 0) has
slots that shrink by a constant factor every step. Without a flush they sink below the smallest
normal float and stay there (rounding keeps the last few from reaching zero), and arithmetic on
subnormals is many times slower on many CPUs. Counting them is a verdict that holds on any CPU.
"""

import numpy as np
import pytest

import glassnet as gn
from glassnet import optimizers

DTYPES = [np.float32, np.float64]
ZERO_STEPS = 300


def subnormal_count(a: np.ndarray) -> int:
    return int(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))


def every_normal_magnitude(rng, size, dtype):
    """Gradients of both signs whose magnitudes are spread log-uniformly over the whole normal
    range of ``dtype``: whatever a slot's decay rate, some of its values reach the subnormal
    range within a few steps, and some g² are subnormal at once."""
    tiny = np.finfo(dtype).tiny
    magnitude = 10.0 ** rng.uniform(np.log10(10 * tiny), 0, size)
    return (rng.choice([-1.0, 1.0], size) * magnitude).astype(dtype)


# Each optimizer with every kind of slot it can keep.
WITH_SLOTS = {
    "sgd-momentum": lambda: optimizers.SGD(0.01, momentum=0.9),
    "sgd-nesterov": lambda: optimizers.SGD(0.01, momentum=0.9, nesterov=True),
    "adagrad": lambda: optimizers.Adagrad(0.01, initial_accumulator_value=0.0),
    "rmsprop-centered-momentum": lambda: optimizers.RMSprop(0.001, momentum=0.9, centered=True),
    "adam": lambda: optimizers.Adam(),
    "adam-amsgrad": lambda: optimizers.Adam(amsgrad=True),
    "adamw": lambda: optimizers.AdamW(),
    "nadam": lambda: optimizers.Nadam(),
    "adamax": lambda: optimizers.Adamax(beta_2=0.9),  # its running maximum never falls below epsilon
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("make", WITH_SLOTS.values(), ids=WITH_SLOTS.keys())
def test_no_slot_is_subnormal_after_many_zero_gradient_steps(make, dtype):
    rng = np.random.default_rng(0)
    opt = make()
    # A kernel and a bias side by side in one buffer, as a model keeps them (updated as one flat
    # array), and a parameter of its own (updated alone).
    buffer = rng.normal(size=1100).astype(dtype)
    params = {"dense/kernel": buffer[:1000].reshape(100, 10), "dense/bias": buffer[1000:],
              "other/kernel": rng.normal(size=(30, 4)).astype(dtype)}
    grad_buffer = np.zeros_like(buffer)
    grads = {"dense/kernel": grad_buffer[:1000].reshape(100, 10), "dense/bias": grad_buffer[1000:],
             "other/kernel": np.zeros((30, 4), dtype)}
    for g in grads.values():
        g[...] = every_normal_magnitude(rng, g.shape, dtype)
    opt.apply_gradients((k, p, grads[k]) for k, p in params.items())
    for g in grads.values():
        g[...] = 0
    # After every step, not only the last: a decaying slot is flushed every few steps
    # (numerics.flush_schedule), and decay must not reach the subnormal range in between.
    for step in range(ZERO_STEPS):
        opt.apply_gradients((k, p, grads[k]) for k, p in params.items())
        slots = opt.variables()
        counts = {name: subnormal_count(a) for name, a in slots.items()}
        assert counts == dict.fromkeys(slots, 0), f"zero-gradient step {step + 1}: {counts}"
    assert slots and all(a.dtype == dtype for a in slots.values())


@pytest.mark.parametrize("decay", [0.9, 0.99, 0.999, 0.75, 0.5, 0.3, None])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_a_flush_schedule_keeps_decay_out_of_the_subnormal_range_and_flushes_little(decay, dtype):
    # Values spread just above the bound: the slowest to be flushed, the quickest to decay below
    # tiny. Between flushes they only decay, by float multiplication in the slot's dtype.
    tiny = np.finfo(dtype).tiny
    period, bound = gn.numerics.flush_schedule(decay, dtype)
    assert 1 <= period <= gn.numerics.MAX_FLUSH_PERIOD and tiny <= bound <= 2 * tiny
    a = (bound * np.linspace(1, 1.5, 1001)).astype(dtype)
    a = gn.numerics.flush_subnormals(a, below=bound)
    for _ in range(period - 1):
        a *= dtype(decay)
        assert subnormal_count(a) == 0
    if decay is not None and decay >= 0.9:
        assert period > 1  # the point of a schedule: Adam's, momentum's and RMSprop's slots


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_batch_norm_moving_statistics_of_a_constant_channel_do_not_stay_subnormal(dtype):
    tiny = float(np.finfo(dtype).tiny)
    # Moving statistics a little above the subnormal range, and a channel that is always 0: its
    # moving mean and variance decay by ``momentum`` every step.
    start = gn.initializers.Constant(100 * tiny)
    bn = gn.layers.BatchNormalization(momentum=0.9, moving_mean_initializer=start,
                                      moving_variance_initializer=start, dtype=np.dtype(dtype).name)
    x = np.random.default_rng(0).normal(size=(8, 2)).astype(dtype)
    x[:, 0] = 0
    for _ in range(ZERO_STEPS):
        bn(x, training=True)
    assert {k: subnormal_count(a) for k, a in bn.state.items()} == {"moving_mean": 0, "moving_variance": 0}
    assert bn.state["moving_variance"][1] > 0.1  # the live channel is averaged as before


def no_flush(a, *args, **kwargs):
    return a


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("make", WITH_SLOTS.values(), ids=WITH_SLOTS.keys())
def test_flushing_changes_nothing_while_no_value_is_below_the_smallest_normal(make, dtype, monkeypatch):
    """Ordinary gradients, a fifth of them zero (dead units): the same trajectory, bit for bit,
    as the formulas without a flush."""
    rng = np.random.default_rng(1)
    init = rng.normal(size=(20, 5)).astype(dtype)
    grads = [rng.normal(size=(20, 5)).astype(dtype) * (rng.random((20, 5)) > 0.2) for _ in range(30)]

    def trajectory():
        opt, param, out = make(), init.copy(), []
        for g in grads:
            opt.apply_gradients([("kernel", param, g)])
            out.append((param.copy(), opt.variables()))
        return out

    flushed = trajectory()
    monkeypatch.setattr(optimizers, "flush_subnormals", no_flush)
    for (p, slots), (p_ref, slots_ref) in zip(flushed, trajectory()):
        np.testing.assert_array_equal(p, p_ref)
        assert all(np.array_equal(slots[k], slots_ref[k]) for k in slots_ref)


def test_flush_subnormals_keeps_everything_from_the_smallest_normal_up():
    for dtype in DTYPES:
        tiny = np.finfo(dtype).tiny
        below = np.nextafter(tiny, 0, dtype=dtype)
        a = np.array([tiny, -tiny, below, -below, 1.0, -0.0, np.inf, -np.inf, np.nan], dtype)
        out = gn.numerics.flush_subnormals(a.copy())
        np.testing.assert_array_equal(out, [tiny, -tiny, 0, 0, 1.0, 0, np.inf, -np.inf, np.nan])
        nonnegative = np.array([tiny, below, 0.5], dtype)
        np.testing.assert_array_equal(gn.numerics.flush_subnormals(nonnegative, nonnegative=True),
                                      [tiny, 0, 0.5])
