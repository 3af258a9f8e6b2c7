"""Optimizers: trajectories against torch.optim in float64, clipping, state and config round trips.

Every oracle test runs the same small problem in both libraries: a few parameter tensors of
different shapes, each pulled towards a target by a quadratic with its own curvature, plus a
fixed per-step perturbation (a stand-in for minibatch noise). The gradient depends on the
current parameters, so any difference in an update shows up in every later step.
"""

import copy
import json
import pickle

import numpy as np
import pytest

import glassnet as gn
from glassnet import optimizers, schedules

STEPS = 10
SHAPES = {"dense/kernel": (3, 4), "dense/bias": (4,), "conv/kernel": (2, 2, 3)}
#: float64 oracle tolerance: the two libraries round differently (lerp vs two products, a
#: reciprocal vs a division), a few ulps per step.
RTOL, ATOL = 1e-12, 1e-14


class Problem:
    """Parameters, and grad(key, p, t) = scale · (c ⊙ (p - target) + noise_t)."""

    def __init__(self, seed=0, scale=None):
        rng = np.random.default_rng(seed)
        self.init = {k: rng.normal(size=s) for k, s in SHAPES.items()}
        self.curvature = {k: rng.uniform(0.5, 2.0, size=s) for k, s in SHAPES.items()}
        self.target = {k: rng.normal(size=s) for k, s in SHAPES.items()}
        self.noise = [{k: rng.normal(scale=0.3, size=s) for k, s in SHAPES.items()} for _ in range(2 * STEPS)]
        self.scale = scale or dict.fromkeys(SHAPES, 1.0)

    def grad(self, key, p, t):
        return self.scale[key] * (self.curvature[key] * (p - self.target[key]) + self.noise[t][key])


def run_glassnet(opt, problem, steps=STEPS, params=None, start=0):
    params = {k: v.copy() for k, v in (params or problem.init).items()}
    trajectory = []
    for t in range(start, start + steps):
        opt.apply_gradients((k, p, problem.grad(k, p, t)) for k, p in params.items())
        trajectory.append({k: p.copy() for k, p in params.items()})
    return trajectory


def run_torch(make_opt, problem, steps=STEPS, make_scheduler=None, clip=None):
    """``make_opt(params)``; ``make_scheduler(opt)`` stepped after every update; ``clip(tensors)``."""
    import torch

    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in problem.init.items()}
    opt = make_opt(list(params.values()))
    scheduler = make_scheduler(opt) if make_scheduler else None
    trajectory = []
    for t in range(steps):
        for k, p in params.items():
            p.grad = torch.from_numpy(problem.grad(k, p.detach().numpy().copy(), t))
        if clip:
            clip(params)
        opt.step()
        if scheduler:
            scheduler.step()
        trajectory.append({k: p.detach().numpy().copy() for k, p in params.items()})
    return trajectory


def assert_same_trajectory(ours, theirs, rtol=RTOL, atol=ATOL):
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs)):
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=atol, err_msg=f"step {t + 1}, {key}")


def nnfs_decay(decay):
    """torch's equivalent of lr / (1 + decay · t): LambdaLR stepped after every update."""
    import torch

    return lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (1.0 + decay * t))


# (id, glassnet optimizer from **kwargs, torch optimizer from (params, lr))
CASES = [
    ("sgd", lambda **kw: optimizers.SGD(0.1, **kw), lambda t, p: t.optim.SGD(p, lr=0.1)),
    ("sgd-momentum", lambda **kw: optimizers.SGD(0.05, momentum=0.9, **kw),
     lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("sgd-nesterov", lambda **kw: optimizers.SGD(0.05, momentum=0.8, nesterov=True, **kw),
     lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    ("sgd-weight-decay", lambda **kw: optimizers.SGD(0.05, momentum=0.5, weight_decay=0.1, **kw),
     lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("adagrad", lambda **kw: optimizers.Adagrad(0.3, initial_accumulator_value=0.1, epsilon=1e-7, **kw),
     lambda t, p: t.optim.Adagrad(p, lr=0.3, initial_accumulator_value=0.1, eps=1e-7)),
    ("adagrad-zero-accumulator-weight-decay",
     lambda **kw: optimizers.Adagrad(0.3, initial_accumulator_value=0.0, epsilon=1e-3, weight_decay=0.05, **kw),
     lambda t, p: t.optim.Adagrad(p, lr=0.3, initial_accumulator_value=0.0, eps=1e-3, weight_decay=0.05)),
    ("rmsprop", lambda **kw: optimizers.RMSprop(0.01, rho=0.8, epsilon=1e-7, **kw),
     lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.8, eps=1e-7)),
    ("rmsprop-momentum", lambda **kw: optimizers.RMSprop(0.01, rho=0.9, momentum=0.9, epsilon=1e-4, **kw),
     lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.9, eps=1e-4)),
    ("rmsprop-centered",
     lambda **kw: optimizers.RMSprop(0.01, rho=0.9, momentum=0.5, centered=True, epsilon=1e-7, **kw),
     lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True, eps=1e-7)),
    ("rmsprop-weight-decay", lambda **kw: optimizers.RMSprop(0.01, weight_decay=0.2, epsilon=1e-7, **kw),
     lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, weight_decay=0.2, eps=1e-7)),
    ("adam-defaults", lambda **kw: optimizers.Adam(**kw),
     lambda t, p: t.optim.Adam(p, lr=0.001, betas=(0.9, 0.999), eps=1e-7)),
    ("adam", lambda **kw: optimizers.Adam(0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-7, **kw),
     lambda t, p: t.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-7)),
    # A large epsilon makes the convention visible: ε after bias correction (torch) differs from
    # Keras' ε-hat by a factor √(1-β₂ᵗ) on ε, large in the first steps.
    ("adam-large-epsilon", lambda **kw: optimizers.Adam(0.05, epsilon=0.5, **kw),
     lambda t, p: t.optim.Adam(p, lr=0.05, eps=0.5)),
    ("adam-amsgrad", lambda **kw: optimizers.Adam(0.05, beta_2=0.9, amsgrad=True, epsilon=1e-7, **kw),
     lambda t, p: t.optim.Adam(p, lr=0.05, betas=(0.9, 0.9), amsgrad=True, eps=1e-7)),
    ("adam-coupled-weight-decay", lambda **kw: optimizers.Adam(0.05, weight_decay=0.1, epsilon=1e-7, **kw),
     lambda t, p: t.optim.Adam(p, lr=0.05, weight_decay=0.1, eps=1e-7)),
    ("adamw", lambda **kw: optimizers.AdamW(0.05, weight_decay=0.1, epsilon=1e-7, **kw),
     lambda t, p: t.optim.AdamW(p, lr=0.05, weight_decay=0.1, eps=1e-7)),
    ("adamw-default-decay-amsgrad", lambda **kw: optimizers.AdamW(0.05, amsgrad=True, **kw),
     lambda t, p: t.optim.AdamW(p, lr=0.05, weight_decay=0.004, amsgrad=True, eps=1e-7)),
    ("nadam", lambda **kw: optimizers.Nadam(0.05, **kw), lambda t, p: t.optim.NAdam(p, lr=0.05, eps=1e-7)),
    ("nadam-betas-weight-decay", lambda **kw: optimizers.Nadam(0.05, beta_1=0.8, beta_2=0.99, weight_decay=0.1, **kw),
     lambda t, p: t.optim.NAdam(p, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, eps=1e-7)),
    ("adamax", lambda **kw: optimizers.Adamax(0.05, **kw), lambda t, p: t.optim.Adamax(p, lr=0.05, eps=1e-7)),
    ("adamax-betas-weight-decay",
     lambda **kw: optimizers.Adamax(0.05, beta_1=0.8, beta_2=0.9, epsilon=0.3, weight_decay=0.1, **kw),
     lambda t, p: t.optim.Adamax(p, lr=0.05, betas=(0.8, 0.9), eps=0.3, weight_decay=0.1)),
]


@pytest.mark.parametrize("decay", [0.0, 0.1], ids=["no-decay", "nnfs-decay"])
@pytest.mark.parametrize(("name", "ours", "theirs"), CASES, ids=[c[0] for c in CASES])
def test_trajectory_matches_torch(name, ours, theirs, decay):
    torch = pytest.importorskip("torch")
    problem = Problem()
    got = run_glassnet(ours(decay=decay), problem)
    # NAdam keeps its running product of momentum coefficients in a tensor of torch's default
    # dtype (float32 unless told), which alone would set torch's float64 run off by 1e-8.
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        want = run_torch(lambda p: theirs(torch, p), problem, make_scheduler=nnfs_decay(decay) if decay else None)
    finally:
        torch.set_default_dtype(default)
    assert_same_trajectory(got, want)


def test_trajectory_oracle_detects_a_different_optimizer():
    """The oracle is sharp: Keras' ε-hat Adam, or a missing decay, would not pass."""
    torch = pytest.importorskip("torch")
    problem = Problem()
    want = run_torch(lambda p: torch.optim.Adam(p, lr=0.05, eps=0.5), problem)
    with pytest.raises(AssertionError):
        assert_same_trajectory(run_glassnet(optimizers.Adam(0.05, epsilon=0.5 * np.sqrt(1 - 0.999)), problem), want)
    with pytest.raises(AssertionError):
        assert_same_trajectory(run_glassnet(optimizers.Adam(0.05, epsilon=0.5, decay=1e-9), problem), want)


def test_nnfs_decay_matches_torch_adagrad_lr_decay():
    """torch's Adagrad has the NNFS decay built in: lr / (1 + (step - 1) · lr_decay)."""
    torch = pytest.importorskip("torch")
    problem = Problem()
    got = run_glassnet(optimizers.Adagrad(0.5, initial_accumulator_value=0.0, epsilon=1e-7, decay=0.3), problem)
    want = run_torch(lambda p: torch.optim.Adagrad(p, lr=0.5, lr_decay=0.3, eps=1e-7), problem)
    assert_same_trajectory(got, want)


def test_nnfs_decay_counts_updates_done():
    opt = optimizers.SGD(0.5, decay=0.25)
    assert opt.current_learning_rate == 0.5
    run_glassnet(opt, Problem(), steps=4)
    assert opt.iterations == 4
    assert opt.current_learning_rate == pytest.approx(0.5 / (1 + 0.25 * 4), rel=1e-15)


SCHEDULE_CASES = [
    ("exponential-per-step",
     lambda: optimizers.SGD(schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.8), momentum=0.9),
     lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9),
     lambda t: lambda o: t.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)),
    ("exponential-staircase",
     lambda: optimizers.Adam(schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5, staircase=True)),
     lambda t, p: t.optim.Adam(p, lr=0.05, eps=1e-7),
     lambda t: lambda o: t.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    ("cosine",
     lambda: optimizers.RMSprop(schedules.CosineDecay(0.01, decay_steps=STEPS, alpha=0.1), epsilon=1e-7),
     lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-7),
     lambda t: lambda o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=STEPS, eta_min=0.001)),
    ("piecewise",
     lambda: optimizers.AdamW(schedules.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.025]), weight_decay=0.1),
     lambda t, p: t.optim.AdamW(p, lr=0.1, weight_decay=0.1, eps=1e-7),
     lambda t: lambda o: t.optim.lr_scheduler.MultiStepLR(o, milestones=[3, 6], gamma=0.5)),
    ("inverse-time-and-nnfs-decay",
     lambda: optimizers.Adagrad(schedules.InverseTimeDecay(0.5, decay_steps=2, decay_rate=0.5), decay=0.1),
     lambda t, p: t.optim.Adagrad(p, lr=0.5, initial_accumulator_value=0.1, eps=1e-7),
     lambda t: lambda o: t.optim.lr_scheduler.LambdaLR(o, lambda s: 1 / (1 + 0.5 * s / 2) / (1 + 0.1 * s))),
]


@pytest.mark.parametrize(("name", "ours", "theirs", "scheduler"), SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES])
def test_schedule_as_learning_rate_matches_torch_scheduler(name, ours, theirs, scheduler):
    torch = pytest.importorskip("torch")
    problem = Problem()
    got = run_glassnet(ours(), problem)
    want = run_torch(lambda p: theirs(torch, p), problem, make_scheduler=scheduler(torch))
    assert_same_trajectory(got, want)


# -- clipping ------------------------------------------------------------------------------------
# torch's clip_grad_norm_ scales by c / (norm + 1e-6); glassnet (like Keras) by c / norm. With
# gradient norms around 1e7 that epsilon changes the factor by 1e-13 relative, below RTOL, so
# torch's own function is a fair oracle. The bias gradient stays small, so it is never clipped.
HUGE = {"dense/kernel": 1e7, "dense/bias": 0.05, "conv/kernel": 3e7}


def test_clipvalue_matches_torch_clip_grad_value():
    torch = pytest.importorskip("torch")
    problem = Problem()
    got = run_glassnet(optimizers.SGD(0.1, momentum=0.9, clipvalue=0.5), problem)
    want = run_torch(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), problem,
                     clip=lambda ps: torch.nn.utils.clip_grad_value_(list(ps.values()), 0.5))
    assert_same_trajectory(got, want)


CLIP_CASES = [
    ("sgd", lambda **kw: optimizers.SGD(0.1, momentum=0.9, **kw),
     lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9), 0.0),
    ("adam-decay", lambda **kw: optimizers.Adam(0.05, decay=0.1, **kw),
     lambda t, p: t.optim.Adam(p, lr=0.05, eps=1e-7), 0.1),
]


@pytest.mark.parametrize(("name", "ours", "theirs", "decay"), CLIP_CASES, ids=[c[0] for c in CLIP_CASES])
def test_clipnorm_is_per_tensor_like_torch_clip_grad_norm_on_each(name, ours, theirs, decay):
    torch = pytest.importorskip("torch")
    problem = Problem(scale=HUGE)
    got = run_glassnet(ours(clipnorm=1.0), problem)
    scheduler = nnfs_decay(decay) if decay else None
    want = run_torch(lambda p: theirs(torch, p), problem, make_scheduler=scheduler,
                     clip=lambda ps: [torch.nn.utils.clip_grad_norm_(p, 1.0) for p in ps.values()])
    assert_same_trajectory(got, want)
    # ... and not the global norm: that would shrink the small bias gradient too.
    global_want = run_torch(lambda p: theirs(torch, p), problem, make_scheduler=scheduler,
                            clip=lambda ps: torch.nn.utils.clip_grad_norm_(list(ps.values()), 1.0))
    with pytest.raises(AssertionError):
        assert_same_trajectory(got, global_want)


def test_global_clipnorm_matches_torch_clip_grad_norm():
    torch = pytest.importorskip("torch")
    problem = Problem(scale=dict.fromkeys(SHAPES, 1e7))
    got = run_glassnet(optimizers.SGD(0.1, momentum=0.9, global_clipnorm=2.0), problem)
    want = run_torch(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), problem,
                     clip=lambda ps: torch.nn.utils.clip_grad_norm_(list(ps.values()), 2.0))
    assert_same_trajectory(got, want)


def test_clipping_leaves_small_gradients_alone():
    problem = Problem(scale=dict.fromkeys(SHAPES, 1e-3))
    plain = run_glassnet(optimizers.SGD(0.1, momentum=0.9), problem)
    for kwargs in ({"clipnorm": 1.0}, {"global_clipnorm": 1.0}, {"clipvalue": 1.0}):
        assert_same_trajectory(run_glassnet(optimizers.SGD(0.1, momentum=0.9, **kwargs), problem), plain, 0, 0)


def test_clipping_does_not_modify_the_callers_gradient():
    grad = np.full((3,), 10.0)
    param = np.zeros(3)
    optimizers.SGD(1.0, clipnorm=1.0, clipvalue=5.0, global_clipnorm=0.5).apply_gradients([("w", param, grad)])
    np.testing.assert_array_equal(grad, np.full((3,), 10.0))
    np.testing.assert_allclose(param, -0.5 * np.ones(3) / np.sqrt(3), rtol=1e-15)


# -- dtype, state, config --------------------------------------------------------------------------
ALL_STATEFUL = [
    lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True, decay=0.1),
    lambda: optimizers.Adagrad(0.3, weight_decay=0.01),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: optimizers.Adam(0.05, amsgrad=True, decay=0.05),
    lambda: optimizers.AdamW(schedules.CosineDecay(0.05, decay_steps=20, alpha=0.1), clipnorm=2.0),
    lambda: optimizers.Nadam(0.05, decay=0.05),
    lambda: optimizers.Adamax(0.05, weight_decay=0.01),
]
STATEFUL_IDS = ["sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam", "adamax"]


@pytest.mark.parametrize("make", ALL_STATEFUL, ids=STATEFUL_IDS)
def test_float32_parameters_stay_float32_and_follow_the_float64_path(make):
    problem = Problem()
    wide = run_glassnet(make(), problem)
    opt = make()
    params = {k: v.astype(np.float32) for k, v in problem.init.items()}
    narrow = []
    for t in range(STEPS):
        opt.apply_gradients((k, p, problem.grad(k, p, t).astype(np.float32)) for k, p in params.items())
        narrow.append({k: p.copy() for k, p in params.items()})
    assert all(p.dtype == np.float32 for p in params.values())
    assert all(v.dtype == np.float32 for v in opt.variables().values())
    assert_same_trajectory(narrow, wide, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make", ALL_STATEFUL, ids=STATEFUL_IDS)
def test_variables_round_trip_resumes_the_exact_trajectory(make):
    problem = Problem()
    opt = make()
    first = run_glassnet(opt, problem, steps=4)
    saved_vars, saved_iterations = opt.variables(), opt.iterations
    assert saved_vars and all("/" in name for name in saved_vars)
    assert {name.rpartition("/")[0] for name in saved_vars} == set(SHAPES)
    resumed_from = first[-1]
    uninterrupted = run_glassnet(opt, problem, steps=5, params=resumed_from, start=4)  # keeps going

    fresh = type(opt).from_config(json.loads(json.dumps(opt.get_config())))
    fresh.set_variables(saved_vars, saved_iterations)
    resumed = run_glassnet(fresh, problem, steps=5, params=resumed_from, start=4)
    assert_same_trajectory(resumed, uninterrupted, rtol=0, atol=0)

    # Without the saved state the continuation differs, so the check above is not vacuous.
    restarted = type(opt).from_config(opt.get_config())
    with pytest.raises(AssertionError):
        assert_same_trajectory(run_glassnet(restarted, problem, steps=5, params=resumed_from, start=4),
                               uninterrupted, rtol=0, atol=0)


@pytest.mark.parametrize("make", ALL_STATEFUL, ids=STATEFUL_IDS)
def test_config_is_json_and_round_trips(make):
    opt = make()
    config = opt.get_config()
    text = json.dumps(config)
    clone = type(opt).from_config(json.loads(text))
    assert clone.get_config() == config
    via_registry = optimizers.get({"class_name": type(opt).__name__, "config": json.loads(text)})
    assert type(via_registry) is type(opt) and via_registry.get_config() == config
    problem = Problem()
    assert_same_trajectory(run_glassnet(clone, problem), run_glassnet(make(), problem), rtol=0, atol=0)


@pytest.mark.parametrize(("name", "cls"), [("sgd", optimizers.SGD), ("adagrad", optimizers.Adagrad),
                                           ("rmsprop", optimizers.RMSprop), ("adam", optimizers.Adam),
                                           ("adamw", optimizers.AdamW), ("Adam", optimizers.Adam)])
def test_string_identifiers(name, cls):
    assert type(optimizers.get(name)) is cls


def test_unknown_identifier_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown optimizer 'adamm'.*adam.*rmsprop.*sgd"):
        optimizers.get("adamm")


def test_get_returns_the_same_instance():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt


INVALID = [
    (lambda: optimizers.SGD(learning_rate=0), "learning_rate"),
    (lambda: optimizers.SGD(learning_rate=-0.1), "learning_rate"),
    (lambda: optimizers.Adam(learning_rate=float("nan")), "learning_rate"),
    (lambda: optimizers.Adam(learning_rate=float("inf")), "learning_rate"),
    (lambda: optimizers.Adam(learning_rate="fast"), "learning_rate"),
    (lambda: optimizers.Adam(learning_rate=True), "learning_rate"),
    (lambda: optimizers.Adam(decay=-1e-3), "decay"),
    (lambda: optimizers.Adam(decay=float("nan")), "decay"),
    (lambda: optimizers.Adam(clipnorm=0), "clipnorm"),
    (lambda: optimizers.Adam(clipvalue=-1), "clipvalue"),
    (lambda: optimizers.Adam(global_clipnorm=0.0), "global_clipnorm"),
    (lambda: optimizers.SGD(momentum=1.0), "momentum"),
    (lambda: optimizers.SGD(momentum=-0.1), "momentum"),
    (lambda: optimizers.SGD(nesterov=True), "nesterov"),
    (lambda: optimizers.SGD(weight_decay=-0.1), "weight_decay"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    (lambda: optimizers.Adagrad(epsilon=-1e-7), "epsilon"),
    (lambda: optimizers.Adagrad(weight_decay=-1.0), "weight_decay"),
    (lambda: optimizers.RMSprop(rho=1.0), "rho"),
    (lambda: optimizers.RMSprop(momentum=1.5), "momentum"),
    (lambda: optimizers.RMSprop(epsilon=-1.0), "epsilon"),
    (lambda: optimizers.RMSprop(weight_decay=-0.5), "weight_decay"),
    (lambda: optimizers.Adam(beta_1=1.0), "beta_1"),
    (lambda: optimizers.Adam(beta_2=-0.1), "beta_2"),
    (lambda: optimizers.Adam(epsilon=-1e-8), "epsilon"),
    (lambda: optimizers.Adam(weight_decay=-1e-2), "weight_decay"),
    (lambda: optimizers.AdamW(weight_decay=-0.004), "weight_decay"),
    # NumPy scalars are numbers (see below), so the same checks hold for them; other types fail
    # with the same message rather than a TypeError from a comparison.
    (lambda: optimizers.Adam(learning_rate=np.float32(-1e-3)), "learning_rate"),
    (lambda: optimizers.Adam(learning_rate=np.float32("nan")), "learning_rate"),
    (lambda: optimizers.Adam(learning_rate=np.bool_(True)), "learning_rate"),
    (lambda: optimizers.Adam(learning_rate=np.array([1e-3])), "learning_rate"),
    (lambda: optimizers.Adam(decay=None), "decay"),
    (lambda: optimizers.Adam(clipnorm="1"), "clipnorm"),
    (lambda: optimizers.Adam(beta_1="0.9"), "beta_1"),
    (lambda: optimizers.SGD(momentum=np.float32(1.0)), "momentum"),
    (lambda: optimizers.RMSprop(epsilon=True), "epsilon"),
]


@pytest.mark.parametrize(("make", "argument"), INVALID, ids=[f"{i}-{a}" for i, (_, a) in enumerate(INVALID)])
def test_invalid_hyperparameters_raise_naming_the_argument(make, argument):
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        make()


@pytest.mark.parametrize("scalar", [np.float16, np.float32, np.float64])
def test_numpy_scalar_hyperparameters_become_plain_floats(scalar):
    opt = optimizers.Adam(scalar(0.5), beta_1=scalar(0.5), epsilon=scalar(0.25), clipnorm=scalar(2), decay=scalar(0))
    config = opt.get_config()
    assert config["learning_rate"] == 0.5 and config["beta_1"] == 0.5 and config["clipnorm"] == 2.0
    assert all(type(v) in (float, bool, str) or v is None for v in config.values())
    # get_config goes into a model file's JSON, which takes no NumPy scalar.
    assert json.loads(json.dumps(config)) == config


@pytest.mark.parametrize("lr", [np.float32(1e-3), np.float64(1e-3)])
def test_a_numpy_learning_rate_compiles_trains_and_saves(tmp_path, lr):
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(3,))], seed=0)
    model.compile(optimizer=optimizers.Adam(lr), loss="mse")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    model.save(tmp_path / "m.glassnet")
    assert gn.load_model(tmp_path / "m.glassnet").optimizer.learning_rate == float(lr)


def test_optimizer_trains_a_model_through_fit():
    """The optimizer a user compiles with is the one that updates the model's weights."""
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(3,))], seed=0)
    opt = optimizers.SGD(0.1, momentum=0.5)
    model.compile(optimizer=opt, loss="mse")
    before = model.evaluate(x, y)
    model.fit(x, y, epochs=20, batch_size=8, verbose=0, shuffle=False)
    assert opt.iterations == 20 * 4
    assert model.evaluate(x, y) < 1e-3 * before


# -- parameters side by side in one buffer (as Sequential keeps them) ----------------------------
UNCLIPPED = [
    lambda: optimizers.SGD(0.05),
    lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=0.01, decay=0.1),
    lambda: optimizers.Adagrad(0.3, weight_decay=0.01),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: optimizers.Adam(0.05, decay=0.05),
    lambda: optimizers.Adam(0.05, amsgrad=True, weight_decay=0.01),
    lambda: optimizers.AdamW(schedules.CosineDecay(0.05, decay_steps=20, alpha=0.1)),
    lambda: optimizers.Nadam(0.05),
    lambda: optimizers.Adamax(0.05),
]
UNCLIPPED_IDS = ["sgd", "sgd-nesterov", "adagrad", "rmsprop", "adam", "adam-amsgrad", "adamw", "nadam", "adamax"]


def packed(arrays: dict, pad: int = 0) -> dict:
    """Copies of ``arrays`` as views of one flat buffer, ``pad`` zeros after each."""
    flat = np.zeros(sum(a.size + pad for a in arrays.values()))
    views, start = {}, 0
    for key, a in arrays.items():
        views[key] = flat[start:start + a.size].reshape(a.shape)
        views[key][...] = a
        start += a.size + pad
    return views


def run_packed(opt, problem, steps=STEPS, params=None, start=0):
    """``run_glassnet`` with parameters and gradients each in one buffer."""
    params = packed(params or problem.init)
    grads = packed(params)
    trajectory = []
    for t in range(start, start + steps):
        for k, p in params.items():
            grads[k][...] = problem.grad(k, p, t)
        opt.apply_gradients((k, p, grads[k]) for k, p in params.items())
        trajectory.append({k: p.copy() for k, p in params.items()})
    return trajectory


@pytest.mark.parametrize("make", UNCLIPPED, ids=UNCLIPPED_IDS)
def test_parameters_in_one_buffer_update_as_one_with_the_same_result(make):
    opt, alone = make(), make()
    together = run_packed(opt, Problem())
    assert len(opt._groups) == 1  # it did take the one-array path
    assert_same_trajectory(together, run_glassnet(alone, Problem()), rtol=0, atol=0)
    ours, theirs = opt.variables(), alone.variables()
    assert list(ours) == list(theirs)
    assert all(np.array_equal(ours[k], theirs[k]) for k in ours)


@pytest.mark.parametrize("make", UNCLIPPED, ids=UNCLIPPED_IDS)
def test_state_restored_into_a_grouped_update_resumes_the_exact_trajectory(make):
    problem = Problem()
    opt = make()
    first = run_glassnet(opt, problem, steps=4)  # one array at a time
    fresh = type(opt).from_config(opt.get_config())
    fresh.set_variables(opt.variables(), opt.iterations)
    uninterrupted = run_glassnet(opt, problem, steps=5, params=first[-1], start=4)
    assert_same_trajectory(run_packed(fresh, problem, steps=5, params=first[-1], start=4), uninterrupted,
                           rtol=0, atol=0)


def test_only_adjacent_parameters_are_grouped():
    problem = Problem()
    params, grads = packed(problem.init, pad=1), packed(problem.init, pad=1)  # a gap could hold anything
    opt = optimizers.Adam(0.01)
    opt.apply_gradients((k, p, grads[k]) for k, p in params.items())
    assert opt._groups == {}
    keys = list(SHAPES)
    params, grads = packed(problem.init), packed(problem.init)
    opt.apply_gradients((k, params[k], grads[k]) for k in (keys[0], keys[2]))  # one skipped between
    assert opt._groups == {}
    opt.apply_gradients((k, params[k], grads[k]) for k in keys)
    assert list(opt._groups) == ["group(" + ",".join(keys) + ")"]


def test_a_model_keeps_its_weights_in_one_buffer_and_freezing_splits_the_update():
    model = gn.Sequential([gn.layers.Dense(5, activation="relu", input_shape=(3,)), gn.layers.Dense(4),
                           gn.layers.Dense(2)], seed=0)
    model.add(gn.layers.Dense(1))  # added after the build: packed as well
    bases = [a.base for layer in model.layers for a in layer.params.values()]
    assert bases[0] is not None and all(b is bases[0] for b in bases)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    twin = gn.Sequential.from_config(model.get_config())
    twin.set_weights(model.get_weights())
    for layer in twin.layers:  # the same model with every array on its own
        for key in layer.params:
            layer.params[key], layer.grads[key] = layer.params[key].copy(), layer.grads[key].copy()
    for m in (model, twin):
        m.layers[1].trainable = False
        m.compile(optimizer="adam", loss="mse")
        m.fit(x, y, epochs=3, batch_size=4, verbose=0)
    assert len(model.optimizer._groups) == 2  # the layers before and after the frozen one
    assert twin.optimizer._groups == {}
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))


def test_zero_dimensional_arrays_are_numbers_too():
    import json

    optimizer = gn.optimizers.SGD(np.array(0.1), momentum=np.array(0.9))
    assert json.loads(json.dumps(optimizer.get_config()))["momentum"] == 0.9


@pytest.mark.parametrize("copy_model", [lambda m: pickle.loads(pickle.dumps(m)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
def test_a_copied_model_keeps_training_exactly_as_the_original(copy_model):
    # The optimizer updates adjacent parameters through one flat buffer; a copy holding that
    # buffer would step it and leave its parameters (now arrays of their own) unchanged.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    model = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(3,)), gn.layers.Dense(1)], seed=0)
    model.compile(gn.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=2, verbose=0)
    twin = copy_model(model)
    before = twin.get_weights()
    for m in (model, twin):
        m.fit(x, y, epochs=1, verbose=0)
    assert not any(np.array_equal(a, b) for a, b in zip(before, twin.get_weights()))
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert twin.optimizer.variables().keys() == model.optimizer.variables().keys()
    for key, value in model.optimizer.variables().items():
        np.testing.assert_array_equal(twin.optimizer.variables()[key], value, err_msg=key)
