"""Optimizers: each updates one parameter at a time and keeps its own slots (m, v, velocity).

The update formulas follow PyTorch's ``torch.optim`` (the test oracle) under Keras' names and
defaults. Every optimizer also takes the NNFS book's ``decay``:
lr_t = lr / (1 + decay · t), t = updates done so far; ``learning_rate`` may instead (or also)
be a schedule, called with t. ``clipvalue``, ``clipnorm`` (per tensor, as in Keras) and
``global_clipnorm`` clip gradients before the update.

``update_step`` is written for one parameter and is elementwise; parameters that sit side by
side in one buffer (a ``Sequential``'s do) go through it together, as one flat array, with the
same result to the bit (see ``apply_gradients``).

Slots that decay (momentum, moments, running averages) are flushed to zero before they fall
below the smallest normal float (``glassnet.numerics``): a parameter whose gradient stays zero
would otherwise keep its slots subnormal for the rest of training, and subnormal arithmetic is
slow on many CPUs. A decaying slot is flushed every few steps, of its values below at most twice
the smallest normal (``flush_schedule``), so that decay alone cannot reach the subnormal range
in between; nothing above that bound changes.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from glassnet import backend, schedules
from glassnet._registry import deserialize, register, serialize
from glassnet.numerics import flush_schedule, flush_subnormals


def _is_real(value) -> bool:
    """A real number, Python's or NumPy's (``np.float32(1e-3)``, or a 0-d array such as
    ``np.array(0.9)``): ``numbers.Real``, not a bool."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_nonnegative(**values) -> None:
    """Raise a ValueError naming the first argument that is not a number >= 0 (NaN is not)."""
    for arg, value in values.items():
        if not _is_real(value) or not value >= 0:
            raise ValueError(f"{arg} must be a number >= 0; got {value!r}.")


def _check_fraction(**values) -> None:
    """Raise a ValueError naming the first argument that is not a number in [0, 1)."""
    for arg, value in values.items():
        if not _is_real(value) or not 0 <= value < 1:
            raise ValueError(f"{arg} must be in [0, 1); got {value!r}.")


class Optimizer:
    """Base class.

    Args:
        learning_rate: a positive number (a NumPy scalar such as ``np.float32(1e-3)`` too) or
            a ``LearningRateSchedule``.
        decay: NNFS-style inverse-time decay per update (0 disables it).
        clipvalue: clip every gradient element to [-clipvalue, clipvalue].
        clipnorm: rescale each gradient tensor whose L2 norm exceeds this.
        global_clipnorm: rescale all gradients together when their joint norm exceeds this.
    """

    def __init__(self, learning_rate=0.001, decay: float = 0.0, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None):
        if isinstance(learning_rate, dict):
            learning_rate = deserialize("schedule", learning_rate)
        if not isinstance(learning_rate, schedules.LearningRateSchedule):
            if not _is_real(learning_rate) or not learning_rate > 0 or not math.isfinite(learning_rate):
                raise ValueError(f"learning_rate must be a positive number or a schedule; got {learning_rate!r}.")
            learning_rate = float(learning_rate)
        _check_nonnegative(decay=decay)
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        for arg, value in clips.items():
            if value is not None and (not _is_real(value) or not value > 0):
                raise ValueError(f"{arg} must be a number > 0 or None; got {value!r}.")
        self.learning_rate = learning_rate
        self.decay = float(decay)
        # Plain floats: a NumPy scalar would not go into the JSON of get_config (model files).
        self.clipnorm, self.clipvalue, self.global_clipnorm = (
            None if value is None else float(value) for value in clips.values())
        self.name = name or type(self).__name__
        self.iterations = 0
        self._slots: dict[str, dict[str, np.ndarray]] = {}
        self._scratch: dict[tuple, np.ndarray] = {}
        # Parameters updated as one flat array (see apply_gradients): the last grouping, each
        # group's members (key, shape, start, stop), and each group's flat slots.
        self._group_cache: tuple | None = None
        self._groups: dict[str, list] = {}
        self._group_slots: dict[str, dict[str, np.ndarray]] = {}

    @property
    def current_learning_rate(self) -> float:
        """The rate the next update uses: the schedule (if any), then the NNFS decay."""
        lr = self.learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = lr(self.iterations)
        if self.decay:
            lr = lr / (1.0 + self.decay * self.iterations)
        return float(lr)

    def apply_gradients(self, items) -> None:
        """Update parameters in place. ``items``: iterable of (key, param, grad), key unique.

        Parameters that lie side by side in one buffer, as a ``Sequential`` keeps them, are
        updated together as one flat array. Every ``update_step`` is elementwise, so the result
        is bit for bit the same; only the number of NumPy calls drops (one per formula rather
        than one per formula and parameter). Clipping works per tensor and turns that off.
        """
        items = list(items)
        lr = self.current_learning_rate
        if self.clipvalue is None and self.clipnorm is None and self.global_clipnorm is None:
            for key, param, grad in self._grouped(items):
                self.update_step(key, param, grad, lr)
        else:
            grads = self._clip([g for _, _, g in items])
            for (key, param, _), grad in zip(items, grads):
                self.update_step(key, param, grad, lr)
        self.iterations += 1

    def _grouped(self, items: list) -> list:
        """``items`` with each run of adjacent parameters merged into one (key, param, grad)."""
        arrays = [a for _, param, grad in items for a in (param, grad)]
        cached = self._group_cache
        if (cached is not None and len(cached[0]) == len(arrays)
                and all(a is b for a, b in zip(cached[0], arrays))
                and cached[1] == [key for key, _, _ in items]):
            return cached[2]
        merged, before, self._groups = [], self._groups, {}
        for run in _adjacent_runs(items):
            if len(run) == 1:
                merged.append(run[0])
                continue
            key = "group(" + ",".join(k for k, _, _ in run) + ")"
            (param, start), (grad, _) = (_span([item[i] for item in run]) for i in (1, 2))
            self._groups[key] = [(k, p.shape, start[j], start[j] + p.size) for j, (k, p, _) in enumerate(run)]
            merged.append((key, param, grad))
        # Holding the arrays keeps their ids from being reused by others while this is cached.
        self._group_cache = (arrays, [key for key, _, _ in items], merged)
        # A group that came back unchanged (same members, shapes, places) keeps its flat slots.
        self._group_slots = {k: v for k, v in self._group_slots.items() if before.get(k) == self._groups.get(k)}
        return merged

    @property
    def flat_groups(self) -> list[str]:
        """The runs of parameters the last step updated as one flat array, by key
        ("group(kernel_0,bias_0,...)"); empty when every parameter went on its own. On a GPU too:
        ``benchmarks/gpu_check.py`` prints them."""
        return list(self._groups)

    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipvalue is not None:
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            grads = [g * (self.clipnorm / n) if (n := float(np.linalg.norm(g))) > self.clipnorm else g
                     for g in grads]
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(float(np.square(g, dtype=np.float64).sum()) for g in grads))
            if total > self.global_clipnorm:
                grads = [g * (self.global_clipnorm / total) for g in grads]
        return grads

    def slot(self, key: str, name: str, like: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """The slot ``name`` of parameter ``key``, created on first use like the parameter."""
        if key in self._groups:
            return self._group_slot(key, name, like, fill)
        slots = self._slots.setdefault(key, {})
        if name not in slots:
            slots[name] = np.full_like(like, fill)
        return slots[name]

    def _group_slot(self, key: str, name: str, like: np.ndarray, fill: float) -> np.ndarray:
        """A flat slot for a group; each member's own slot becomes a view of its part (carrying
        over the values it had), so ``variables`` and per-parameter steps see the same numbers."""
        slots = self._group_slots.setdefault(key, {})
        if name not in slots:
            flat = np.full_like(like, fill)
            for member, shape, start, stop in self._groups[key]:
                own = self._slots.setdefault(member, {})
                view = flat[start:stop].reshape(shape)
                if name in own:
                    view[...] = own[name]
                own[name] = view
            slots[name] = flat
        return slots[name]

    def scratch(self, like: np.ndarray, dtype=None) -> np.ndarray:
        """A work array shaped like ``like`` (of ``dtype``, default like's), reused by every
        step (not state: never saved)."""
        key = (like.shape, np.dtype(dtype or like.dtype), type(like))  # a device's scratch is its own
        if key not in self._scratch:
            self._scratch[key] = backend.array_module(like).empty(like.shape, key[1])
        return self._scratch[key]

    def flush(self, slot: np.ndarray, nonnegative: bool = False, decay: float | None = None) -> None:
        """Flush the values of a slot that shrinks by ``decay`` per step (None: a slot that does
        not decay) to zero before they become subnormal, in scratch space. Only every few steps
        for a decaying slot (``numerics.flush_schedule``: a flush costs as much as the update).
        It uses ``scratch(slot)``: call it only while that holds nothing still needed."""
        period, bound = flush_schedule(decay, slot.dtype)
        if self.iterations % period == 0:
            flush_subnormals(slot, self.scratch(slot, bool), None if nonnegative else self.scratch(slot),
                             nonnegative, below=bound)

    def moving_average(self, key: str, name: str, param: np.ndarray, value: np.ndarray, beta: float,
                       nonnegative: bool = False) -> np.ndarray:
        """The slot ``name`` of ``key`` updated in place to β·slot + (1-β)·value and flushed (a
        moment of Adam, Nadam or Adamax); returns it. Works in ``scratch(param)``, which may be
        ``value`` itself."""
        slot = self.slot(key, name, param)
        slot *= beta
        slot += np.multiply(value, 1 - beta, out=self.scratch(param))
        self.flush(slot, nonnegative=nonnegative, decay=beta)
        return slot

    def update_step(self, key: str, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def __getstate__(self) -> dict:
        """Pickled or deep-copied without the flat groups: a view does not survive a copy (it
        becomes an array of its own), so a copy that kept them would step its stale flat
        buffers and never move the parameters. The copy regroups on its first step and rebuilds
        the flat slots from each parameter's own, as after ``set_variables``."""
        state = self.__dict__.copy()
        state.update(_group_cache=None, _groups={}, _group_slots={})
        return state

    # -- state, for saving and exact resuming ---------------------------------------------------
    def variables(self) -> dict[str, np.ndarray]:
        """Copies of every slot as ``"<param key>/<slot name>" -> array`` (the step count is
        ``iterations``); copies, so a snapshot taken now does not move with later updates."""
        return {f"{key}/{name}": arr.copy() for key, slots in self._slots.items() for name, arr in slots.items()}

    def slot_arrays(self) -> list:
        """The slot arrays themselves, not copies (to see where they live: glassnet/models/placement.py)."""
        return [arr for slots in self._slots.values() for arr in slots.values()]

    def set_variables(self, variables: dict[str, np.ndarray], iterations: int) -> None:
        self._slots, self._group_slots = {}, {}  # the groups' flat slots are rebuilt from these
        for full, arr in variables.items():
            key, _, name = full.rpartition("/")
            self._slots.setdefault(key, {})[name] = backend.array_module(arr).array(arr)  # a copy, where arr is
        self.iterations = int(iterations)

    def get_config(self) -> dict:
        lr = self.learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = serialize(lr)
        return {"name": self.name, "learning_rate": lr, "decay": self.decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _set_moments(opt, beta_1, beta_2, epsilon, weight_decay) -> None:
    """The arguments Adam, Nadam and Adamax share, checked and stored as plain floats."""
    _check_fraction(beta_1=beta_1, beta_2=beta_2)
    _check_nonnegative(epsilon=epsilon, weight_decay=weight_decay)
    opt.beta_1, opt.beta_2, opt.epsilon = float(beta_1), float(beta_2), float(epsilon)
    opt.weight_decay = float(weight_decay)


def _moments_config(opt) -> dict:
    return {"beta_1": opt.beta_1, "beta_2": opt.beta_2, "epsilon": opt.epsilon, "weight_decay": opt.weight_decay}


def _adjacent_runs(items: list) -> list[list]:
    """Split (key, param, grad) items into runs whose params, and grads, follow each other
    without a gap in one 1-D buffer."""
    runs = [[items[0]]] if items else []
    for item in items[1:]:
        prev = runs[-1][-1]
        if _follows(prev[1], item[1]) and _follows(prev[2], item[2]):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _offset(a: np.ndarray) -> int:
    """Where ``a`` starts in its base buffer, in elements (on the host or a device)."""
    return (backend.data_address(a) - backend.data_address(a.base)) // a.itemsize


def _follows(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``b`` starts where ``a`` ends, in the same 1-D buffer. (No gap: whatever lay in
    one, another parameter perhaps, would be updated too.) On a GPU as on the host: a view's
    ``base`` is the buffer it was cut from in CuPy too, and placement moves a packed buffer
    as one (glassnet/models/placement.py)."""
    base = a.base
    if (base is None or type(base) is not type(a)  # not a view of an array of its own kind
            or b.base is not base or base.ndim != 1 or not base.flags.c_contiguous
            or a.dtype != base.dtype or b.dtype != base.dtype
            or not a.flags.c_contiguous or not b.flags.c_contiguous):
        return False
    return _offset(b) == _offset(a) + a.size


def _span(arrays: list) -> tuple[np.ndarray, list[int]]:
    """The flat view of the base buffer that ``arrays``, adjacent, cover, and each one's start in it."""
    starts = np.cumsum([0] + [a.size for a in arrays]).tolist()
    first = _offset(arrays[0])
    return arrays[0].base[first:first + starts[-1]], starts[:-1]


@register("optimizer", "sgd")
class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and Nesterov momentum (PyTorch form).

    Args:
        learning_rate: step size (Keras' default 0.01).
        momentum: β in [0, 1).
        nesterov: look-ahead momentum.
        weight_decay: L2 penalty added to the gradient (PyTorch's coupled form).

    Math:
        g ← g + λθ;  b ← β b + g;  step = g + β b if nesterov else b;  θ ← θ - lr · step.
        (Keras writes v ← βv - lr·g; with a constant lr the two are the same trajectory.)
    """

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        _check_fraction(momentum=momentum)
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0.")
        _check_nonnegative(weight_decay=weight_decay)
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)

    def update_step(self, key, param, grad, lr):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if self.momentum:
            buf = self.slot(key, "momentum", param)
            buf *= self.momentum
            buf += grad
            self.flush(buf, decay=self.momentum)
            grad = grad + self.momentum * buf if self.nesterov else buf
        param -= lr * grad

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}


@register("optimizer", "adagrad")
class Adagrad(Optimizer):
    """Per-parameter rates shrinking with the sum of squared gradients.

    Args:
        initial_accumulator_value: starting value of the sum (Keras 0.1; PyTorch and NNFS 0).
        epsilon: added outside the square root, as in PyTorch and NNFS.

    Math:
        s ← s + g²;  θ ← θ - lr · g / (√s + ε).
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, weight_decay: float = 0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        _check_nonnegative(initial_accumulator_value=initial_accumulator_value, epsilon=epsilon,
                           weight_decay=weight_decay)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon, self.weight_decay = float(epsilon), float(weight_decay)

    def update_step(self, key, param, grad, lr):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        s = self.slot(key, "accumulator", param, self.initial_accumulator_value)
        s += grad * grad  # no decay, but g² of a tiny gradient may itself be subnormal
        self.flush(s, nonnegative=True)
        denom = np.sqrt(s)
        denom += self.epsilon
        param -= lr * grad / denom

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon, "weight_decay": self.weight_decay}


@register("optimizer", "rmsprop")
class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients.

    Args:
        rho: decay of the running mean of g² (PyTorch calls it alpha).
        momentum: optional momentum on the scaled step.
        centered: subtract the running mean of g (estimates the variance).
        epsilon: added outside the square root, as in PyTorch and NNFS.

    Math:
        a ← ρa + (1-ρ)g²;  [c: m ← ρm + (1-ρ)g, a' = a - m²];  d = √a' + ε;
        b ← βb + g/d and θ ← θ - lr·b with momentum, else θ ← θ - lr·g/d.
    """

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, weight_decay: float = 0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        _check_fraction(rho=rho, momentum=momentum)
        _check_nonnegative(epsilon=epsilon, weight_decay=weight_decay)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered, self.weight_decay = bool(centered), float(weight_decay)

    def update_step(self, key, param, grad, lr):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        a = self.slot(key, "square_avg", param)
        a *= self.rho
        a += (1 - self.rho) * grad * grad
        self.flush(a, nonnegative=True, decay=self.rho)
        if self.centered:
            m = self.slot(key, "grad_avg", param)
            m *= self.rho
            m += (1 - self.rho) * grad
            self.flush(m, decay=self.rho)
            # a ≥ m² in exact arithmetic, but a flushed to 0 may sit below an m² that is
            # subnormal (|m| < √tiny), and rounding may too: the variance is then 0, not NaN.
            denom = np.sqrt(np.maximum(a - m * m, 0))
        else:
            denom = np.sqrt(a)
        denom += self.epsilon
        if self.momentum:
            b = self.slot(key, "momentum", param)
            b *= self.momentum
            b += grad / denom
            self.flush(b, decay=self.momentum)
            param -= lr * b
        else:
            param -= lr * grad / denom

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered, "weight_decay": self.weight_decay}


@register("optimizer", "adam")
class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba).

    Epsilon convention: ε is added to the square root of the bias-corrected second moment,
    θ ← θ - lr · m̂ / (√v̂ + ε), as in PyTorch and the NNFS book. (Keras adds ε to √v before bias
    correction, "epsilon hat"; with its default 1e-7 the two differ only in the first steps.)
    The default ε is Keras' and NNFS's 1e-7 (PyTorch's is 1e-8).

    Args:
        beta_1, beta_2: decay rates of the first and second moments.
        amsgrad: use the running maximum of v̂ (Reddi et al.).
        weight_decay: L2 penalty added to the gradient (coupled; see ``AdamW`` for decoupled).

    Math:
        m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  m̂ = m/(1-β₁ᵗ);  v̂ = v/(1-β₂ᵗ);
        θ ← θ - lr · m̂ / (√v̂ + ε).

    Example:
        >>> import glassnet as gn
        >>> opt = gn.optimizers.Adam(learning_rate=0.005, decay=5e-7)
        >>> round(opt.current_learning_rate, 6)
        0.005
    """

    _coupled_weight_decay = True

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, weight_decay: float = 0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        _set_moments(self, beta_1, beta_2, epsilon, weight_decay)
        self.amsgrad = bool(amsgrad)

    def update_step(self, key, param, grad, lr):
        if self.weight_decay and self._coupled_weight_decay:
            grad = grad + self.weight_decay * param
        t = self.iterations + 1
        tmp = self.scratch(param)  # every product below lands here: no allocation per step
        m = self.moving_average(key, "m", param, grad, self.beta_1)
        v = self.moving_average(key, "v", param, np.multiply(grad, grad, out=tmp), self.beta_2, nonnegative=True)
        if self.amsgrad:
            v_max = self.slot(key, "v_max", param)
            np.maximum(v_max, v, out=v_max)
            # It does not decay, but a v made subnormal by a tiny gradient between two flushes
            # of v would stay in it: flushed with v.
            self.flush(v_max, nonnegative=True, decay=self.beta_2)
            v = v_max
        # Kingma & Ba's "more efficient order": both bias corrections folded into one step
        # size, with ε scaled by √(1-β₂ᵗ) so that this equals lr · m̂ / (√v̂ + ε) exactly.
        sqrt_c2 = math.sqrt(1 - self.beta_2 ** t)
        update = np.sqrt(v, out=tmp)
        update += self.epsilon * sqrt_c2
        np.divide(m, update, out=update)
        update *= lr * sqrt_c2 / (1 - self.beta_1 ** t)
        param -= update

    def get_config(self):
        return {**super().get_config(), **_moments_config(self), "amsgrad": self.amsgrad}


@register("optimizer", "adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's form.

    Epsilon convention as in ``Adam`` (ε outside √v̂). Default weight_decay is Keras' 0.004.

    Math:
        θ ← θ (1 - lr · λ), then the Adam update.
    """

    _coupled_weight_decay = False

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)

    def update_step(self, key, param, grad, lr):
        if self.weight_decay:
            param *= 1 - lr * self.weight_decay
        super().update_step(key, param, grad, lr)


@register("optimizer", "nadam")
class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat), PyTorch's ``NAdam`` and Keras' ``Nadam``.

    The momentum coefficient warms up as μ_t = β₁(1 - ½·0.96^(0.004·t)), and the step looks one
    step ahead with μ_{t+1}. Its running product Π_{s≤t} μ_s is a function of the step count
    alone, so it is recomputed from ``iterations`` (a model file restores it with them).

    Args:
        beta_1, beta_2: decay rates of the first and second moments.
        weight_decay: L2 penalty added to the gradient (PyTorch's ``weight_decay``).

    Math:
        m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  d = √(v / (1-β₂ᵗ)) + ε;
        θ ← θ - lr (1-μ_t) / (1-Π_{s≤t} μ_s) · g/d - lr μ_{t+1} / (1-Π_{s≤t+1} μ_s) · m/d.
    """

    #: PyTorch's momentum_decay; Keras' 0.96^(0.004·t) schedule is the same.
    MOMENTUM_DECAY = 0.004

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay: float = 0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        _set_moments(self, beta_1, beta_2, epsilon, weight_decay)
        self._mu_products = (0, 1.0)  # (t, Π_{s≤t} μ_s): the product so far, extended step by step

    def _mu(self, t: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (t * self.MOMENTUM_DECAY))

    def _mu_product(self, t: int) -> float:
        """Π_{s≤t} μ_s, from the cached product when it is at most t steps behind."""
        done, product = self._mu_products
        if done > t:  # iterations set back (a loaded model file): start over
            done, product = 0, 1.0
        for s in range(done + 1, t + 1):
            product *= self._mu(s)
        self._mu_products = (t, product)
        return product

    def update_step(self, key, param, grad, lr):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        t = self.iterations + 1
        mu, mu_next = self._mu(t), self._mu(t + 1)
        product = self._mu_product(t)
        m = self.moving_average(key, "m", param, grad, self.beta_1)
        v = self.moving_average(key, "v", param, np.multiply(grad, grad, out=self.scratch(param)), self.beta_2,
                                nonnegative=True)
        denom = np.sqrt(v / (1 - self.beta_2 ** t))
        denom += self.epsilon
        param -= (lr * (1 - mu) / (1 - product)) * (grad / denom)
        param -= (lr * mu_next / (1 - product * mu_next)) * (m / denom)

    def get_config(self):
        return {**super().get_config(), **_moments_config(self)}


@register("optimizer", "adamax")
class Adamax(Optimizer):
    """Adam with the infinity norm in place of the second moment (Kingma & Ba), PyTorch's ``Adamax``.

    Epsilon convention: PyTorch's, inside the maximum (u ← max(β₂u, |g| + ε)); Keras adds it to u
    in the step instead (u ← max(β₂u, |g|), then m / (u + ε)), which differs only while |g| is
    within ε of zero. The running maximum never falls below ε, so it is never subnormal (with
    ε = 0 it may be, and m / u is 0/0 wherever a gradient has always been 0, as in PyTorch).

    Math:
        m ← β₁m + (1-β₁)g;  u ← max(β₂u, |g| + ε);  θ ← θ - lr / (1-β₁ᵗ) · m / u.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay: float = 0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        _set_moments(self, beta_1, beta_2, epsilon, weight_decay)

    def update_step(self, key, param, grad, lr):
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        t = self.iterations + 1
        m = self.moving_average(key, "m", param, grad, self.beta_1)
        u = self.slot(key, "u", param)
        u *= self.beta_2
        # Not flushed: u ≥ ε keeps it normal, and with ε = 0 a flushed u would make m / u a 0/0.
        np.maximum(u, np.abs(grad) + self.epsilon, out=u)
        param -= (lr / (1 - self.beta_1 ** t)) * (m / u)

    def get_config(self):
        return {**super().get_config(), **_moments_config(self)}


def get(identifier) -> Optimizer:
    """An optimizer from a name ("adam", "sgd"), a serialized dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    return deserialize("optimizer", identifier)
