"""ModelLayer: a model used as one layer of another (a Sequential inside a Model, a model inside a Sequential).

``Sequential.add(model)`` and ``model(tensor)`` wrap the model in a ``ModelLayer``; the wrapper
holds no arrays of its own. Its ``params``, ``grads`` and ``state`` gather the inner layers'
own arrays, keyed ``"<inner layer>/<key>"``, so the outer model's optimizer, files and
``set_weights`` reach the inner arrays themselves, and the inner model sees every update. A
nested model called twice in one graph (shared) runs its later calls through replicas.
"""

from __future__ import annotations

import numpy as np

from glassnet._registry import register
from glassnet.layers.base import Layer
from glassnet.models import chain


@register("layer")
class ModelLayer(Layer):
    """A ``Sequential`` or a ``Model`` called as a layer (Keras' nested models).

    Args:
        model: the inner model; its layers keep their weights, names and ``trainable`` flags.
        name: the layer's name; defaults to the model's.
        trainable: None keeps the model's ``trainable``; False freezes every inner layer (Keras).

    Shapes:
        the inner model's: (N, *input_shape) -> (N, *output_shape); a graph with several
        inputs takes a list of arrays, as a merging layer does, and one with several outputs
        returns a list (``p, q = model(x)``), as a recurrent layer with ``return_state`` does.

    Math:
        forward y = model(x); backward: the inner model's own backward (a chain in reverse for a
        Sequential, the graph in reverse topological order for a Model), which writes the inner
        layers' grads and returns dL/dx.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> block = gn.Sequential([gn.layers.Dense(4, activation="relu", input_shape=(3,))], name="block")
        >>> model = gn.Sequential([block, gn.layers.Dense(1)], seed=0)
        >>> model.layers[0].name, model.predict(np.ones((2, 3))).shape
        ('block', (2, 1))
    """

    def __init__(self, model, name: str | None = None, trainable: bool | None = None):
        self.model = model
        self.takes_list = getattr(model, "is_graph", False) and len(model.inputs) > 1
        #: a graph with several outputs returns a list, and its backward takes one gradient (or None) each
        self.multi_output = getattr(model, "is_graph", False) and len(model.outputs) > 1
        super().__init__(name=name or model.name, trainable=model.trainable if trainable is None else trainable,
                         dtype=model.layers[0].dtype if model.layers else "float32")

    # The attributes Layer.__init__ sets that here belong to the inner model.
    @property
    def trainable(self) -> bool:
        return self.model.trainable

    @trainable.setter
    def trainable(self, value) -> None:
        # Only a change reaches the inner layers: wrapping must not unfreeze a layer frozen inside.
        if bool(value) != self.model.trainable:
            self.model.trainable = bool(value)

    # What Layer.__init__ and build set follows the inner model here (its assignments are dropped).
    built = property(lambda self: self.model.built, lambda self, value: None)
    input_shape = property(lambda self: self.model.input_shape if self.model.built else None,
                           lambda self, value: None)
    output_shape = property(lambda self: self.model.output_shape if self.model.built else None,
                            lambda self, value: None)

    # params, grads, state and regularizers: the inner layers' own entries, keyed "<layer>/<key>";
    # Layer.__init__'s empty dicts are dropped, and an entry's array is the inner layer's array.
    params = property(lambda self: self._gather("params"), lambda self, value: None)
    grads = property(lambda self: self._gather("grads"), lambda self, value: None)
    state = property(lambda self: self._gather("state"), lambda self, value: None)
    regularizers = property(lambda self: self._gather("regularizers"), lambda self, value: None)

    def _gather(self, attribute: str) -> dict:
        return {f"{layer.name}/{key}": value for layer in self.model.layers
                for key, value in getattr(layer, attribute).items()}

    @property
    def rng(self):
        return [layer.rng for layer in self.model.layers]

    @rng.setter
    def rng(self, value) -> None:
        # One generator (the outer model's, per epoch) fans out to a stream per inner layer; a
        # list is the getter's generators coming back (saved and restored around a check).
        if value is None:  # Layer.__init__'s default: the inner layers keep their own
            return
        for i, layer in enumerate(self.model.layers):
            layer.rng = value[i] if isinstance(value, list) else np.random.default_rng([int(value.integers(2**32)), i])

    @property
    def sublayers(self) -> list:
        """The inner model's layers (the optimizer and the tools reach into them)."""
        return self.model.layers

    def replica(self) -> "ModelLayer":
        """A twin for a later call of this model in one graph (a shared model, as a siamese
        network's encoder is called twice): replicas of the inner layers, which read the same
        weights and write grads of their own, chained as the inner Sequential is, or run in the
        inner graph's order (``Model.replica``)."""
        from glassnet.models import graph  # graph's replica() hands a nested model back here

        if getattr(self.model, "is_graph", False):
            return ModelLayer(self.model.replica(), name=self.name)
        return ModelLayer(_Chain(self.model, [graph.replica(layer) for layer in self.model.layers]), name=self.name)

    # -- building and computing ----------------------------------------------------------------
    def build(self, input_shape) -> None:
        if not self.model.built:
            self.model.build(input_shape)
            return
        expected = self.model.input_shape
        got = input_shape
        if not self.takes_list:
            expected, got = [expected], [got]
        if len(expected) != len(got) or any(tuple(e[1:]) != tuple(g[1:]) for e, g in zip(expected, got)):
            raise ValueError(f"Model {self.model.name!r} was built for inputs {self.model.input_shape} but is "
                             f"called on {input_shape}.")

    def compute_output_shape(self, input_shape):
        self.build(input_shape)  # a built model only checks the shape
        return self.model.output_shape

    def forward(self, x, training: bool = False):
        if getattr(self.model, "is_graph", False):
            y = self.model.forward(x if self.takes_list else [x], training=training)
            return y if self.multi_output else y[0]
        return chain.forward(self.model, x, training)[0]

    def forward_with_mask(self, x, training: bool = False, mask=None, logits: bool = False):
        """(output, its time-step mask): the inner layers run with the mask of ``x`` and hand
        theirs on, as in Keras, where a nested model's output keeps its mask. ``logits`` as
        ``forward_logits``. ``mask`` is one mask, or a list (one per input) for several inputs."""
        if getattr(self.model, "is_graph", False):
            out_masks = []
            given = mask if self.takes_list else [mask]
            y = self.model.forward(x if self.takes_list else [x], training=training, masks=out_masks,
                                   input_masks=given if given is not None else None)
            # several outputs: a list of masks, one per output, as the graph hands them on
            return (y, out_masks) if self.multi_output else (y[0], out_masks[0])
        return chain.forward(self.model, x, training, mask=mask, logits=logits and self.output_activation is not None)

    def backward(self, grad):
        if getattr(self.model, "is_graph", False):
            # several outputs: one gradient each, None for an output no loss depends on
            dx = self.model.backward(grad if self.multi_output else [grad], input_grads=self.needs_input_grad)
            return dx if self.takes_list else dx[0]
        return chain.backward(self.model, grad, input_grads=self.needs_input_grad)

    # A nested Sequential's last activation pairs with the outer model's loss as a layer's would
    # (softmax or sigmoid with its cross-entropy: the fused gradient p - y on the logits).
    @property
    def output_activation(self):
        if getattr(self.model, "is_graph", False) or not self.model.layers:
            return None  # a graph's output is never split at its logits here: no pairing
        return self.model.layers[-1].output_activation

    def forward_logits(self, x, training: bool = False):
        if self.output_activation is None:
            return self.forward(x, training=training)
        return chain.forward(self.model, x, training, logits=True)[0]

    def backward_logits(self, grad):
        if self.output_activation is None:
            return self.backward(grad)
        return chain.backward(self.model, grad, input_grads=self.needs_input_grad, logits=True)

    def count_trainable_params(self) -> int:
        return sum(layer.count_trainable_params() for layer in self.model.layers)

    def add_regularization_grads(self) -> None:
        for layer in self.model.layers:
            if layer.regularizers:
                layer.add_regularization_grads()

    # -- config ----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable,
                "model": {"class_name": type(self.model).__name__, "config": self.model.get_config()}}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuild the inner model from its config (its classes come from the registry only)."""
        return cls(model_from_config(config["model"]), name=config.get("name"), trainable=config.get("trainable"))

    def __repr__(self):
        return f"<ModelLayer name={self.name!r} model={type(self.model).__name__} output_shape={self.output_shape}>"


class _Chain:
    """Replicas of a Sequential's layers, standing in for it in a later call of the shared model."""

    is_graph = False
    built = True

    def __init__(self, model, layers: list):
        self.name, self.layers, self._model = model.name, layers, model

    @property
    def trainable(self) -> bool:
        return self._model.trainable

    @trainable.setter
    def trainable(self, value) -> None:
        pass  # the shared model's own flag decides; its optimizer steps never reach replicas

    @property
    def input_shape(self):
        return self._model.input_shape

    @property
    def output_shape(self):
        return self._model.output_shape


def model_from_config(spec) -> object:
    """A ``Sequential`` or ``Model`` from ``{"class_name", "config"}`` (no other class is accepted)."""
    from glassnet.models.functional import Model
    from glassnet.models.sequential import Sequential

    classes = {"Sequential": Sequential, "Model": Model}
    if not isinstance(spec, dict) or spec.get("class_name") not in classes or not isinstance(spec.get("config"), dict):
        raise ValueError(f"A nested model's config must describe a Sequential or a Model; got {str(spec)[:200]}.")
    return classes[spec["class_name"]].from_config(spec["config"])


def holds(model, target) -> bool:
    """Whether ``target`` is nested in ``model``, at any depth."""
    return any(layer.model is target or holds(layer.model, target)
               for layer in model.layers if isinstance(layer, ModelLayer))


def layer_kind(layer) -> str:
    """What a summary calls the layer: the inner model's class for a nested model."""
    return type(layer.model).__name__ if isinstance(layer, ModelLayer) else type(layer).__name__


def trainable_slots(layers, prefix: str = ""):
    """``(name, param, grad)`` of every trainable parameter, reaching into nested models, named
    as the optimizer keys its slots: ``"<layer>/<key>"``, ``"<model>/<inner layer>/<key>"``."""
    for layer in layers:
        if isinstance(layer, ModelLayer):
            yield from trainable_slots(layer.sublayers, f"{prefix}{layer.name}/")
        elif layer.trainable:
            for key, param in layer.params.items():
                yield f"{prefix}{layer.name}/{key}", param, layer.grads[key]
