"""Model: a graph of layers built by calling them on symbolic tensors (Keras' Functional API).

Forward runs the layer calls (nodes) in topological order; backward runs them in reverse and sums
the gradients where a tensor feeds several layers (a fan-out, a residual connection) and where one
layer is called more than once (a shared layer: its parameter gradients add up). Both are the
loop every model runs (glassnet/models/loop.py), over this graph's calls.
"""

from __future__ import annotations

import copy

import numpy as np

from glassnet import losses as losses_module
from glassnet import backend, parallel, utils
from glassnet._registry import deserialize, serialize
from glassnet.layers.base import Layer, auto_name
from glassnet.layers.reshaping import Input as InputLayer
from glassnet.layers.symbolic import SymbolicTensor, is_symbolic
from glassnet.models import data, flat_weights, graph, loop, ownership, placement, prepare, sources, training
from glassnet.models import outputs as outputs_module
from glassnet.models.base import BaseModel
from glassnet.models.nested import layer_kind


def Input(shape, name: str | None = None, dtype: str = "float32") -> SymbolicTensor:
    """A graph input: the symbolic tensor that layers are called on (Keras' ``keras.Input``).

    Args:
        shape: per-sample shape without the batch axis, e.g. ``(12,)`` or ``(28, 28, 1)``.
        name: the input's name; ``fit`` and ``predict`` accept a dict keyed by it.
        dtype: "float32" (default), "float64", or "string" for raw text read by a
            ``TextVectorization`` layer (``shape=(1,)`` or ``shape=()``, as in Keras). An integer
            type ("int8" to "int64", "uint8" to "uint64", as Keras code declares token ids) is
            accepted and read as float32: the layers compute in float, and an ``Embedding`` checks
            that its ids are whole numbers. Exported to ONNX, an input read only by ``Embedding``
            layers takes int64 token ids.

    Example:
        >>> import glassnet as gn
        >>> x = gn.Input(shape=(12,), name="table")
        >>> x.shape, x.name
        ((None, 12), 'table')
        >>> gn.Input(shape=(20,), dtype="int32").dtype  # token ids, read as float32
        'float32'
    """
    return InputLayer(shape, name=name, dtype=dtype).output


GraphError = graph.GraphError  # the errors a graph raises, importable beside the model


class Model(BaseModel):
    """A model whose layers form a graph: several inputs or outputs, residual connections, shared layers.

    Args:
        inputs: the graph's inputs (from ``gn.Input``): one tensor, a list, or a dict by name.
        outputs: the tensors it computes from them: one tensor, a list, or a dict by name.
        name: the model's name; defaults to ``functional``, then ``functional_1``, ``functional_2`` ... as in Keras.
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
        self.name = name or auto_name("functional")
        self.seed = utils.default_seed() if seed is None else int(seed)
        self.inputs, self.input_keys = graph.flatten(inputs, "inputs")
        self.outputs, self.output_keys = graph.flatten(outputs, "outputs")
        for t in self.inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise GraphError(f"Model inputs must come from gn.Input(...); {t.name!r} is the output of a "
                                 f"{type(t.node.layer).__name__} layer.")
        self.nodes = graph.topological_nodes(self.outputs)
        self._check_connections()
        self.layers: list[Layer] = []  # each once, in the order of their first call
        seen = set()
        for node in self.nodes:
            if id(node.layer) not in seen:
                seen.add(id(node.layer))
                self.layers.append(node.layer)
        names = [layer.name for layer in self.layers]
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:
            raise ValueError(f"Two layers of this model are named {clash[0]!r}; layer names must be unique.")
        self._build()
        self.optimizer, self.loss, self.loss_weights, self.metrics = None, None, None, []
        #: per output, the loss in its logits form when it pairs with the output's activation, else None
        self.fused_losses = []
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
        # Aligned with self.nodes (not keyed by id(): a copied or unpickled model has new ids).
        self._runners = []
        for node in self.nodes:
            layer = node.layer
            seen = any(r is layer for r in self._runners)
            self._runners.append(graph.replica(layer) if seen else layer)
        self._make_calls()
        flat_weights.pack(self.layers)

    def _make_calls(self) -> None:
        """The loop's calls (glassnet/models/loop.py) for ``nodes`` run by ``_runners``: each
        tensor gets a slot in the loop's list of values, the model's inputs first."""
        slot = {id(t): k for k, t in enumerate(self.inputs)}
        self._calls, self._call_nodes, self._replicas_to_sync = [], [], []
        for node, runner in zip(self.nodes, self._runners):
            if isinstance(node.layer, InputLayer):
                continue
            for t in node.outputs:
                slot[id(t)] = len(slot)
            self._calls.append(loop.Call(runner, [slot[id(t)] for t in node.inputs],
                                         [slot[id(t)] for t in node.outputs], as_list=node.as_list,
                                         multi_output=node.multi_output, state_inputs=node.state_inputs))
            self._call_nodes.append(node)
            if runner is not node.layer:
                self._replicas_to_sync.append((node.layer, runner))
        self._slot_tensors = [None] * len(slot)  # slot -> tensor, for explain's values keyed by id(tensor)
        for node in self.nodes:
            for t in node.outputs:
                self._slot_tensors[slot[id(t)]] = t
        self._input_slots = [slot[id(t)] for t in self.inputs]
        self._output_slots = [slot[id(t)] for t in self.outputs]
        call_of = {id(node): i for i, node in enumerate(self._call_nodes)}
        self._output_calls = [call_of.get(id(t.node)) for t in self.outputs]

    def _replicas(self):
        """(first, replica) pairs for every later call of a shared layer: ``first`` runs the
        layer's first call (the layer itself, or in a ``replica()`` of this model, its replica)."""
        first, pairs = {}, []
        for node, runner in zip(self.nodes, self._runners):
            if id(node.layer) in first:
                pairs.append((first[id(node.layer)], runner))
            else:
                first[id(node.layer)] = runner
        return pairs

    def replica(self) -> "Model":
        """A twin of this model for a later call of it as a shared layer of another graph (Keras
        allows calling one model on several tensors): the same nodes, run through replicas of
        every layer, which read the same weights and write grads of their own, so that each call
        keeps its own forward cache; the outer graph adds the twin's grads into this model's.

        The twin's ``layers`` are its replicas in ``layers`` order, under the same names, so a
        ``ModelLayer`` over it gathers the same ``"<layer>/<key>"`` entries as over this model.
        """
        twin = copy.copy(self)
        twin._as_layer = None
        twin._runners = [node.layer if isinstance(node.layer, InputLayer) else graph.replica(node.layer)
                         for node in self.nodes]
        by_layer = {}
        for node, runner in zip(self.nodes, twin._runners):
            by_layer.setdefault(id(node.layer), runner)
        twin.layers = [by_layer[id(layer)] for layer in self.layers]
        twin._make_calls()
        return twin

    @property
    def built(self) -> bool:
        return True

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        """The names ``compile``, ``fit`` and History use: the keys of outputs given as a dict (Keras
        names their losses ``<key>_loss``), else the computing layers' names (``block``, ``block_1``
        for a layer's several outputs)."""
        return list(self.output_keys) if self.output_keys is not None else [t.name for t in self.outputs]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # -- computing ------------------------------------------------------------------------------
    def _arrays(self, x, x_name: str = "x") -> list[np.ndarray]:
        """The input arrays in ``self.inputs`` order, from an array, a list or a dict by name, checked."""
        return self.check_inputs(self.inputs_in_order(x, x_name), x_name)

    def input_arrays(self, x, x_name: str = "x") -> list[np.ndarray]:
        """Data for ``fit``, ``evaluate`` and ``predict``: ``_arrays`` with each array first checked
        as data (numeric, finite, not empty; pandas taken)."""
        return self.check_inputs([data.as_text(xi, f"{x_name}[{t.name!r}]", t.shape[1:]) if t.dtype == "string"
                                  else data.as_array(xi, f"{x_name}[{t.name!r}]", t.dtype)
                                  for xi, t in zip(self.inputs_in_order(x, x_name), self.inputs)], x_name)

    def check_inputs(self, arrays: list, x_name: str = "x") -> list[np.ndarray]:
        """One array per input, in order: cast to float, shapes and sample counts checked."""
        checked = []
        for xi, t in zip(arrays, self.inputs):
            if t.dtype == "string":  # raw text for a TextVectorization layer: strings stay strings
                xi = data.as_text(xi, f"{x_name}[{t.name!r}]", t.shape[1:])
            if not backend.is_device_array(xi):  # a direct call's device array stays where it is
                xi = np.asarray(xi)
            if xi.dtype.kind not in "fO":  # as predict casts: integers would wrap in pooling sums
                xi = xi.astype(t.dtype)
            if xi.ndim != len(t.shape) or any(d is not None and d != s for d, s in zip(t.shape[1:], xi.shape[1:])):
                raise ValueError(f"Input {t.name!r} expects arrays of shape {t.shape}; got {xi.shape}.")
            checked.append(xi)
        outputs_module.check_sample_counts(**{x_name: dict(zip(self.input_names, checked))})
        return checked

    def forward(self, inputs: list[np.ndarray], training: bool = False, logits: frozenset = frozenset(),
                values: dict | None = None, masks: list | None = None,
                input_masks: list | None = None) -> list[np.ndarray]:
        """Run every node in topological order; returns the outputs' arrays in ``outputs`` order.

        Args:
            inputs: one array per model input, in ``inputs`` order.
            training: training mode (dropout, batch statistics).
            logits: indices of outputs to return before their layer's final activation (training
                pairs a sigmoid or softmax with its loss; see ``Sequential.compile``).
            values: if given, filled with every tensor's array keyed by ``id(tensor)`` (``explain``).
            masks: if given, receives each output's time-step mask in ``outputs`` order (None
                where it has none): the losses and metrics leave the masked steps out.
            input_masks: the inputs' masks (None each where none), when this model is a layer
                of another whose tensors carry masks (glassnet/models/nested.py).

        Math:
            for each node in order: value[node.output] = layer.forward(value[node.inputs]).
        """
        slots, masks_by_slot = [None] * len(self._slot_tensors), [None] * len(self._slot_tensors)
        for k, (s, x) in enumerate(zip(self._input_slots, inputs)):
            slots[s] = x
            masks_by_slot[s] = input_masks[k] if input_masks else None  # time-step masks (layers/masking.py)
        for layer, runner in self._replicas_to_sync:  # the epoch's generator and switches are the layer's
            runner.rng, runner.trainable = layer.rng, layer.trainable
        loop.forward(self._calls, slots, masks_by_slot, training, logits=self._logit_calls(logits))
        if values is not None:
            values.update({id(t): v for t, v in zip(self._slot_tensors, slots)})
        if masks is not None:
            masks.extend(masks_by_slot[s] for s in self._output_slots)
        return [slots[s] for s in self._output_slots]

    def _logit_calls(self, outputs: frozenset) -> set:
        """The calls computing ``outputs`` (indices), run up to their pre-activation."""
        return {self._output_calls[k] for k in outputs}

    def backward(self, grads: list, logits: frozenset = frozenset(), input_grads: bool = True,
                 shares: dict | None = None) -> list:
        """Back-propagate the gradients wrt the outputs; returns those wrt the inputs.

        Writes every layer's ``grads`` (overwriting, as a layer's backward does). An output's
        gradient may be None: it then contributes nothing. ``logits``: the outputs whose
        gradient is wrt the pre-activation, as ``forward(..., logits=...)`` returned them.
        ``input_grads=False`` (training) skips what only dL/d(inputs) would need, as ``Sequential``
        does (see ``loop.backward``); the inputs' entries are then None.
        ``shares``, if given, is filled per ``id(tensor)`` with the ``(node, gradient)`` pairs that
        reached it, node None for the loss (``explain`` shows where they add up).

        Math:
            for each node in reverse order: g = Σ (gradients reaching each of node.outputs), then
            layer.backward(g) gives each input's share, added to what already reached it;
            a shared layer's dW = Σ over its calls.
        """
        if len(grads) != len(self.outputs):
            raise ValueError(f"backward needs one gradient per output ({len(self.outputs)}); got {len(grads)}.")
        pending = [None] * len(self._slot_tensors)
        for s, g in zip(self._output_slots, grads):
            if g is not None:  # two outputs on one tensor: their gradients add up
                pending[s] = g if pending[s] is None else pending[s] + g
        by_slot = None if shares is None else [[] for _ in pending]
        loop.backward(self._calls, pending, logits=self._logit_calls(logits), input_grads=input_grads,
                      shares=by_slot)
        if shares is not None:
            for t, arrived in zip(self._slot_tensors, by_slot):
                if arrived:
                    shares[id(t)] = [(None if i is None else self._call_nodes[i], g) for i, g in arrived]
        # Shared layers: the replicas wrote their calls' gradients; the layer's own is the first call's.
        for first, replica in self._replicas():
            for key, grad in first.grads.items():
                grad += replica.grads[key]  # in place: gradients may be views of one buffer
        return [pending[s] for s in self._input_slots]

    def _structure(self, outputs: list):
        """Outputs as the user gave them to the model: one array, a list, or a dict by key."""
        if self.output_keys is not None:
            return dict(zip(self.output_keys, outputs))
        return outputs[0] if len(outputs) == 1 else outputs

    def __call__(self, x, training: bool = False):
        """The outputs for input arrays ``x`` (one array, a list or a dict by input name): one
        array for a one-output model, else a list (a dict when the outputs were given as one),
        computed on the current device and returned where ``x`` lives: NumPy arrays for host
        arrays (as ``predict`` returns), device arrays when an input is one. On symbolic tensors, this model as a layer of another graph (glassnet/models/nested.py),
        returning its output tensors in the same structure; a dict of tensors is matched to the
        inputs by name, as arrays are (and as Keras does), whatever the order of its keys."""
        if isinstance(x, dict) and any(is_symbolic(v) for v in x.values()):
            x = outputs_module.by_name(x, self.input_names, f"The tensors given to model {self.name!r}", "input",
                                       "tensor")
            x = x if len(x) > 1 else x[0]  # the nested layer takes a list only for several inputs
        if is_symbolic(x):
            out = self.as_layer()(x)
            return self._structure(out if isinstance(out, list) else [out])
        xs = self._arrays(x)
        placement.place(self)
        return self._structure(placement.answer_like(self.forward(placement.call_inputs(xs), training), xs))

    # -- compiling and the workflow (fit's epochs are Sequential's: glassnet/models/training.py) --
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
        optimizer = ownership.resolve_optimizer(optimizer)
        # Outputs given as a list may also be keyed by the layer computing them, as Keras 3 keys them.
        producers = None if self.output_keys is not None else [t.node.layer.name for t in self.outputs]
        losses, weights, trackers = outputs_module.compile_outputs(self.output_names, loss, metrics, loss_weights,
                                                                   producers)
        ownership.claim_optimizer(self, optimizer)
        self.optimizer, self.loss, self.loss_weights, self.metrics = optimizer, losses, weights, trackers
        consumers = [id(t) for node in self.nodes for t in node.inputs]
        out_ids = [id(t) for t in self.outputs]
        # Fuse only where the output is the graph's end: a tensor that other layers also read, or
        # that two outputs share, must stay activated for them.
        self.fused_losses = [losses_module.fused_with(item, t.node.layer.output_activation)
                             if id(t) not in consumers and out_ids.count(id(t)) == 1 else None
                             for item, t in zip(losses, self.outputs)]

    def output_activation(self, k: int):
        """The final activation of output ``k``'s call: that call's own, since a shared layer's
        later calls run through replicas whose activations cache their own values."""
        index = next(i for i, node in enumerate(self.nodes) if node is self.outputs[k].node)
        return self._runners[index].output_activation

    @property
    def compiled(self) -> bool:
        return self.loss is not None

    def inputs_in_order(self, x, x_name: str = "x") -> list:
        """``x`` as a list in ``inputs`` order: from one array (one input), a list, or a dict by name."""
        if isinstance(x, dict):
            return outputs_module.by_name(x, self.input_names, x_name, "input")
        if isinstance(x, (list, tuple)) and len(self.inputs) == 1 and len(x) == 1 and (
                isinstance(x[0], np.ndarray) or backend.is_device_array(x[0])):
            x = list(x)  # [array] for a one-input model, as Keras takes it
        elif not (isinstance(x, (list, tuple)) and len(self.inputs) > 1):
            x = [x]
        if len(x) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} takes {len(self.inputs)} inputs ({', '.join(self.input_names)}); "
                             f"got {len(x)}.")
        return x

    def fit(self, x=None, y=None, batch_size: int = 32, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True, class_weight=None,
            sample_weight=None, initial_epoch: int = 0, log_every: int | None = None, diagnose: bool = False):
        """Train for ``epochs`` epochs as a Sequential trains (the same loop); returns a ``History``.

        ``x`` and ``y``: an array, a list in input (output) order or a dict by name.
        ``validation_split`` stratifies on the first classification output; ``class_weight``
        needs a single output, as in Keras. ``diagnose=True`` watches training with
        ``glassnet.diagnostics.Diagnostics`` (per layer call, per output).
        """
        training._require_compiled(self, "fit")
        return training.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                            callbacks=callbacks, validation_split=validation_split,
                            validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
                            sample_weight=sample_weight, initial_epoch=initial_epoch, log_every=log_every,
                            diagnose=diagnose)

    @parallel.on_own_threads
    def predict(self, x, batch_size: int | None = None, verbose=0, callbacks=None):
        """The outputs for ``x`` in batches (inference mode): an array for one output, else a list,
        or a dict when the outputs were given as one. ``callbacks`` get the predict hooks, as
        in Keras (a batch's ``{"outputs": ...}`` is its list of output arrays)."""
        training.refuse_step_overrides(self, "predict", ("predict_step",))
        x, _ = prepare.unpack_image_data(x)
        if sources.is_batch_source(x):  # batches from disk: only the outputs are held in memory
            steps = (lambda i=i: self.forward(placement.batch(self.input_arrays(x[i][0]))[0]) for i in range(len(x)))
        else:
            xs = self.input_arrays(x)
            batch_size = data.check_batch_size(batch_size or training.INFERENCE_BATCH)
            steps = (lambda s=s: self.forward(placement.batch([xi[s] for xi in xs])[0])
                     for s in data.batch_slices(xs[0].shape[0], batch_size))
        parts = training.predict_batches(self, steps, callbacks, join=False)
        return self._structure([np.concatenate([p[k] for p in parts]) for k in range(len(self.outputs))])

    # -- describing ---------------------------------------------------------------------------------
    def explain(self, x, y=None, **kwargs):
        """Walk one batch through the layer calls in graph order (and back when ``y`` is given),
        reporting each call and where gradients add up at a fan-out, a residual or a shared layer.
        Returns an ``Explanation``; see ``glassnet.diagnostics.explain_graph``."""
        from glassnet.diagnostics.explain_graph import explain_graph

        placement.place(self, "cpu")  # a walk through one batch, printed: on the host (fit moves it back)
        return explain_graph(self, x, y, **kwargs)

    def summary(self, line_length: int = 98, print_fn=print) -> None:
        """Print layers, output shapes, parameter counts and what each layer reads (Keras' layout)."""
        rows = [("Layer (type)", "Output Shape", "Param #", "Connected to")]
        index = graph.node_indices(self.nodes)
        for node in self.nodes:
            layer = node.layer
            inbound = ", ".join(f"{t.node.layer.name}[{index[id(t.node)]}][{t.index}]" for t in node.inputs) or "-"
            first = next(n for n in self.nodes if n.layer is layer) is node  # count a shared layer once
            shape = [t.shape for t in node.outputs] if node.multi_output else node.output.shape
            rows.append((f"{layer.name} ({layer_kind(layer)})", str(shape),
                         f"{layer.count_params():,}" if first else "0 (shared)", inbound))
        # A column grows past its share of the line when a cell needs it (a long layer name),
        # so that cells never run into each other.
        widths = [max(int(line_length * share), 2 + max(len(row[i]) for row in rows))
                  for i, share in enumerate((0.3, 0.22, 0.12))]
        line_length = max(line_length, sum(widths) + max(len(row[3]) for row in rows))
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

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """JSON-ready graph: each layer's class and arguments, and per call the [layer, call index]
        pairs it reads (see glassnet/models/graph.py)."""
        return graph.graph_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None, build_layer=None, make_layer=None) -> "Model":
        """Rebuild the graph (fresh weights drawn from the saved seed); no code is run from the
        config. ``build_layer(layer, input_shapes)``, if given, builds each layer before its first
        call (the file loader checks each weight against the file there); ``make_layer(spec)``,
        if given, makes each layer from its ``{"class_name", "config"}`` (the loader builds nested
        models there)."""
        inputs, outputs = graph.tensors_from_config(config, custom_objects, build_layer, make_layer)
        return cls(inputs, outputs, name=config.get("name"), seed=config.get("seed"))

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

    def __repr__(self):
        return f"<Model name={self.name!r} inputs={self.input_names} outputs={self.output_names}>"
