"""The NNFS book's names ("Neural Networks from Scratch in Python") on glassnet's engine.

A reader's chapter code runs with ``from glassnet.nnfs import *`` in place of the classes the
book builds: each class here is a glassnet class under the book's name and constructor, plus
the book's attribute protocol (``forward`` also sets ``.output``, ``backward`` sets
``.dinputs``, ``.weights``/``.dweights`` ...) so the early chapters' hand-written loops work
too. There is no second engine here: the model, its training loop and the layers are glassnet's.
Where the book's code rounds the same maths in another order (the dense products, the
optimizers' steps, the fused softmax step), the class here computes in the book's order, so
runs give the book's figures to the last bit.

As in the book, ``init()`` seeds NumPy's global generator, and the data (``spiral_data``,
``vertical_data``) and the dense layers' weights are drawn from it in the order the program
asks for them, so a chapter's numbers follow from the same draws as with the
``nnfs`` package. ``init()`` patches nothing in NumPy: the book's layers compute their products
the way the package's patched ``np.dot`` does (in float64, rounded to float32) on their own.
``Model.save`` writes glassnet's safe file format instead of a pickle.

Example:
    >>> from glassnet.nnfs import *
    >>> init()
    >>> X, y = spiral_data(samples=100, classes=3)
    >>> model = Model()
    >>> model.add(Layer_Dense(2, 64))
    >>> model.add(Activation_ReLU())
    >>> model.add(Layer_Dense(64, 3))
    >>> model.add(Activation_Softmax())
    >>> model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.05, decay=5e-7),
    ...           accuracy=Accuracy_Categorical())
    >>> model.finalize()
    >>> history = model.train(X, y, epochs=10, print_every=100)
"""

from glassnet.nnfs.accuracy import Accuracy_Categorical, Accuracy_Regression
from glassnet.nnfs.data import init, sine_data, spiral_data, vertical_data
from glassnet.nnfs.layers import (Activation_Linear, Activation_ReLU, Activation_Sigmoid, Activation_Softmax,
                                  Layer_Dense, Layer_Dropout)
from glassnet.nnfs.losses import (Activation_Softmax_Loss_CategoricalCrossentropy, Loss_BinaryCrossentropy,
                                  Loss_CategoricalCrossentropy, Loss_MeanAbsoluteError, Loss_MeanSquaredError)
from glassnet.nnfs.model import Model
from glassnet.nnfs.optimizers import Optimizer_Adagrad, Optimizer_Adam, Optimizer_RMSprop, Optimizer_SGD

__all__ = ["Accuracy_Categorical", "Accuracy_Regression", "Activation_Linear", "Activation_ReLU",
           "Activation_Sigmoid", "Activation_Softmax", "Activation_Softmax_Loss_CategoricalCrossentropy",
           "Layer_Dense", "Layer_Dropout", "Loss_BinaryCrossentropy", "Loss_CategoricalCrossentropy",
           "Loss_MeanAbsoluteError", "Loss_MeanSquaredError", "Model", "Optimizer_Adagrad", "Optimizer_Adam",
           "Optimizer_RMSprop", "Optimizer_SGD", "init", "sine_data", "spiral_data", "vertical_data"]
