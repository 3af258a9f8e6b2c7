"""The book's optimizers: glassnet's, with the book's loop protocol and order of operations."""

from __future__ import annotations

import numpy as np

from glassnet import optimizers
from glassnet._registry import register


class _BookOptimizer:
    """The book's loop protocol: ``pre_update_params``, ``update_params(layer)``, ``post_update_params``."""

    book_args: tuple = ()
    #: the book's layers a model trains with this optimizer (``follow``)
    _book_layers: tuple = ()

    def pre_update_params(self):
        """Nothing to do: ``current_learning_rate`` already applies the decay for this step."""

    def update_params(self, layer):
        lr = self.current_learning_rate
        grads = layer.update_gradients() if hasattr(layer, "update_gradients") else layer.grads
        for key, param in layer.params.items():
            self.update_step(f"{layer.name}/{key}", param, grads[key], lr)

    def follow(self, layers) -> None:
        """Step ``layers``' gradients as their ``update_gradients()`` give them (the book's
        float64 bias gradients) when a model trains them: ``Model.finalize`` calls this."""
        self._book_layers = tuple(layer for layer in layers if hasattr(layer, "update_gradients"))

    def apply_gradients(self, items) -> None:
        wide = {f"{layer.name}/{key}": grad for layer in self._book_layers
                for key, grad in layer.update_gradients().items() if grad is not layer.grads[key]}
        super().apply_gradients((key, param, wide.get(key, grad)) for key, param, grad in items)

    def book_slot(self, key: str, name: str, param, grad):
        """``slot``, widened to the gradient's dtype on the first wider gradient: the book's
        state arrays start as zeros like the parameter and become float64 when a float64
        gradient is added to them."""
        slot = self.slot(key, name, param)
        wider = np.result_type(slot, grad)
        if wider != slot.dtype and key not in self._groups:
            slot = self._slots[key][name] = slot.astype(wider)
        return slot

    def post_update_params(self):
        self.iterations += 1

    def get_config(self):
        config = super().get_config()
        return {k: config[k] for k in self.book_args}


@register("optimizer")
class Optimizer_SGD(_BookOptimizer, optimizers.SGD):
    """The book's SGD. Its momentum keeps the update itself, u ← μu - lr·g; θ ← θ + u, which
    differs from glassnet's (PyTorch's) b ← μb + g; θ ← θ - lr·b once the rate decays."""

    book_args = ("learning_rate", "decay", "momentum")

    def __init__(self, learning_rate=1.0, decay=0.0, momentum=0.0):
        super().__init__(learning_rate, momentum=momentum, decay=decay)

    def update_step(self, key, param, grad, lr):
        if not self.momentum:
            param += -lr * grad
            return
        u = self.book_slot(key, "momentum", param, grad)
        u *= self.momentum
        u -= lr * grad
        self.flush(u, decay=self.momentum)
        param += u


@register("optimizer")
class Optimizer_Adagrad(_BookOptimizer, optimizers.Adagrad):
    """The book's Adagrad: glassnet's, with the accumulator starting at 0 (same arithmetic)."""

    book_args = ("learning_rate", "decay", "epsilon")

    def __init__(self, learning_rate=1.0, decay=0.0, epsilon=1e-7):
        super().__init__(learning_rate, initial_accumulator_value=0.0, epsilon=epsilon, decay=decay)


@register("optimizer")
class Optimizer_RMSprop(_BookOptimizer, optimizers.RMSprop):
    """The book's RMSprop, each product rounded in the book's order (so its figures come out).

    Math: c ← ρc + (1-ρ)g²;  θ ← θ - lr·g / (√c + ε).
    """

    book_args = ("learning_rate", "decay", "epsilon", "rho")

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9):
        super().__init__(learning_rate, rho=rho, epsilon=epsilon, decay=decay)

    def update_step(self, key, param, grad, lr):
        c = self.book_slot(key, "square_avg", param, grad)
        c *= self.rho
        c += (1 - self.rho) * grad**2
        self.flush(c, nonnegative=True, decay=self.rho)
        param += -lr * grad / (np.sqrt(c) + self.epsilon)


@register("optimizer")
class Optimizer_Adam(_BookOptimizer, optimizers.Adam):
    """The book's Adam, each product rounded in the book's order (glassnet's Adam folds both
    bias corrections into one step size: the same number in exact arithmetic, but rounding
    differences grow over a long run into different printed figures).

    Math: m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;  θ ← θ - lr·m̂ / (√v̂ + ε),
    m̂ = m / (1-β₁ᵗ), v̂ = v / (1-β₂ᵗ).
    """

    book_args = ("learning_rate", "decay", "epsilon", "beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, decay=decay)

    def update_step(self, key, param, grad, lr):
        t = self.iterations + 1
        m = self.book_slot(key, "m", param, grad)
        v = self.book_slot(key, "v", param, grad)
        m *= self.beta_1
        m += (1 - self.beta_1) * grad
        self.flush(m, decay=self.beta_1)
        v *= self.beta_2
        v += (1 - self.beta_2) * grad**2
        self.flush(v, nonnegative=True, decay=self.beta_2)
        m_hat = m / (1 - self.beta_1**t)
        v_hat = v / (1 - self.beta_2**t)
        param += -lr * m_hat / (np.sqrt(v_hat) + self.epsilon)
