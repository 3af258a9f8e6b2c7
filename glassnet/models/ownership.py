"""Which model an optimizer trains: its moments and step count belong to one model (Keras 3
refuses to share one too), so ``compile`` claims it and ``fit`` checks the claim still holds."""

from __future__ import annotations

import weakref

from glassnet import optimizers as optimizers_module


#: optimizer -> the model it trains (weak both ways, and kept off the optimizer so that
#: copying or pickling it, as scikit-learn does with estimators, carries no reference).
_OPTIMIZER_OWNERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def resolve_optimizer(optimizer):
    """An optimizer from a name, a config or an instance (``compile``'s argument), checked."""
    optimizer = optimizers_module.get(optimizer)
    if not isinstance(optimizer, optimizers_module.Optimizer):
        raise TypeError(f"optimizer must be a name such as 'adam' or a glassnet optimizer; got "
                        f"{type(optimizer).__name__}, e.g. use optimizer=gn.optimizers.Adam(0.001).")
    return optimizer


def claim_optimizer(model, optimizer) -> None:
    """Make ``model`` the owner of ``optimizer`` (``compile``), refusing one whose moments and
    step count belong to another model: shared, a second model would start from the first
    one's state (slots are keyed by layer name). Keras 3 refuses too. An optimizer that never
    stepped may move (learning-rate sweeps hand one build function's optimizer around)."""
    owner = _owner(optimizer)
    # A stepped optimizer stays with the model that holds it (recompiling it, or a copy made
    # with pickle) or that registered it; anything else would inherit its moments.
    if optimizer.iterations > 0 and getattr(model, "optimizer", None) is not optimizer and owner is not model:
        name = type(optimizer).__name__
        raise ValueError(f"This {name} instance has trained {'another model' if owner is None else repr(owner.name)}"
                         f" ({optimizer.iterations} steps); give each model its own: a new {name}(...) "
                         f"in each compile, or {name}.from_config(optimizer.get_config()).")
    hand_over_optimizer(optimizer, model)


def _owner(optimizer):
    """The live model ``optimizer`` is registered to, or None."""
    entry = _OPTIMIZER_OWNERS.get(optimizer)
    return entry() if entry is not None else None


def hand_over_optimizer(optimizer, model) -> None:
    """Register ``model`` as the owner of ``optimizer``, state and all: for a wrapper that
    rebuilds its network around the same layers (glassnet.nnfs' ``finalize``)."""
    _OPTIMIZER_OWNERS[optimizer] = weakref.ref(model)


def check_optimizer_owner(model) -> None:
    """Refuse to train with an optimizer that another model was compiled with since."""
    owner = _owner(model.optimizer)
    if owner is not None and owner is not model:
        raise ValueError(f"This model's {type(model.optimizer).__name__} was since compiled into model "
                         f"{owner.name!r}, and one optimizer's state cannot serve two models; compile "
                         f"this model again with an optimizer of its own.")
