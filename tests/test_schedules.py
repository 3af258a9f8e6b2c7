"""Learning-rate schedules: closed forms, torch.optim.lr_scheduler where one matches, configs."""

import json
import math

import numpy as np
import pytest

from glassnet import optimizers, schedules
from glassnet._registry import deserialize, serialize

STEPS = range(0, 40)


def torch_rates(make_scheduler, lr, steps):
    """The rate torch's scheduler gives at each step 0..steps-1 (stepped after each update)."""
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(torch, opt)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return rates


def test_exponential_decay_closed_form():
    s = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
    for step in STEPS:
        assert s(step) == pytest.approx(0.1 * 0.5 ** (step / 4), rel=1e-15)
    assert s(0) == 0.1 and s(4) == pytest.approx(0.05, rel=1e-15) and s(6) == pytest.approx(0.1 * 0.5**1.5, rel=1e-15)


def test_exponential_decay_staircase_holds_each_stair():
    s = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)
    assert [s(step) for step in range(9)] == [0.1] * 4 + [0.05] * 4 + [0.025]
    for step in STEPS:
        assert s(step) == pytest.approx(0.1 * 0.5 ** (step // 4), rel=1e-15)


def test_exponential_decay_matches_torch_exponential_lr():
    s = schedules.ExponentialDecay(0.2, decay_steps=1, decay_rate=0.9)
    want = torch_rates(lambda t, o: t.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 0.2, len(STEPS))
    np.testing.assert_allclose([s(step) for step in STEPS], want, rtol=1e-13)


def test_exponential_decay_staircase_matches_torch_step_lr():
    s = schedules.ExponentialDecay(0.2, decay_steps=7, decay_rate=0.3, staircase=True)
    want = torch_rates(lambda t, o: t.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.3), 0.2, len(STEPS))
    np.testing.assert_allclose([s(step) for step in STEPS], want, rtol=1e-13)


def test_inverse_time_decay_closed_form_and_nnfs_equivalence():
    s = schedules.InverseTimeDecay(0.05, decay_steps=3, decay_rate=0.2)
    for step in STEPS:
        assert s(step) == pytest.approx(0.05 / (1 + 0.2 * step / 3), rel=1e-15)
    stairs = schedules.InverseTimeDecay(0.05, decay_steps=3, decay_rate=0.2, staircase=True)
    assert [stairs(step) for step in range(7)] == pytest.approx([0.05] * 3 + [0.05 / 1.2] * 3 + [0.05 / 1.4], rel=1e-15)
    # decay_steps=1 is the NNFS book's decay, which every optimizer also takes as ``decay``.
    nnfs = schedules.InverseTimeDecay(0.05, decay_steps=1, decay_rate=1e-2)
    opt = optimizers.SGD(0.05, decay=1e-2)
    for step in STEPS:
        opt.iterations = step
        assert nnfs(step) == pytest.approx(opt.current_learning_rate, rel=1e-15)


def test_inverse_time_decay_matches_torch_lambda_lr():
    s = schedules.InverseTimeDecay(0.05, decay_steps=1, decay_rate=0.3)
    want = torch_rates(lambda t, o: t.optim.lr_scheduler.LambdaLR(o, lambda k: 1 / (1 + 0.3 * k)), 0.05, len(STEPS))
    np.testing.assert_allclose([s(step) for step in STEPS], want, rtol=1e-15)


def test_piecewise_constant_decay_boundaries_are_inclusive():
    s = schedules.PiecewiseConstantDecay(boundaries=[3, 10], values=[1.0, 0.5, 0.1])
    assert [s(step) for step in range(13)] == [1.0] * 4 + [0.5] * 7 + [0.1] * 2
    want = torch_rates(lambda t, o: t.optim.lr_scheduler.MultiStepLR(o, milestones=[4, 11], gamma=0.5), 1.0, 12)
    assert [s(step) for step in range(11)] == want[:11]


def test_cosine_decay_closed_form_and_floor():
    s = schedules.CosineDecay(0.1, decay_steps=20, alpha=0.05)
    for step in range(21):
        cosine = 0.5 * (1 + math.cos(math.pi * step / 20))
        assert s(step) == pytest.approx(0.1 * ((1 - 0.05) * cosine + 0.05), rel=1e-14)
    assert s(0) == pytest.approx(0.1, rel=1e-15)
    assert s(10) == pytest.approx(0.1 * (0.5 * 0.95 + 0.05), rel=1e-15)
    assert s(20) == pytest.approx(0.005, rel=1e-14)
    assert s(25) == s(20) == s(1000)  # stays at the floor after decay_steps


def test_cosine_decay_matches_torch_cosine_annealing():
    s = schedules.CosineDecay(0.1, decay_steps=20, alpha=0.1)
    want = torch_rates(lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=0.01), 0.1, 21)
    np.testing.assert_allclose([s(step) for step in range(21)], want, rtol=1e-13)


ALL = [
    schedules.ExponentialDecay(0.1, decay_steps=5, decay_rate=0.9, staircase=True),
    schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5),
    schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
    schedules.CosineDecay(0.1, decay_steps=100, alpha=0.01),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_config_round_trip_is_json_and_gives_the_same_rates(schedule):
    text = json.dumps(serialize(schedule))
    clone = deserialize("schedule", json.loads(text))
    assert type(clone) is type(schedule)
    assert clone.get_config() == schedule.get_config()
    assert [clone(step) for step in range(120)] == [schedule(step) for step in range(120)]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_optimizer_with_schedule_saves_and_restores_it(schedule):
    opt = optimizers.Adam(schedule)
    clone = optimizers.Adam.from_config(json.loads(json.dumps(opt.get_config())))
    assert type(clone.learning_rate) is type(schedule)
    for step in (0, 7, 15, 33):
        opt.iterations = clone.iterations = step
        assert clone.current_learning_rate == opt.current_learning_rate == schedule(step)


def test_unknown_schedule_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown schedule 'StepDecay'.*CosineDecay.*ExponentialDecay"):
        deserialize("schedule", {"class_name": "StepDecay", "config": {}})


@pytest.mark.parametrize(("make", "argument"), [
    (lambda: schedules.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5), "decay_steps"),
    (lambda: schedules.InverseTimeDecay(0.1, decay_steps=-1, decay_rate=0.5), "decay_steps"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=0), "decay_steps"),
    (lambda: schedules.ExponentialDecay(0.0, decay_steps=10, decay_rate=0.5), "initial_learning_rate"),
    (lambda: schedules.CosineDecay(-0.1, decay_steps=10), "initial_learning_rate"),
    (lambda: schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.0), "decay_rate"),
    (lambda: schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=-0.5), "decay_rate"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=10, alpha=1.5), "alpha"),
    (lambda: schedules.PiecewiseConstantDecay([5], [0.1]), "values"),
    (lambda: schedules.PiecewiseConstantDecay([10, 5], [0.1, 0.01, 0.001]), "boundaries"),
    (lambda: schedules.PiecewiseConstantDecay([5], [0.1, -0.01]), "values"),
    (lambda: schedules.ExponentialDecay("0.1", decay_steps=10, decay_rate=0.5), "initial_learning_rate"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=None), "decay_steps"),
    (lambda: schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate="fast"), "decay_rate"),
])
def test_invalid_arguments_raise_naming_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


def test_numpy_scalars_are_numbers():
    schedule = schedules.ExponentialDecay(np.float32(0.1), decay_steps=np.int64(10), decay_rate=np.float32(0.5))
    assert schedule(10) == pytest.approx(0.05)
