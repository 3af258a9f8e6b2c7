"""Model: a graph of layers built by calling them on symbolic tensors (Keras' Functional API).

Forward runs the layer calls (nodes) in topological order; backward runs them in reverse and sums
the gradients where a tensor feeds several layers (a fan-out, a residual connection) and where one
layer is called more than once (a shared layer: its parameter gradients add up).
"""

from __future__ import annotations

import numpy as np

from glassnet import losses as losses_module
from glassnet import optimizers as optimizers_module
from glassnet import utils
from glassnet._registry import deserialize, serialize
from glassnet.layers.base import Layer
from glassnet.layers.reshaping import Input as InputLayer
from glassnet.layers.symbolic import Node, SymbolicTensor, as_tensor
from glassnet.models import data, training
from glassnet.models import outputs as outputs_module


def Input(shape, name: str | None = None, dtype: str = "float32") -> SymbolicTensor:
    """A graph input: the symbolic tensor that layers are called on (Keras' ``keras.Input``).

    Args:
        shape: per-sample shape without the batch axis, e.g. ``(12,)`` or ``(28, 28, 1)``.
        name: the input's name; ``fit`` and ``predict`` accept a dict keyed by it.
        dtype: "float32" (default) or "float64".

    Example:
        >>> import glassnet as gn
        >>> x = gn.Input(shape=(12,), name="table")
        >>> x.shape, x.name
        ((None, 12), 'table')
    """
    return InputLayer(shape, name=name, dtype=dtype).output


class GraphError(ValueError):
    """A graph that cannot be run: a disconnected output, an unused input, a cycle."""


def _flatten(structure, what: str) -> tuple[list[SymbolicTensor], list[str] | None]:
    """Tensors from a tensor, list or dict (Keras' three forms); the dict's keys, if a dict."""
    if isinstance(structure, dict):
        keys = list(structure)
        if not all(isinstance(k, str) for k in keys):
            raise TypeError(f"Model {what} given as a dict need str keys; got {keys}.")
        return [as_tensor(structure[k]) for k in keys], keys
    if isinstance(structure, (list, tuple)):
        if not structure:
            raise ValueError(f"Model needs at least one of its {what}; got an empty list.")
        return [as_tensor(t) for t in structure], None
    return [as_tensor(structure)], None


def topological_nodes(outputs: list[SymbolicTensor]) -> list[Node]:
    """Every node the outputs depend on, each after the nodes it reads (depth-first, in call order).

    Raises:
        GraphError: the nodes form a cycle (only a hand-edited graph can).
    """
    order, state = [], {}  # state: id(node) -> "visiting" | "done"
    for out in outputs:
        stack = [(out.node, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                state[id(node)] = "done"
                order.append(node)
                continue
            if state.get(id(node)) == "done":
                continue
            if state.get(id(node)) == "visiting":
                raise GraphError(f"The graph has a cycle through layer {node.layer.name!r}: a layer's "
                                 f"input depends on its own output.")
            state[id(node)] = "visiting"
            stack.append((node, True))
            for t in reversed(node.inputs):
                if state.get(id(t.node)) == "visiting":
                    raise GraphError(f"The graph has a cycle through layer {t.node.layer.name!r}: a "
                                     f"layer's input depends on its own output.")
                if state.get(id(t.node)) != "done":
                    stack.append((t.node, False))
    return order


class Model:
    """A model whose layers form a graph: several inputs or outputs, residual connections, shared layers.

    Args:
        inputs: the graph's inputs (from ``gn.Input``): one tensor, a list, or a dict by name.
        outputs: the tensors it computes from them: one tensor, a list, or a dict by name.
        name: the model's name.
        seed: draws every layer's initial weights (as ``Sequential``'s seed does); defaults
            to the seed given to ``gn.utils.set_random_seed`` or else a fresh random one.

    Raises:
        GraphError: an output needs an input that is not among ``inputs``, or an input feeds no output.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> from glassnet import layers
        >>> x = gn.Input(shape=(4,))
        >>> h = layers.Dense(4, activation="tanh")(x)
        >>> y = layers.Dense(1)(layers.Add()([x, h]))  # a residual connection
        >>> model = gn.Model(x, y, seed=0)
        >>> model(np.ones((2, 4))).shape
        (2, 1)
    """

    is_graph = True  # the training loop asks a graph for its forward, loss and backward

    def __init__(self, inputs, outputs, name: str | None = None, seed: int | None = None):
        self.name = name or "functional"
        self.seed = utils.default_seed() if seed is None else int(seed)
        self.inputs, self._input_keys = _flatten(inputs, "inputs")
        self.outputs, self._output_keys = _flatten(outputs, "outputs")
        for t in self.inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise GraphError(f"Model inputs must come from gn.Input(...); {t.name!r} is the output of a "
                                 f"{type(t.node.layer).__name__} layer.")
        self.nodes = topological_nodes(self.outputs)
        self._check_connections()
        self.layers: list[Layer] = []
        for node in self.nodes:
            if not any(node.layer is layer for layer in self.layers):
                self.layers.append(node.layer)
        names = [layer.name for layer in self.layers]
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:
            raise ValueError(f"Two layers of this model are named {clash[0]!r}; layer names must be unique.")
        self._build()
        self.optimizer, self.loss, self.loss_weights, self.metrics, self._fused = None, None, None, [], []
        self.stop_training, self.history = False, None

    # -- building -----------------------------------------------------------------------------
    def _check_connections(self) -> None:
        used_inputs = [n.layer for n in self.nodes if isinstance(n.layer, InputLayer)]
        given = [t.node.layer for t in self.inputs]
        for layer in used_inputs:
            if not any(layer is g for g in given):
                raise GraphError(f"The outputs depend on input {layer.name!r}, which is not among the model's "
                                 f"inputs {[g.name for g in given]}: add it to inputs=[...].")
        for g in given:
            if not any(g is layer for layer in used_inputs):
                raise GraphError(f"Input {g.name!r} is not used by any output; remove it from inputs=[...] "
                                 f"or connect it to an output.")
        if len({id(g) for g in given}) != len(given):
            raise GraphError("An input appears twice in inputs=[...]; list each once.")

    def _build(self) -> None:
        """Build each unbuilt layer, in graph order, with weights drawn from the model's seed.

        A layer called more than once (shared) runs its later calls through a replica: a copy
        that reads the same ``params`` and ``state`` dicts but writes its own ``grads``, so each
        call keeps its own forward cache for backward; ``backward`` adds the replicas' grads
        into the layer's.
        """
        for index, layer in enumerate(self.layers):
            if not layer.built:
                first = layer.nodes[next(i for i, n in enumerate(layer.nodes) if n in self.nodes)]
                layer.rng = utils.rng_for(self.seed, utils.INIT, index)
                layer.build([t.shape for t in first.inputs] if first.as_list else first.inputs[0].shape)
        self._runner = {}
        for node in self.nodes:
            layer = node.layer
            seen = any(r is layer for r in self._runner.values())
            self._runner[id(node)] = _replica(layer) if seen else layer

    def _replicas(self):
        """(layer, replica) pairs for every later call of a shared layer."""
        return [(node.layer, self._runner[id(node)]) for node in self.nodes
                if self._runner[id(node)] is not node.layer]

    @property
    def built(self) -> bool:
        return True

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by its index in ``layers`` (graph order), as in Keras."""
        if (name is None) == (index is None):
            raise ValueError("get_layer needs exactly one of name=... or index=....")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer(index={index}): the model has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named {name!r}; the layers are {[layer.name for layer in self.layers]}.")

    # -- computing ------------------------------------------------------------------------------
    def _arrays(self, x) -> list[np.ndarray]:
        """The input arrays in ``self.inputs`` order, from an array, a list or a dict by name."""
        n = len(self.inputs)
        if isinstance(x, dict):
            missing = [k for k in self.input_names if k not in x]
            extra = [k for k in x if k not in self.input_names]
            if missing or extra:
                raise ValueError(f"Model {self.name!r} takes inputs named {self.input_names}; the dict "
                                 f"{'lacks ' + str(missing) if missing else ''}"
                                 f"{' and ' if missing and extra else ''}"
                                 f"{'has unknown ' + str(extra) if extra else ''}.")
            x = [x[k] for k in self.input_names]
        elif not isinstance(x, (list, tuple)):
            x = [x]
        if len(x) != n:
            raise ValueError(f"Model {self.name!r} takes {n} input{'s' if n > 1 else ''} "
                             f"({', '.join(self.input_names)}); got {len(x)}.")
        arrays = []
        for xi, t in zip(x, self.inputs):
            xi = np.asarray(xi)
            if xi.dtype.kind != "f":  # as predict casts: integers would wrap in pooling sums
                xi = xi.astype(t.dtype)
            if xi.ndim != len(t.shape) or any(d is not None and d != s for d, s in zip(t.shape[1:], xi.shape[1:])):
                raise ValueError(f"Input {t.name!r} expects arrays of shape {t.shape}; got {xi.shape}.")
            arrays.append(xi)
        sizes = {xi.shape[0] for xi in arrays}
        if len(sizes) > 1:
            raise ValueError(f"The inputs have different sample counts: "
                             f"{dict(zip(self.input_names, (xi.shape[0] for xi in arrays)))}.")
        return arrays

    def forward(self, inputs: list[np.ndarray], training: bool = False, logits: frozenset = frozenset()
                ) -> list[np.ndarray]:
        """Run every node in topological order; returns the outputs' arrays in ``outputs`` order.

        Args:
            inputs: one array per model input, in ``inputs`` order.
            training: training mode (dropout, batch statistics).
            logits: indices of outputs to return before their layer's final activation (training
                pairs a sigmoid or softmax with its loss; see ``Sequential.compile``).

        Math:
            for each node in order: value[node.output] = layer.forward(value[node.inputs]).
        """
        value = {id(t): x for t, x in zip(self.inputs, inputs)}
        logit_nodes = {id(self.outputs[k].node) for k in logits}
        for node in self.nodes:
            if isinstance(node.layer, InputLayer):
                continue
            runner = self._runner[id(node)]
            if runner is not node.layer:  # the epoch's generator and switches are the layer's
                runner.rng, runner.trainable = node.layer.rng, node.layer.trainable
            args = [value[id(t)] for t in node.inputs]
            call = runner.forward_logits if id(node) in logit_nodes else runner.forward
            value[id(node.output)] = call(args if node.as_list else args[0], training=training)
        return [value[id(t)] for t in self.outputs]

    def backward(self, grads: list, logits: frozenset = frozenset()) -> list[np.ndarray]:
        """Back-propagate the gradients wrt the outputs; returns those wrt the inputs.

        Writes every layer's ``grads`` (overwriting, as a layer's backward does). An output's
        gradient may be None: it then contributes nothing. ``logits``: the outputs whose
        gradient is wrt the pre-activation, as ``forward(..., logits=...)`` returned them.

        Math:
            for each node in reverse order: g = Σ (gradients reaching node.output), then
            layer.backward(g) gives each input's share, added to what already reached it;
            a shared layer's dW = Σ over its calls.
        """
        if len(grads) != len(self.outputs):
            raise ValueError(f"backward needs one gradient per output ({len(self.outputs)}); got {len(grads)}.")
        pending: dict[int, np.ndarray] = {}
        logit_nodes = {id(self.outputs[k].node) for k in logits}

        def add(tensor, g):
            key = id(tensor)
            pending[key] = g if key not in pending else pending[key] + g  # a fan-out: the shares add up

        for t, g in zip(self.outputs, grads):
            if g is not None:
                add(t, g)
        for node in reversed(self.nodes):
            if isinstance(node.layer, InputLayer):
                continue
            runner = self._runner[id(node)]
            g = pending.pop(id(node.output), None)
            if g is None:  # no loss depends on this call: its parameters get zero gradients
                for grad in runner.grads.values():
                    grad[...] = 0  # in place: gradients may be views of one buffer
                continue
            dx = runner.backward_logits(g) if id(node) in logit_nodes else runner.backward(g)
            for t, dxi in zip(node.inputs, dx if node.as_list else [dx]):
                if dxi is not None:  # None: a layer told that no one needs its input's gradient
                    add(t, dxi)
        # Shared layers: the replicas wrote their calls' gradients; the layer's own is the first call's.
        for layer, replica in self._replicas():
            for key, grad in layer.grads.items():
                grad += replica.grads[key]  # in place: gradients may be views of one buffer
        return [pending.get(id(t)) for t in self.inputs]

    def _structure(self, outputs: list):
        """Outputs as the user gave them to the model: one array, a list, or a dict by key."""
        if self._output_keys is not None:
            return dict(zip(self._output_keys, outputs))
        return outputs[0] if len(outputs) == 1 else outputs

    def __call__(self, x, training: bool = False):
        """The outputs for input arrays ``x`` (one array, a list or a dict by input name): one
        array for a one-output model, else a list (a dict when the outputs were given as one)."""
        return self._structure(self.forward(self._arrays(x), training))

    # -- compiling and the workflow (the loop is Sequential's: glassnet/models/training.py) -----
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None) -> None:
        """Choose the optimizer and, per output, the loss, its weight and the metrics (as in Keras).

        Args:
            optimizer: a name or a glassnet optimizer.
            loss: one loss for every output, a list in output order, or a dict by output name.
            metrics: a list (one output), a list of lists, or a dict by output name.
            loss_weights: a list or dict of factors: the loss trained is Σₖ wₖ lossₖ (+ penalties).

        With several outputs, History logs each output's loss as ``<output>_loss`` and each metric
        as ``<output>_<metric>`` (``val_`` in front for validation), as Keras names them.
        A sigmoid or softmax output is paired with its cross-entropy, as in ``Sequential``.
        """
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='mse', or a dict by output name.")
        optimizer = optimizers_module.get(optimizer)
        if not isinstance(optimizer, optimizers_module.Optimizer):
            raise TypeError(f"optimizer must be a name such as 'adam' or a glassnet optimizer; got "
                            f"{type(optimizer).__name__}.")
        losses, weights, trackers = outputs_module.compile_outputs(self.output_names, loss, metrics, loss_weights)
        training.claim_optimizer(self, optimizer)
        self.optimizer, self.loss, self.loss_weights, self.metrics = optimizer, losses, weights, trackers
        consumers = [id(t) for node in self.nodes for t in node.inputs]
        out_ids = [id(t) for t in self.outputs]
        # Fuse only where the output is the graph's end: a tensor that other layers also read, or
        # that two outputs share, must stay activated for them.
        self._fused = [losses_module.fused_with(item, t.node.layer.output_activation)
                       if id(t) not in consumers and out_ids.count(id(t)) == 1 else None
                       for item, t in zip(losses, self.outputs)]

    @property
    def compiled(self) -> bool:
        return self.loss is not None

    def forward_loss(self, x, y, sample_weight, training: bool, need_pred: bool = True):
        """Forward, then Σₖ wₖ lossₖ. Returns (loss, predictions as ``Arrays`` or None, gradients
        wrt each output: wrt the pre-activation for a fused output)."""
        fused = frozenset(k for k, f in enumerate(self._fused) if f is not None)
        outs = self.forward(x.arrays, training=training, logits=fused)
        total, grads, preds = 0.0, [], []
        for k, (out, target) in enumerate(zip(outs, y.arrays)):
            if k in fused:
                value, grad = self._fused[k].value_and_gradient(target, out, sample_weight)
                out = self.outputs[k].node.layer.output_activation.forward(out) if need_pred else None
            else:
                value, grad = self.loss[k].value_and_gradient(target, out, sample_weight)
            weight = self.loss_weights[k]
            total += weight * value
            grads.append(grad if weight == 1 else grad * grad.dtype.type(weight))
            preds.append(out)
        return total, (outputs_module.Arrays(preds) if need_pred else None), grads

    def backward_loss(self, grads) -> None:
        """Back-propagate ``forward_loss``'s gradients into every layer's ``grads``."""
        self.backward(grads, logits=frozenset(k for k, f in enumerate(self._fused) if f is not None))

    def stratify_labels(self, y):
        """The targets of the first classification output (stratified ``validation_split``), or None."""
        for k, item in enumerate(self.loss):
            if item.classification:
                return y.arrays[k]
        return None

    def prepare_xy(self, x, y, x_name: str = "x", y_name: str = "y"):
        """Inputs and targets as checked ``Arrays`` (from arrays, lists or dicts by name)."""
        xs = [data.as_array(xi, f"{x_name}[{t.name!r}]", t.dtype) for xi, t in zip(self._inputs_in_order(x, x_name),
                                                                                    self.inputs)]
        ys = outputs_module.prepare_targets(self, y, y_name)
        outputs_module.check_sample_counts(**{x_name: xs, y_name: ys})
        self._arrays(xs)  # the per-input shape checks
        return outputs_module.Arrays(xs), outputs_module.Arrays(ys)

    def _inputs_in_order(self, x, x_name: str = "x") -> list:
        if isinstance(x, dict):
            missing = [k for k in self.input_names if k not in x]
            extra = [k for k in x if k not in self.input_names]
            if missing or extra:
                raise ValueError(f"{x_name} must hold one array per input {self.input_names}; "
                                 + (f"missing {missing}" if missing else "") + ("; " if missing and extra else "")
                                 + (f"unknown {extra}" if extra else "") + ".")
            return [x[k] for k in self.input_names]
        x = list(x) if isinstance(x, (list, tuple)) and len(self.inputs) > 1 else [x]
        if len(x) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} takes {len(self.inputs)} inputs ({', '.join(self.input_names)}); "
                             f"{x_name} is a list of {len(x)}.")
        return x

    def fit(self, x=None, y=None, batch_size: int = 32, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True, sample_weight=None,
            initial_epoch: int = 0, log_every: int | None = None):
        """Train for ``epochs`` epochs with Sequential's loop; returns a ``History``.

        ``x`` and ``y``: an array, a list in input (output) order or a dict by name.
        ``validation_split`` stratifies on the first classification output.
        """
        self._require_compiled("fit")
        return training.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                            callbacks=callbacks, validation_split=validation_split,
                            validation_data=validation_data, shuffle=shuffle, class_weight=None,
                            sample_weight=sample_weight, initial_epoch=initial_epoch, log_every=log_every)

    def train_on_batch(self, x, y, sample_weight=None, return_dict: bool = False):
        """One optimizer step on one batch; returns the loss (and metrics, as in Keras)."""
        return training.train_on_batch(self, x, y, sample_weight, None, return_dict)

    def evaluate(self, x=None, y=None, batch_size: int | None = None, verbose=0, sample_weight=None,
                 return_dict: bool = False):
        """Loss and metrics on ``x, y``: a float without metrics, else [loss, *metrics]."""
        return training.evaluate(self, x, y, batch_size, verbose, sample_weight, return_dict)

    def predict(self, x, batch_size: int | None = None, verbose=0):
        """The outputs for ``x`` in batches (inference mode): an array for one output, else a list,
        or a dict when the outputs were given as one."""
        xs = [data.as_array(xi, f"x[{t.name!r}]", t.dtype) for xi, t in zip(self._inputs_in_order(x), self.inputs)]
        xs = self._arrays(xs)
        batch_size = data.check_batch_size(batch_size or training.INFERENCE_BATCH)
        parts = [self.forward([xi[s] for xi in xs]) for s in data.batch_slices(xs[0].shape[0], batch_size)]
        return self._structure([np.concatenate([p[k] for p in parts]) for k in range(len(self.outputs))])

    def _require_compiled(self, action: str) -> None:
        if not self.compiled:
            raise ValueError(f"Cannot {action} before compile(): call model.compile(optimizer=..., loss=...).")

    # -- weights --------------------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of every layer's arrays in ``layers`` order (parameters, then state)."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        weights = list(weights)
        expected = sum(len(layer.weight_names()) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"set_weights expects {expected} arrays for this model; got {len(weights)}.")
        i = 0
        for layer in self.layers:
            n = len(layer.weight_names())
            layer.set_weights(weights[i:i + n])
            i += n

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self.layers)

    # -- describing ---------------------------------------------------------------------------------
    def summary(self, line_length: int = 98, print_fn=print) -> None:
        """Print layers, output shapes, parameter counts and what each layer reads (Keras' layout)."""
        widths = (int(line_length * 0.3), int(line_length * 0.22), int(line_length * 0.12))
        rows = [("Layer (type)", "Output Shape", "Param #", "Connected to")]
        index = self._node_indices()
        for node in self.nodes:
            layer = node.layer
            inbound = ", ".join(f"{t.node.layer.name}[{index[id(t.node)]}][0]" for t in node.inputs) or "-"
            first = next(n for n in self.nodes if n.layer is layer) is node  # count a shared layer once
            rows.append((f"{layer.name} ({type(layer).__name__})", str(node.output.shape),
                         f"{layer.count_params():,}" if first else "0 (shared)", inbound))
        lines = [f'Model: "{self.name}"', "_" * line_length]
        for i, (a, b, c, d) in enumerate(rows):
            lines.append(f"{a:<{widths[0] - 1}} {b:<{widths[1] - 1}} {c:<{widths[2] - 1}} {d}")
            lines.append(("=" if i == 0 else "_") * line_length)
        total = self.count_params()
        trainable = sum(layer.count_trainable_params() for layer in self.layers)
        lines[-1] = "=" * line_length
        lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}", "_" * line_length]
        print_fn("\n".join(lines))

    def _node_indices(self) -> dict[int, int]:
        """id(node) -> its index among its layer's calls in this model (Keras' node index)."""
        seen, index = {}, {}
        for node in self.nodes:
            index[id(node)] = seen.get(id(node.layer), 0)
            seen[id(node.layer)] = index[id(node)] + 1
        return index

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """JSON-ready graph: each layer's class and arguments and, per call, the [layer, call index]
        pairs it reads; the inputs and outputs as [layer, call index] (and their dict keys)."""
        index = self._node_indices()

        def ref(t):
            return [t.node.layer.name, index[id(t.node)]]
        layers = []
        for layer in self.layers:
            calls = [[ref(t) for t in node.inputs] for node in self.nodes
                     if node.layer is layer and not isinstance(layer, InputLayer)]
            layers.append({"class_name": type(layer).__name__, "config": layer.get_config(), "inbound_nodes": calls})
        return {"name": self.name, "seed": self.seed, "layers": layers,
                "input_layers": [ref(t) for t in self.inputs], "output_layers": [ref(t) for t in self.outputs],
                "input_keys": self._input_keys, "output_keys": self._output_keys}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None, build_layer=None) -> "Model":
        """Rebuild the graph (fresh weights drawn from the saved seed): no code is run from the config.

        Args:
            config: ``get_config()``'s dict.
            custom_objects: name -> class for your own layers.
            build_layer: ``build_layer(layer, input_shapes)`` builds each layer before its first
                call (the file loader checks every weight's shape against the file there).

        Raises:
            GraphError: a call reads a layer or call that does not exist, or the calls form a cycle.
        """
        specs = config.get("layers")
        if not isinstance(specs, list) or not specs:
            raise GraphError("The graph config must list its layers.")
        layers, pending = {}, []
        for spec in specs:
            if not isinstance(spec, dict) or not isinstance(spec.get("inbound_nodes", []), list):
                raise GraphError(f"A layer entry of the graph config is malformed: {str(spec)[:200]}.")
            layer = deserialize("layer", {"class_name": spec.get("class_name"), "config": spec.get("config")},
                                custom_objects)
            if not isinstance(layer, Layer):
                raise GraphError(f"{spec.get('class_name')!r} is not a glassnet layer.")
            if layer.name in layers:
                raise GraphError(f"Two layers of the graph config are named {layer.name!r}.")
            layers[layer.name] = layer
            pending += [(layer, call) for call in spec.get("inbound_nodes", [])]
        outputs = {name: [layer.output] for name, layer in layers.items() if isinstance(layer, InputLayer)}

        def lookup(ref):
            if (not isinstance(ref, list) or len(ref) != 2 or not isinstance(ref[0], str)
                    or not isinstance(ref[1], int) or ref[0] not in layers):
                raise GraphError(f"The graph config refers to {str(ref)[:100]}, which names no layer's call.")
            calls = outputs.get(ref[0], [])
            return calls[ref[1]] if 0 <= ref[1] < len(calls) else None

        for layer, call in pending:  # a call reads earlier calls only, so one pass in order must do
            if not isinstance(call, list) or not call:
                raise GraphError(f"Layer {layer.name!r}: a call in the graph config lists no inputs.")
            inputs = [lookup(ref) for ref in call]
            if any(t is None for t in inputs):
                raise GraphError(f"Layer {layer.name!r} reads a call that comes later or never: the graph "
                                 f"config has a cycle or a dangling reference ({str(call)[:100]}).")
            if not layer.built and build_layer is not None:
                build_layer(layer, [t.shape for t in inputs] if layer.takes_list else inputs[0].shape)
            outputs.setdefault(layer.name, []).append(layer(inputs if layer.takes_list else inputs[0]))

        def tensors(refs, keys):
            found = [lookup(ref) for ref in refs or []]
            if not found or any(t is None for t in found):
                raise GraphError(f"The graph config's inputs or outputs name calls that do not exist: "
                                 f"{str(refs)[:100]}.")
            return dict(zip(keys, found)) if keys is not None else found
        return cls(tensors(config.get("input_layers"), config.get("input_keys")),
                   tensors(config.get("output_layers"), config.get("output_keys")),
                   name=config.get("name"), seed=config.get("seed"))

    def get_compile_config(self) -> dict | None:
        if not self.compiled:
            return None
        return {"optimizer": serialize(self.optimizer), "loss": [serialize(item) for item in self.loss],
                "loss_weights": list(self.loss_weights),
                "metrics": [[serialize(m.metric) for m in self.metrics
                             if isinstance(m, outputs_module.OutputMetric) and m.index == k]
                            for k in range(len(self.outputs))]}

    def compile_from_config(self, config: dict, custom_objects=None) -> None:
        self.compile(optimizer=deserialize("optimizer", config["optimizer"], custom_objects),
                     loss=[deserialize("loss", item, custom_objects) for item in config["loss"]],
                     loss_weights=config.get("loss_weights"),
                     metrics=[[deserialize("metric", m, custom_objects) for m in items]
                              for items in config.get("metrics", [])] or None)

    # -- files (glassnet.saving) ------------------------------------------------------------------
    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Save the graph, weights, optimizer state and training position to one file, atomically;
        load it back with ``gn.load_model``."""
        from glassnet import saving

        saving.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save only the weights (parameters and state) as a safetensors file, atomically."""
        from glassnet import saving

        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath) -> None:
        """Load weights from ``save_weights`` or a model file; layers are matched by position."""
        from glassnet import saving

        saving.load_weights(self, filepath)

    def __repr__(self):
        return f"<Model name={self.name!r} inputs={self.input_names} outputs={self.output_names}>"


def _replica(layer: Layer) -> Layer:
    """A copy of a built ``layer`` sharing its parameter and state arrays, with grads of its own."""
    twin = type(layer).from_config(layer.get_config())
    twin.build(layer.input_shape)  # sets what build derives besides weights; the weights are replaced
    twin.params, twin.state = layer.params, layer.state  # the same dicts: updates and swaps show
    twin.grads = {key: np.zeros_like(p) for key, p in layer.params.items()}
    twin.regularizers = {}  # penalties count once, on the layer itself
    return twin
