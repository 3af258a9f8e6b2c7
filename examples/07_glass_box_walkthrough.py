"""A glass-box walkthrough: explain a tiny network, check its gradients, watch it train.

1. explain: the course's network (inputs 2 and 3, hidden weights [1, 1] and [-1, 1], output
   weights [2, -1], tanh) forward and backward, every node and every slope written out.
2. check_gradients: backpropagation against finite differences, on a layer you write yourself.
3. fit(..., diagnose=True) on scikit-learn's two moons: a healthy run, then the same network
   with a far too large learning rate, whose problems the diagnostics name while they happen.
4. a learning-rate sweep: one model per rate, the loss curves on one plot.

Plots go to a temporary folder (or the folder given as the first argument).
"""

import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import layers  # noqa: E402

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="glassnet_walkthrough_"))
out.mkdir(parents=True, exist_ok=True)


def section(title):
    print(f"\n{'=' * 8} {title} {'=' * (70 - len(title))}")


# -- 1. explain ----------------------------------------------------------------------------------
section("1. explain: one sample through the course's network")
model = gn.Sequential([layers.Dense(2, activation="tanh", use_bias=False, input_shape=(2,)),
                       layers.Dense(1, use_bias=False)], seed=0)
model.set_weights([np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[2.0], [-1.0]])])
model.compile(optimizer=gn.optimizers.SGD(learning_rate=0.01), loss="mse")
explanation = model.explain(np.array([[2.0, 3.0]]), np.array([[1.0]]))
explanation.plot().figure.savefig(out / "network.png", dpi=120)
print("\nThe course's backward example: a weight of 2 from a node of value 3, target 10.")
single = gn.Sequential([layers.Dense(1, use_bias=False, input_shape=(1,))], seed=0)
single.set_weights([np.array([[2.0]])])
single.compile(optimizer=gn.optimizers.SGD(learning_rate=0.01), loss="mse")
single.explain(np.array([[3.0]]), np.array([[10.0]]))
print("\nLook at: each node = the weighted sum of the inputs, then tanh; each weight's slope is")
print("the slope of its node times the input it multiplies; one SGD step moves a weight by")
print("-learning_rate x slope. The diagram is in", out / "network.png")


# -- 2. gradient check ---------------------------------------------------------------------------
section("2. check_gradients: is a hand-written backward right?")


class Square(layers.Layer):
    """y = x², written by hand; ``bug=True`` forgets the factor 2 of the derivative."""

    def __init__(self, bug=False, **kwargs):
        super().__init__(**kwargs)
        self.bug = bug

    def forward(self, x, training=False):
        self._x = x
        return x * x

    def backward(self, grad):
        return grad * self._x * (1 if self.bug else 2)


x = np.random.default_rng(0).normal(size=(3, 4))
gn.check_gradients(Square(dtype="float64"), x, verbose=True)
gn.check_gradients(Square(bug=True, dtype="float64"), x, verbose=True)
print("\nLook at: the relative error is ~1e-10 when backward is right and 0.5 when it returns")
print("half the true gradient. A whole model is checked the same way:")
gn.check_gradients(model, np.array([[2.0, 3.0]]), verbose=True)


# -- 3. diagnostics while training ----------------------------------------------------------------
section("3. fit(..., diagnose=True)")
x, y = make_moons(n_samples=400, noise=0.2, random_state=0)


def build():
    net = gn.Sequential([layers.Dense(16, activation="relu", input_shape=(2,)),
                         layers.Dense(16, activation="relu"),
                         layers.Dense(2, activation="softmax")], seed=0)
    net.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    return net


healthy = build()
history = healthy.fit(x, y, epochs=30, validation_split=0.25, verbose=0, diagnose=True)
print(f"healthy run: validation accuracy {history.history['val_accuracy'][-1]:.3f}, "
      f"{len(healthy.diagnostics.findings)} findings. What the diagnostics watched, first and last epoch:")
print(healthy.diagnostics.to_dataframe().iloc[[0, -1]].T.round(4).to_string())

print("\nThe same network with a learning rate of 3 (Adam's default is 0.001):")
broken = build()
broken.compile(optimizer=gn.optimizers.Adam(3.0), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
broken.fit(x, y, epochs=15, validation_split=0.25, verbose=0, diagnose=True)
print("\nLook at: each problem is named once, with its figures and what to try.")


# -- 4. learning-rate sweep -----------------------------------------------------------------------
section("4. learning_rate_sweep")
sweep = gn.experiments.learning_rate_sweep(build, x, y, rates=[1e-4, 1e-3, 1e-2, 1e-1, 3.0], optimizer="adam",
                                           epochs=20, validation_split=0.25)
print(sweep.table.round(4).to_string())
print(f"best rate: {sweep.best_rate}")
sweep.figure.savefig(out / "learning_rate_sweep.png", dpi=120)
print("\nLook at: too small a rate barely moves the loss, too large a one jumps around or diverges;")
print("the curves are in", out / "learning_rate_sweep.png")
