"""glassnet.nnfs: the NNFS book's chapter code runs on glassnet's engine with an import change."""

import numpy as np
import pytest

from glassnet.nnfs import (Accuracy_Categorical, Accuracy_Regression, Activation_Linear, Activation_ReLU,
                           Activation_Sigmoid, Activation_Softmax,
                           Activation_Softmax_Loss_CategoricalCrossentropy, Layer_Dense, Layer_Dropout,
                           Loss_BinaryCrossentropy, Loss_CategoricalCrossentropy, Loss_MeanSquaredError, Model,
                           Optimizer_Adam, Optimizer_SGD, init, sine_data, spiral_data)


@pytest.fixture(autouse=True)
def book_init():
    # Every chapter starts with nnfs.init(): its data and weights come from NumPy's global
    # generator, which other tests leave anywhere.
    init()


def test_chapter_10_adam_loop_on_the_spiral_reaches_the_books_accuracy_range():
    # The book's chapter 10 code, verbatim apart from the import; the book reports 0.967 after
    # 10,000 epochs, we stop at 2,500 to keep the test short.
    X, y = spiral_data(samples=100, classes=3)
    dense1 = Layer_Dense(2, 64)
    activation1 = Activation_ReLU()
    dense2 = Layer_Dense(64, 3)
    loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
    optimizer = Optimizer_Adam(learning_rate=0.05, decay=5e-7)
    for epoch in range(2501):
        dense1.forward(X)
        activation1.forward(dense1.output)
        dense2.forward(activation1.output)
        loss = loss_activation.forward(dense2.output, y)
        predictions = np.argmax(loss_activation.output, axis=1)
        accuracy = np.mean(predictions == y)
        if epoch == 0:
            assert loss == pytest.approx(np.log(3), rel=1e-3)  # 0.01-scale weights: uniform guesses
        loss_activation.backward(loss_activation.output, y)
        dense2.backward(loss_activation.dinputs)
        activation1.backward(dense2.dinputs)
        dense1.backward(activation1.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()
    assert accuracy >= 0.85 and loss < 0.35
    assert optimizer.current_learning_rate == pytest.approx(0.05 / (1 + 5e-7 * 2501))


def _spiral_model(seed=0):
    model = Model(seed=seed)
    model.add(Layer_Dense(2, 64, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4))
    model.add(Activation_ReLU())
    model.add(Layer_Dropout(0.1))
    model.add(Layer_Dense(64, 3))
    model.add(Activation_Softmax())
    model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.05, decay=5e-5),
              accuracy=Accuracy_Categorical())
    model.finalize()
    return model


def test_model_api_trains_prints_the_books_lines_and_saves_safely(tmp_path, capsys):
    X, y = spiral_data(samples=100, classes=3)
    X_test, y_test = spiral_data(samples=100, classes=3)
    model = _spiral_model()
    history = model.train(X, y, epochs=200, print_every=100, validation_data=(X_test, y_test))
    out = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in out] == ["epoch: 100", "epoch: 200", "validation"]
    assert "(data_loss: " in out[0] and "reg_loss: " in out[0] and "lr: " in out[0]
    assert history.history["acc"][-1] > history.history["acc"][0] + 0.2
    assert history.history["loss"][-1] < history.history["loss"][0]

    path = tmp_path / "spiral.glassnet"
    model.save(path)
    assert not path.read_bytes().startswith(b"\x80")  # not a pickle
    loaded = Model.load(path)
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))
    assert type(loaded.accuracy) is Accuracy_Categorical and type(loaded.optimizer) is Optimizer_Adam
    assert loaded.optimizer.iterations == model.optimizer.iterations == 200
    assert loaded.evaluate(X_test, y_test) == model.evaluate(X_test, y_test)


def test_layer_dense_matches_the_book():
    layer = Layer_Dense(4, 300, weight_regularizer_l1=1e-3, weight_regularizer_l2=5e-4)
    layer.forward(np.ones((2, 4)))
    assert layer.weights.shape == (4, 300) and layer.biases.shape == (1, 300)
    assert np.std(layer.weights) == pytest.approx(0.01, rel=0.1) and not layer.biases.any()
    w = layer.weights.astype(np.float64)
    assert layer.regularization_loss() == pytest.approx(1e-3 * np.abs(w).sum() + 5e-4 * (w**2).sum(), rel=1e-5)
    layer.backward(np.ones((2, 300)))  # the penalties' gradients are added there, as in the book
    np.testing.assert_allclose(layer.dweights, 2.0 + 1e-3 * np.sign(w) + 2 * 5e-4 * w, rtol=1e-6)
    assert layer.dbiases.shape == (1, 300)
    assert Layer_Dense.from_config(layer.get_config()).get_config() == layer.get_config()

    model = Model()
    model.add(Layer_Dense(2, 8))
    model.add(Layer_Dense(4, 1))
    with pytest.raises(ValueError, match=r"Layer_Dense\(4, 1\) expects 4 inputs"):
        model.finalize()


def test_dense_backward_is_the_books_formula():
    rng = np.random.default_rng(0)
    x, grad = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    layer = Layer_Dense(3, 2)
    layer.forward(x)
    layer.backward(grad)
    np.testing.assert_allclose(layer.dweights, x.T @ grad, rtol=1e-6)
    np.testing.assert_allclose(layer.dbiases, grad.sum(axis=0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(layer.dinputs, grad @ layer.weights.T, rtol=1e-6)


def test_dropout_rate_is_the_share_dropped_as_in_the_book():
    layer = Layer_Dropout(0.1)
    out = layer.forward(np.ones((200, 500)), training=True)
    assert (out == 0).mean() == pytest.approx(0.1, abs=0.005)
    np.testing.assert_allclose(out[out != 0], 1 / 0.9, rtol=1e-6)
    np.testing.assert_array_equal(layer.forward(np.ones((2, 3)), training=False), np.ones((2, 3)))
    # Called by hand without ``training`` it drops, as the dropout chapter's class always does,
    # and its masks are the book's draws from NumPy's global generator.
    init()
    dropped = layer.forward(np.ones((20, 30)))
    init()
    np.testing.assert_array_equal(dropped, np.random.binomial(1, 0.9, size=(20, 30)) / 0.9)


def test_optimizers_follow_the_books_update_rules():
    grads = [np.array([[0.5, -1.0]]), np.array([[0.2, 0.3]]), np.array([[-0.4, 0.1]])]
    # Book SGD with momentum and a constant rate: u = m·u - lr·g; w += u.
    layer = Layer_Dense(1, 2)
    layer.forward(np.ones((1, 1)))
    w = layer.weights.astype(np.float64).copy()
    u = np.zeros_like(w)
    opt = Optimizer_SGD(learning_rate=0.1, momentum=0.9)
    for g in grads:
        layer.grads["kernel"][...] = g
        opt.pre_update_params()
        opt.update_params(layer)
        opt.post_update_params()
        u = 0.9 * u - 0.1 * g
        w = w + u
    np.testing.assert_allclose(layer.weights, w, rtol=1e-6)
    # Book Adam with decay: corrected moments, lr / (1 + decay · t).
    layer = Layer_Dense(1, 2)
    layer.forward(np.ones((1, 1)))
    w = layer.weights.astype(np.float64).copy()
    m = v = np.zeros_like(w)
    opt = Optimizer_Adam(learning_rate=0.01, decay=0.1)
    for t, g in enumerate(grads):
        layer.grads["kernel"][...] = g
        opt.update_params(layer)
        opt.post_update_params()
        lr = 0.01 / (1 + 0.1 * t)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        w = w - lr * (m / (1 - 0.9 ** (t + 1))) / (np.sqrt(v / (1 - 0.999 ** (t + 1))) + 1e-7)
    np.testing.assert_allclose(layer.weights, w, rtol=1e-5)


def test_binary_and_regression_chapters():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, :1] > 0).astype(int)  # the book's binary labels are a column
    model = Model()
    model.add(Layer_Dense(2, 16))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(16, 1))
    model.add(Activation_Sigmoid())
    model.set(loss=Loss_BinaryCrossentropy(), optimizer=Optimizer_Adam(learning_rate=0.05),
              accuracy=Accuracy_Categorical(binary=True))
    model.finalize()
    history = model.train(X, y, epochs=100, print_every=1000)
    assert history.history["acc"][-1] > 0.95
    assert set(np.unique(model.layers[-1].predictions(model.predict(X)))) <= {0, 1}

    X, y = sine_data(samples=200)
    accuracy = Accuracy_Regression()
    accuracy.init(y)
    assert accuracy._adapted == pytest.approx(np.std(y) / 250)
    model = Model()
    model.add(Layer_Dense(1, 32))
    model.add(Activation_ReLU())
    model.add(Layer_Dense(32, 1))
    model.add(Activation_Linear())
    model.set(loss=Loss_MeanSquaredError(), optimizer=Optimizer_Adam(learning_rate=0.01), accuracy=accuracy)
    model.finalize()
    history = model.train(X, y, epochs=50, batch_size=32, print_every=1000)
    assert history.history["loss"][-1] < history.history["loss"][0]
    predictions = model.predict(X)
    expected = np.mean(np.abs(predictions.ravel() - y.ravel()) < np.std(y) / 250)  # the book's formula
    assert accuracy.calculate(predictions, y) == pytest.approx(expected)


def test_book_accuracies_compare_flat_targets_row_by_row():
    # (N,) targets against (N, 1) predictions: one comparison per sample, never an (N, N) table.
    y = np.array([0.0, 1.0, 2.0, 3.0])
    regression = Accuracy_Regression()
    regression.init(y)
    assert regression.calculate(y.reshape(-1, 1), y) == 1.0
    binary = Accuracy_Categorical(binary=True)
    labels = np.array([0, 1, 1, 0])
    assert binary.calculate(labels.reshape(-1, 1), labels) == 1.0
    assert binary.calculate(1 - labels.reshape(-1, 1), labels) == 0.0


def test_loss_calculate_accepts_labels_or_one_hot():
    output = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])
    loss = Loss_CategoricalCrossentropy()
    expected = -np.mean(np.log([0.7, 0.5]))
    assert loss.calculate(output, np.array([0, 1])) == pytest.approx(expected)
    assert loss.calculate(output, np.array([[1, 0, 0], [0, 1, 0]])) == pytest.approx(expected)


def test_penalty_gradients_count_once_inside_a_model():
    import glassnet as gn

    X, y = spiral_data(samples=5, classes=3)
    model = Model()
    model.add(Layer_Dense(2, 4, weight_regularizer_l2=0.1, bias_regularizer_l1=0.1, dtype="float64"))
    model.add(Activation_ReLU(dtype="float64"))
    model.add(Layer_Dense(4, 3, weight_regularizer_l1=0.05, dtype="float64"))
    model.add(Activation_Softmax(dtype="float64"))
    model.set(loss=Loss_CategoricalCrossentropy(), optimizer=Optimizer_Adam())
    model.finalize()
    model.network.layers[0].params["bias"][...] = 0.3  # away from L1's kink at 0
    model.network.layers[2].params["bias"][...] = 0.0
    result = gn.check_gradients(model.network, X.astype(np.float64), y, eps=1e-6)
    assert result.passed, result


def test_book_regression_accuracy_keeps_its_learned_precision_through_its_config():
    accuracy = Accuracy_Regression()
    accuracy.init(np.array([0.0, 500.0]))  # std 250: precision 1
    copy = Accuracy_Regression(**accuracy.get_config())
    predictions, y = np.array([0.5, 2.0]), np.array([0.0, 0.0])
    assert copy.calculate(predictions, y) == accuracy.calculate(predictions, y) == 0.5


def test_book_regression_accuracy_has_the_books_precision_attribute():
    """The book's Accuracy_Regression keeps std(y) / 250 in ``.precision`` (None until init); a
    reader printing or changing it got an AttributeError."""
    accuracy = Accuracy_Regression()
    assert accuracy.precision is None
    accuracy.init(np.array([0.0, 500.0]))
    assert accuracy.precision == 1.0
    accuracy.init(np.array([0.0, 1000.0]))  # kept without reinit, as in the book
    assert accuracy.precision == 1.0
    accuracy.precision = 2.5  # a reader's own tolerance is the one compared with
    assert accuracy.calculate(np.array([2.0, 3.0]), np.array([0.0, 0.0])) == 0.5


def test_l1_penalty_derivative_is_plus_one_at_zero_and_added_before_l2_as_in_the_book():
    # The book's dL1 is ones with -1 where w < 0: +1 at w = 0 (biases start there), where
    # sign(w) gives 0; and the L1 and L2 terms are added one after the other.
    layer = Layer_Dense(2, 3, weight_regularizer_l1=0.3, weight_regularizer_l2=0.2, bias_regularizer_l1=0.5)
    layer.weights = np.float32([[0.0, -0.25, 0.125], [0.5, 0.0, -1.0]])
    layer.forward(np.ones((4, 2), dtype=np.float32))
    layer.backward(np.zeros((4, 3), dtype=np.float32))
    np.testing.assert_array_equal(layer.dbiases, np.full((1, 3), 0.5, dtype=np.float32))
    w = layer.weights
    expected = np.zeros_like(w)
    expected += 0.3 * np.where(w < 0, -1, 1).astype(np.float32)
    expected += 2 * 0.2 * w
    np.testing.assert_array_equal(layer.dweights, expected)
