"""Weight penalties added to the loss: L1, L2 and both, as in the NNFS book and Keras.

Math: penalty = l1 Σ|w| + l2 Σw²; gradient = l1 sign(w) + 2 l2 w.
"""

from __future__ import annotations

import numpy as np

from glassnet._registry import deserialize, register


@register("regularizer", "l1_l2")
class L1L2:
    """Both penalties.

    Args:
        l1: weight of Σ|w|.
        l2: weight of Σw².
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        if l1 < 0 or l2 < 0:
            raise ValueError(f"Regularization factors must be >= 0; got l1={l1}, l2={l2}.")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w: np.ndarray) -> float:
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.abs(w).sum())
        if self.l2:
            penalty += self.l2 * float(np.square(w).sum())
        return penalty

    def gradient(self, w: np.ndarray) -> np.ndarray:
        grad = np.zeros_like(w)
        if self.l1:
            grad += self.l1 * np.sign(w)
        if self.l2:
            grad += (2.0 * self.l2) * w
        return grad

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


@register("regularizer", "l1")
class L1(L1L2):
    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


@register("regularizer", "l2")
class L2(L1L2):
    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


# Keras' lowercase names, as tutorials write them: ``kernel_regularizer=regularizers.l2(1e-4)``.
l1 = L1
l2 = L2


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras' ``regularizers.l1_l2``: both penalties, 0.01 each by default (``L1L2`` defaults to 0)."""
    return L1L2(l1=l1, l2=l2)


def get(identifier) -> L1L2 | None:
    if identifier is None:
        return None
    return deserialize("regularizer", identifier)
