"""Learning-rate schedules: callables from the optimizer's step counter to a learning rate."""

from __future__ import annotations

import math
import numbers

from glassnet._registry import register


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)  # np.float32 too


def _check(initial_learning_rate, decay_steps, decay_rate=None) -> None:
    """Raise a ValueError naming the first invalid argument shared by the decaying schedules
    (a string or None too, which a comparison would turn into a TypeError)."""
    if not (_is_real(initial_learning_rate) and initial_learning_rate > 0 and math.isfinite(initial_learning_rate)):
        raise ValueError(f"initial_learning_rate must be a positive number; got {initial_learning_rate!r}.")
    if not _is_real(decay_steps) or decay_steps <= 0:
        raise ValueError(f"decay_steps must be > 0; got {decay_steps!r}.")
    if decay_rate is not None and not (_is_real(decay_rate) and decay_rate >= 0):
        raise ValueError(f"decay_rate must be >= 0; got {decay_rate!r}.")


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate``, step counting optimizer updates from 0."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return dict(vars(self))

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class _Decay(LearningRateSchedule):
    """Shared by the decays driven by ``step / decay_steps`` (whole periods when ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False):
        _check(initial_learning_rate, decay_steps, decay_rate)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = int(decay_steps)
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)

    def _progress(self, step) -> float:
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p


@register("schedule")
class ExponentialDecay(_Decay):
    """lr = initial · rate^(step / decay_steps) (the exponent floored when ``staircase``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase)
        if decay_rate == 0:
            raise ValueError("decay_rate must be > 0 for ExponentialDecay (0 would stop learning after step 0).")

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


@register("schedule")
class InverseTimeDecay(_Decay):
    """lr = initial / (1 + rate · step / decay_steps); the NNFS book's decay with decay_steps=1."""

    def __call__(self, step):
        return self.initial_learning_rate / (1 + self.decay_rate * self._progress(step))


@register("schedule")
class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while step <= ``boundaries[i]``; the last value after the last boundary."""

    def __init__(self, boundaries: list, values: list):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay needs one more entry in values than in boundaries; "
                             f"got {len(values)} values and {len(boundaries)} boundaries.")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay boundaries must increase strictly; got {list(boundaries)}.")
        if not all(v > 0 and math.isfinite(v) for v in values):
            raise ValueError(f"PiecewiseConstantDecay values must be positive learning rates; got {list(values)}.")
        self.boundaries = [int(b) for b in boundaries]
        self.values = [float(v) for v in values]

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


@register("schedule")
class CosineDecay(LearningRateSchedule):
    """Half a cosine from ``initial_learning_rate`` down to ``alpha`` times it over decay_steps."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0):
        _check(initial_learning_rate, decay_steps)
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha (the final fraction of the rate) must be in [0, 1]; got {alpha}.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = int(decay_steps)
        self.alpha = float(alpha)

    def __call__(self, step):
        t = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1 + math.cos(math.pi * t))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)
