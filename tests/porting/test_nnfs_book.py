"""Programs written the way the NNFS book writes them, run on glassnet.nnfs: the book's numbers.

The figures asserted here are the ones the book prints (chapters 3, 5 and 10); the tests that
need the ``nnfs`` package run the same program on it, in a child process because its ``init()``
patches NumPy for the whole process, and skip when it is not installed.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import glassnet as gn
from glassnet.nnfs import (Accuracy_Categorical, Activation_Linear, Activation_ReLU, Activation_Sigmoid,
                           Activation_Softmax, Activation_Softmax_Loss_CategoricalCrossentropy, Layer_Dense,
                           Layer_Dropout, Loss_BinaryCrossentropy, Loss_CategoricalCrossentropy, Loss_MeanAbsoluteError,
                           Loss_MeanSquaredError, Model, Optimizer_Adam, init, sine_data, spiral_data, vertical_data)


def _run_with_the_nnfs_package(tmp_path, program: str) -> dict:
    """Run ``program`` after ``import nnfs; nnfs.init()`` in a child process; it fills ``out``."""
    pytest.importorskip("nnfs")
    path = tmp_path / "reference.npz"
    script = ("import numpy as np, nnfs\nfrom nnfs.datasets import spiral_data, vertical_data, sine_data\n"
              "nnfs.init()\nout = {}\n" + textwrap.dedent(program) + f"\nnp.savez({str(path)!r}, **out)\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    with np.load(path) as data:
        return dict(data)


def _spiral_net():
    dense1, activation1 = Layer_Dense(2, 3), Activation_ReLU()
    dense2, activation2 = Layer_Dense(3, 3), Activation_Softmax()
    return dense1, activation1, dense2, activation2


def test_first_forward_pass_prints_the_books_numbers():
    # Chapter 3 prints the first dense layer's first five rows; chapter 5 the loss and accuracy.
    init()
    X, y = spiral_data(samples=100, classes=3)
    dense1, activation1, dense2, activation2 = _spiral_net()
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    activation2.forward(dense2.output)
    np.testing.assert_array_equal(dense1.output[1], np.float32([-1.0475188e-04, 1.1395361e-04, -4.7983500e-05]))
    np.testing.assert_array_equal(dense1.output[4], np.float32([-5.7707680e-04, 7.1401405e-04, -8.9430439e-05]))
    np.testing.assert_array_equal(activation2.output[4], np.float32([0.33333233, 0.3333324, 0.33333528]))
    loss = Loss_CategoricalCrossentropy().calculate(activation2.output, y)
    assert str(np.float32(loss)) == "1.0986104"
    assert np.mean(np.argmax(activation2.output, axis=1) == y) == 0.34


def test_each_call_draws_new_data_and_init_starts_over():
    # Chapters 14 and 16 draw their test set with a second call: it must be new data.
    init()
    X, y = spiral_data(samples=100, classes=3)
    X_test, y_test = spiral_data(samples=100, classes=3)
    assert not np.array_equal(X, X_test)
    np.testing.assert_array_equal(y, y_test)
    init()
    np.testing.assert_array_equal(spiral_data(samples=100, classes=3)[0], X)
    assert X.dtype == np.float32 and y.dtype == np.uint8


def test_data_and_weights_equal_the_nnfs_package(tmp_path):
    reference = _run_with_the_nnfs_package(tmp_path, """
        out["spiral_X"], out["spiral_y"] = spiral_data(samples=100, classes=3)
        out["vertical_X"], out["vertical_y"] = vertical_data(samples=50, classes=4)
        out["again_X"], _ = spiral_data(samples=20, classes=2)
        out["W1"] = 0.01 * np.random.randn(2, 64)
        out["W2"] = 0.1 * np.random.randn(64, 3)
        out["sine_X"], out["sine_y"] = sine_data()
    """)
    init()
    ours = {}
    ours["spiral_X"], ours["spiral_y"] = spiral_data(samples=100, classes=3)
    ours["vertical_X"], ours["vertical_y"] = vertical_data(samples=50, classes=4)
    ours["again_X"], _ = spiral_data(samples=20, classes=2)
    ours["W1"] = Layer_Dense(2, 64).weights
    ours["W2"] = Layer_Dense(64, 3, weight_scale=0.1).weights
    ours["sine_X"], ours["sine_y"] = sine_data()
    assert set(ours) == set(reference)
    for key, expected in reference.items():
        assert ours[key].dtype == expected.dtype, key
        np.testing.assert_array_equal(ours[key], expected, err_msg=key)


_PLAIN_ADAM_STEP = """
def adam_step(params, grads, m, v, lr, t):
    # The book's Adam (beta 0.9 / 0.999, epsilon 1e-7) on every parameter, in plain NumPy.
    for i, grad in enumerate(grads):
        m[i] = 0.9 * m[i] + (1 - 0.9) * grad
        v[i] = 0.999 * v[i] + (1 - 0.999) * grad**2
        m_hat = m[i] / (1 - 0.9 ** t)
        v_hat = v[i] / (1 - 0.999 ** t)
        params[i] += -lr * m_hat / (np.sqrt(v_hat) + 1e-7)
"""


def _reference(tmp_path, epochs: int, program: str) -> dict:
    """``program`` (one of the plain-NumPy programs below) run for ``epochs`` on the nnfs package."""
    return _run_with_the_nnfs_package(tmp_path, f"EPOCHS = {epochs}\n" + _PLAIN_ADAM_STEP + textwrap.dedent(program))


_BOOK_STYLE_ADAM_LOOP = """
    # A two-layer net trained with Adam on the spiral, written out in plain NumPy.
    X, y = spiral_data(samples=100, classes=3)
    W1, b1 = 0.01 * np.random.randn(2, 64), np.zeros((1, 64))
    W2, b2 = 0.01 * np.random.randn(64, 3), np.zeros((1, 3))
    params = [W1, b1, W2, b2]
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for epoch in range(EPOCHS):
        z1 = np.dot(X, W1) + b1
        a1 = np.maximum(0, z1)
        z2 = np.dot(a1, W2) + b2
        e = np.exp(z2 - np.max(z2, axis=1, keepdims=True))
        p = e / np.sum(e, axis=1, keepdims=True)
        g = p.copy()
        g[range(len(g)), y] -= 1
        g = g / len(g)
        da = np.dot(g, W2.T)
        da[z1 <= 0] = 0
        grads = [np.dot(X.T, da), np.sum(da, axis=0, keepdims=True), np.dot(a1.T, g), np.sum(g, axis=0, keepdims=True)]
        lr = 0.05 * (1.0 / (1.0 + 5e-7 * epoch))
        adam_step(params, grads, m, v, lr, epoch + 1)
    out["W1"], out["W2"] = W1, W2
"""


def _hand_written_loop(epochs):
    X, y = spiral_data(samples=100, classes=3)
    dense1, activation1, dense2 = Layer_Dense(2, 64), Activation_ReLU(), Layer_Dense(64, 3)
    loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
    optimizer = Optimizer_Adam(learning_rate=0.05, decay=5e-7)
    for epoch in range(epochs):
        dense1.forward(X)
        activation1.forward(dense1.output)
        dense2.forward(activation1.output)
        loss = loss_activation.forward(dense2.output, y)
        accuracy = np.mean(np.argmax(loss_activation.output, axis=1) == y)
        loss_activation.backward(loss_activation.output, y)
        dense2.backward(loss_activation.dinputs)
        activation1.backward(dense2.dinputs)
        dense1.backward(activation1.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()
    return dense1, dense2, loss, accuracy, optimizer


def _model_api(epochs):
    X, y = spiral_data(samples=100, classes=3)
    model = Model()
    model.add(Layer_Dense(2, 64))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(64, 3))
    model.add(Activation_Softmax())
    model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.05, decay=5e-7),
              accuracy=Accuracy_Categorical())
    model.finalize()
    model.train(X, y, epochs=epochs, print_every=epochs)
    return model.layers[0], model.layers[2]


def test_adam_training_is_bit_identical_to_the_same_program_on_the_nnfs_package(tmp_path, capsys):
    epochs = 300
    reference = _reference(tmp_path, epochs, _BOOK_STYLE_ADAM_LOOP)
    init()
    dense1, dense2, *_ = _hand_written_loop(epochs)
    np.testing.assert_array_equal(dense1.weights, reference["W1"])
    np.testing.assert_array_equal(dense2.weights, reference["W2"])
    init()
    dense1, dense2 = _model_api(epochs)  # the same run through Model.train
    np.testing.assert_array_equal(dense1.weights, reference["W1"])
    np.testing.assert_array_equal(dense2.weights, reference["W2"])


@pytest.mark.slow
def test_chapter_10_adam_ends_on_the_books_figures(capsys):
    # The book's last line for Adam(learning_rate=0.05, decay=5e-7): epoch 10000, acc 0.967.
    init()
    _, _, loss, accuracy, optimizer = _hand_written_loop(10001)
    assert f"acc: {accuracy:.3f}" == "acc: 0.967"
    assert optimizer.current_learning_rate == 0.05 * (1.0 / (1.0 + 5e-7 * 10001))


def test_chapter_6_random_search_adjusts_and_assigns_weights():
    init()
    X, y = vertical_data(samples=100, classes=3)
    dense1, activation1, dense2, activation2 = _spiral_net()
    loss_function = Loss_CategoricalCrossentropy()
    lowest_loss, best = 9999999, None
    for _ in range(50):
        dense1.weights += 0.05 * np.random.randn(2, 3)
        dense1.biases += 0.05 * np.random.randn(1, 3)
        dense1.forward(X)
        activation1.forward(dense1.output)
        dense2.forward(activation1.output)
        activation2.forward(dense2.output)
        loss = loss_function.calculate(activation2.output, y)
        if loss < lowest_loss:
            lowest_loss, best = loss, (dense1.weights.copy(), dense1.biases.copy())
        else:
            dense1.weights, dense1.biases = best[0].copy(), best[1].copy()
    np.testing.assert_array_equal(dense1.weights, best[0])
    assert lowest_loss < np.log(3)


def test_batched_train_prints_the_books_lines_and_predictions_use_the_output_activation(capsys):
    init()
    X, y = spiral_data(samples=300, classes=3)
    X_test, y_test = spiral_data(samples=100, classes=3)
    keys = np.random.permutation(len(X))  # chapter 19 shuffles before training
    X, y = X[keys], y[keys]
    model = Model()
    model.add(Layer_Dense(2, 32))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(32, 3))
    model.add(Activation_Softmax())
    model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.01),
              accuracy=Accuracy_Categorical())
    model.finalize()
    model.train(X, y, validation_data=(X_test, y_test), epochs=2, batch_size=128, print_every=3)
    lines = capsys.readouterr().out.splitlines()
    # 900 samples in batches of 128: steps 0-7, printed every 3rd step and on the last one.
    starts = [line.split(",")[0] for line in lines]
    assert starts == ["epoch: 1", "step: 0", "step: 3", "step: 6", "step: 7", "training", "validation",
                      "epoch: 2", "step: 0", "step: 3", "step: 6", "step: 7", "training", "validation"]
    assert "(data_loss: " in lines[1] and ", lr: " in lines[5]
    confidences = model.predict(X_test)
    predictions = model.output_layer_activation.predictions(confidences)
    assert model.output_layer_activation is model.layers[-1]
    validation = lines[-1]
    assert validation == f"validation, acc: {np.mean(predictions == y_test):.3f}, loss: " \
                         f"{Loss_CategoricalCrossentropy().calculate(confidences, y_test):.3f}"


def test_weight_scale_is_the_factor_of_the_draws_and_part_of_the_config():
    init()
    default, regression = Layer_Dense(1, 64), Layer_Dense(64, 64, weight_scale=0.1)
    init()
    draws = np.random.randn(1, 64).astype(np.float32), np.random.randn(64, 64).astype(np.float32)
    np.testing.assert_array_equal(default.weights, draws[0] * np.float32(0.01))
    np.testing.assert_array_equal(regression.weights, draws[1] * np.float32(0.1))
    assert Layer_Dense.from_config(regression.get_config()).get_config()["weight_scale"] == 0.1


def test_validation_loss_is_the_data_loss_without_penalties(capsys):
    init()
    X, y = spiral_data(samples=50, classes=3)
    model = Model()
    model.add(Layer_Dense(2, 16, weight_regularizer_l2=0.5))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(16, 3))
    model.add(Activation_Softmax())
    model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.02),
              accuracy=Accuracy_Categorical())
    model.finalize()
    model.train(X, y, epochs=5, print_every=5)
    loss, _ = model.evaluate(X, y)
    assert model.layers[0].regularization_loss() > 1e-3  # a penalty that would show
    assert loss == pytest.approx(Loss_CategoricalCrossentropy().calculate(model.predict(X), y), rel=1e-5)


@pytest.mark.parametrize("loss, last, target", [
    (Loss_BinaryCrossentropy, Activation_Sigmoid, "binary"),
    (Loss_MeanSquaredError, Activation_Linear, "regression"),
    (Loss_MeanAbsoluteError, Activation_Linear, "regression"),
])
def test_book_loss_gradients_pass_the_gradient_check(loss, last, target):
    # The book's losses back-propagate in the book's order (not fused): still the right gradient.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    y = (X[:, :2] > 0).astype(np.float64) if target == "binary" else X[:, :2] ** 2 + 0.5
    model = Model()
    model.add(Layer_Dense(3, 5, weight_scale=0.5, dtype="float64"))
    model.add(Activation_ReLU(dtype="float64"))
    model.add(Layer_Dense(5, 2, weight_scale=0.5, dtype="float64"))
    model.add(last(dtype="float64"))
    model.set(loss=loss(), optimizer=Optimizer_Adam())
    model.finalize()
    assert model.network._fused_loss is None
    result = gn.check_gradients(model.network, X, y, eps=1e-6)
    assert result.passed, result


_BOOK_STYLE_BINARY_LOOP = """
    # Binary logistic regression on two spiral arms, L2 penalties on the first layer, Adam.
    X, y = spiral_data(samples=100, classes=2)
    y = y.reshape(-1, 1)
    W1, b1 = 0.01 * np.random.randn(2, 64), np.zeros((1, 64))
    W2, b2 = 0.01 * np.random.randn(64, 1), np.zeros((1, 1))
    params = [W1, b1, W2, b2]
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for epoch in range(EPOCHS):
        z1 = np.dot(X, W1) + b1
        a1 = np.maximum(0, z1)
        z2 = np.dot(a1, W2) + b2
        prob = 1 / (1 + np.exp(-z2))
        clipped = np.clip(prob, 1e-7, 1 - 1e-7)
        g = -(y / clipped - (1 - y) / (1 - clipped)) / 1
        g = g / len(prob)
        g = g * (1 - prob) * prob
        da = np.dot(g, W2.T)
        da[z1 <= 0] = 0
        grads = [np.dot(X.T, da), np.sum(da, axis=0, keepdims=True), np.dot(a1.T, g), np.sum(g, axis=0, keepdims=True)]
        grads[0] += 2 * 5e-4 * W1
        grads[1] += 2 * 5e-4 * b1
        lr = 0.001 * (1.0 / (1.0 + 5e-7 * epoch))
        adam_step(params, grads, m, v, lr, epoch + 1)
    out["W1"], out["W2"], out["b2"] = W1, W2, b2
"""


def _binary_layers():
    return [Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4), Activation_ReLU(),
            Layer_Dense(64, 1), Activation_Sigmoid()]


def test_binary_chapter_training_is_bit_identical_to_the_same_program_on_the_nnfs_package(tmp_path):
    epochs = 200
    reference = _reference(tmp_path, epochs, _BOOK_STYLE_BINARY_LOOP)
    init()
    X, y = spiral_data(samples=100, classes=2)
    y = y.reshape(-1, 1)
    dense1, activation1, dense2, activation2 = _binary_layers()
    loss_function, optimizer = Loss_BinaryCrossentropy(), Optimizer_Adam(decay=5e-7)
    for epoch in range(epochs):
        dense1.forward(X)
        activation1.forward(dense1.output)
        dense2.forward(activation1.output)
        activation2.forward(dense2.output)
        loss_function.backward(activation2.output, y)
        activation2.backward(loss_function.dinputs)
        dense2.backward(activation2.dinputs)
        activation1.backward(dense2.dinputs)
        dense1.backward(activation1.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()
    for ours, key in ((dense1.weights, "W1"), (dense2.weights, "W2"), (dense2.biases, "b2")):
        np.testing.assert_array_equal(ours, reference[key], err_msg=key)

    init()  # the same run through the Model API
    X, y = spiral_data(samples=100, classes=2)
    model = Model()
    for layer in _binary_layers():
        model.add(layer)
    model.set(loss=Loss_BinaryCrossentropy(), optimizer=Optimizer_Adam(decay=5e-7),
              accuracy=Accuracy_Categorical(binary=True))
    model.finalize()
    model.train(X, y.reshape(-1, 1), epochs=epochs, print_every=epochs)
    for ours, key in ((model.layers[0].weights, "W1"), (model.layers[2].weights, "W2")):
        np.testing.assert_array_equal(ours, reference[key], err_msg=key)


def test_book_sigmoid_does_not_overflow_on_large_negative_inputs():
    # The suite turns NumPy's overflow into an error; the book's 1 / (1 + e⁻ˣ) would overflow.
    y = Activation_Sigmoid().forward(np.array([[-1000.0, -88.0, 0.0, 30.0]], dtype=np.float32))
    assert y.dtype == np.float32 and y[0, 0] < 1e-37 and y[0, 2] == 0.5 and y[0, 3] == 1.0


_BOOK_STYLE_DROPOUT_LOOP = """
    # Spiral, L2 penalties on the first layer, dropout after its ReLU, Adam, in plain NumPy.
    X, y = spiral_data(samples=100, classes=3)
    W1, b1 = 0.01 * np.random.randn(2, 64), np.zeros((1, 64))
    W2, b2 = 0.01 * np.random.randn(64, 3), np.zeros((1, 3))
    params = [W1, b1, W2, b2]
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for epoch in range(EPOCHS):
        z1 = np.dot(X, W1) + b1
        a1 = np.maximum(0, z1)
        mask = np.random.binomial(1, 1 - 0.1, size=a1.shape) / (1 - 0.1)
        d1 = a1 * mask
        z2 = np.dot(d1, W2) + b2
        e = np.exp(z2 - np.max(z2, axis=1, keepdims=True))
        p = e / np.sum(e, axis=1, keepdims=True)
        g = p.copy()
        g[range(len(g)), y] -= 1
        g = g / len(g)
        da = np.dot(g, W2.T) * mask
        da[z1 <= 0] = 0
        grads = [np.dot(X.T, da), np.sum(da, axis=0, keepdims=True), np.dot(d1.T, g), np.sum(g, axis=0, keepdims=True)]
        grads[0] += 2 * 5e-4 * W1
        grads[1] += 2 * 5e-4 * b1
        lr = 0.05 * (1.0 / (1.0 + 5e-5 * epoch))
        adam_step(params, grads, m, v, lr, epoch + 1)
    out["W1"], out["b1"], out["W2"], out["next_draw"] = W1, b1, W2, np.random.randn(3)
"""


def _dropout_layers():
    return [Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4), Activation_ReLU(),
            Layer_Dropout(0.1), Layer_Dense(64, 3)]


def test_dropout_chapter_training_is_bit_identical_to_the_same_program_on_the_nnfs_package(tmp_path):
    # The book's dropout draws its masks from NumPy's global generator: the same masks, the same bits.
    epochs = 60
    reference = _reference(tmp_path, epochs, _BOOK_STYLE_DROPOUT_LOOP)
    init()
    X, y = spiral_data(samples=100, classes=3)
    dense1, activation1, dropout1, dense2 = _dropout_layers()
    loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
    optimizer = Optimizer_Adam(learning_rate=0.05, decay=5e-5)
    for epoch in range(epochs):
        dense1.forward(X)
        activation1.forward(dense1.output)
        dropout1.forward(activation1.output)  # the chapter's class drops without being told to
        dense2.forward(dropout1.output)
        loss_activation.forward(dense2.output, y)
        loss_activation.backward(loss_activation.output, y)
        dense2.backward(loss_activation.dinputs)
        dropout1.backward(dense2.dinputs)
        activation1.backward(dropout1.dinputs)
        dense1.backward(activation1.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()
    ours = {"W1": dense1.weights, "b1": dense1.biases, "W2": dense2.weights,
            "next_draw": np.random.randn(3).astype(np.float32)}
    for key, value in ours.items():
        np.testing.assert_array_equal(value, reference[key], err_msg=key)

    init()  # the same run through the Model API
    X, y = spiral_data(samples=100, classes=3)
    model = Model()
    for layer in [*_dropout_layers(), Activation_Softmax()]:
        model.add(layer)
    model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.05, decay=5e-5),
              accuracy=Accuracy_Categorical())
    model.finalize()
    model.train(X, y, epochs=epochs, print_every=epochs)
    ours = {"W1": model.layers[0].weights, "b1": model.layers[0].biases, "W2": model.layers[3].weights,
            "next_draw": np.random.randn(3).astype(np.float32)}
    for key, value in ours.items():
        np.testing.assert_array_equal(value, reference[key], err_msg=key)


def test_printed_split_and_rate_are_those_of_the_step_before_its_update(capsys):
    # The book prints after the update, but its figures are those the step computed: the data
    # loss and penalty of the weights before it, and the rate it stepped with.
    init()
    X, y = spiral_data(samples=30, classes=3)
    model = Model()
    model.add(Layer_Dense(2, 16, weight_regularizer_l2=0.5, weight_scale=0.5))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(16, 3))
    model.add(Activation_Softmax())
    model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.05, decay=0.5),
              accuracy=Accuracy_Categorical())
    model.finalize()
    before = model.predict(X)
    data_loss = Loss_CategoricalCrossentropy().calculate(before, y)
    reg_loss = Loss_CategoricalCrossentropy().regularization_loss(model.layers[0])
    model.train(X, y, epochs=1, print_every=1)
    assert capsys.readouterr().out.splitlines()[0] == (
        f"epoch: 1, acc: {np.mean(np.argmax(before, axis=1) == y):.3f}, loss: {data_loss + reg_loss:.3f} "
        f"(data_loss: {data_loss:.3f}, reg_loss: {reg_loss:.3f}), lr: 0.05")
    assert f"{model.layers[0].regularization_loss():.3f}" != f"{reg_loss:.3f}"  # the step moved it

    model.train(X, y, epochs=1, batch_size=60, print_every=1)  # the batched form: the same rules
    step_line = capsys.readouterr().out.splitlines()[1]
    assert step_line.startswith("step: 0, ") and step_line.endswith(f"lr: {0.05 / (1 + 0.5 * 1)}")


_BOOK_STYLE_REGRESSION_LOOP = """
    # Sine regression: 1-64-64-1, weights 0.1·N(0, 1), mean squared error, Adam with decay.
    X, y = sine_data()
    Ws = [0.1 * np.random.randn(1, 64), 0.1 * np.random.randn(64, 64), 0.1 * np.random.randn(64, 1)]
    bs = [np.zeros((1, 64)), np.zeros((1, 64)), np.zeros((1, 1))]
    params = [Ws[0], bs[0], Ws[1], bs[1], Ws[2], bs[2]]
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for epoch in range(EPOCHS):
        z1 = np.dot(X, Ws[0]) + bs[0]
        a1 = np.maximum(0, z1)
        z2 = np.dot(a1, Ws[1]) + bs[1]
        a2 = np.maximum(0, z2)
        out3 = np.dot(a2, Ws[2]) + bs[2]
        g3 = -2 * (y - out3) / 1
        g3 = g3 / len(out3)
        g2 = np.dot(g3, Ws[2].T)
        g2[z2 <= 0] = 0
        g1 = np.dot(g2, Ws[1].T)
        g1[z1 <= 0] = 0
        grads = [np.dot(X.T, g1), np.sum(g1, axis=0, keepdims=True), np.dot(a1.T, g2),
                 np.sum(g2, axis=0, keepdims=True), np.dot(a2.T, g3), np.sum(g3, axis=0, keepdims=True)]
        lr = 0.005 * (1.0 / (1.0 + 1e-3 * epoch))
        adam_step(params, grads, m, v, lr, epoch + 1)
    out["W1"], out["W3"], out["b3"] = Ws[0], Ws[2], bs[2]
"""


def test_regression_chapter_loop_is_bit_identical_to_the_same_program_on_the_nnfs_package(tmp_path):
    # sine_data's targets are float64: the book's loss gradient, and its last bias gradient, are float64.
    epochs = 40
    reference = _reference(tmp_path, epochs, _BOOK_STYLE_REGRESSION_LOOP)
    init()
    X, y = sine_data()
    dense1, dense2, dense3 = (Layer_Dense(1, 64, weight_scale=0.1), Layer_Dense(64, 64, weight_scale=0.1),
                              Layer_Dense(64, 1, weight_scale=0.1))
    activation1, activation2, activation3 = Activation_ReLU(), Activation_ReLU(), Activation_Linear()
    loss_function, optimizer = Loss_MeanSquaredError(), Optimizer_Adam(learning_rate=0.005, decay=1e-3)
    for epoch in range(epochs):
        dense1.forward(X)
        activation1.forward(dense1.output)
        dense2.forward(activation1.output)
        activation2.forward(dense2.output)
        dense3.forward(activation2.output)
        activation3.forward(dense3.output)
        loss_function.backward(activation3.output, y)
        activation3.backward(loss_function.dinputs)
        dense3.backward(activation3.dinputs)
        activation2.backward(dense3.dinputs)
        dense2.backward(activation2.dinputs)
        activation1.backward(dense2.dinputs)
        dense1.backward(activation1.dinputs)
        optimizer.pre_update_params()
        for layer in (dense1, dense2, dense3):
            optimizer.update_params(layer)
        optimizer.post_update_params()
    for ours, key in ((dense1.weights, "W1"), (dense3.weights, "W3"), (dense3.biases, "b3")):
        np.testing.assert_array_equal(ours, reference[key], err_msg=key)
