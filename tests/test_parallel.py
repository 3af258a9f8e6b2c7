"""glassnet.parallel: products and elementwise work split over glassnet's threads give the bits of one
thread, and BLAS is held to one thread only while fit, evaluate or predict runs."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import glassnet as gn
from glassnet import layers, parallel


@pytest.fixture(autouse=True)
def follow_blas_afterwards():
    yield
    gn.config.set_num_threads(None)


def train(model_layers, x, y, threads):
    gn.config.set_num_threads(threads)
    model = gn.Sequential(model_layers, seed=3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    return model.get_weights(), model.predict(x, batch_size=64)


def cnn_2d():
    return [layers.Conv2D(8, 3, padding="same", activation="relu", input_shape=(16, 16, 2)),
            layers.MaxPooling2D(), layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
            layers.Flatten(), layers.Dense(4, activation="softmax")]


def cnn_1d():
    return [layers.Conv1D(16, 5, activation="relu", input_shape=(400, 3)), layers.MaxPooling1D(3, strides=2),
            layers.Conv1D(16, 3, activation="relu"), layers.AveragePooling1D(),
            layers.Flatten(), layers.Dense(4, activation="softmax")]


@pytest.mark.parametrize("build, shape", [(cnn_2d, (64, 16, 16, 2)), (cnn_1d, (64, 400, 3))])
def test_training_is_bit_identical_on_one_and_two_threads(build, shape, monkeypatch):
    rng = np.random.default_rng(0)
    # Rounded pixels make ties in the max-pooling windows, so the tie pass runs too.
    x = np.round(rng.random(shape, dtype=np.float32) * 4) / 4
    y = rng.integers(0, 4, shape[0])
    seen = set()
    real_run = parallel._run

    def spy_run(part, threads):
        def recorded(i):
            seen.add(threading.current_thread().name)
            return part(i)
        return real_run(recorded, threads)

    with threadpool_limits(1):
        one = train(build(), x, y, None)  # follows BLAS: one thread
        monkeypatch.setattr(parallel, "_run", spy_run)
        two = train(build(), x, y, 2)
        monkeypatch.undo()
    assert len(seen) == 2  # the split work really ran on two threads
    with threadpool_limits(2):
        two_blas = train(build(), x, y, None)  # follows BLAS: two threads
    for other in (two, two_blas):
        for a, b in zip(one[0], other[0]):
            assert a.tobytes() == b.tobytes()
        assert one[1].tobytes() == other[1].tobytes()


def test_over_batch_uses_the_threads_set_and_one_when_told():
    x = np.arange(64 * 4096, dtype=np.float32).reshape(64, 4096) - 1000  # 1 MiB: worth splitting
    seen = set()

    def relu(x, out):
        seen.add(threading.current_thread().name)
        np.maximum(x, 0, out=out)

    gn.config.set_num_threads(2)
    with parallel.training_threads():
        assert np.array_equal(parallel.over_batch(relu, x, out=np.empty_like(x)), np.maximum(x, 0))
    assert len(seen) == 2
    seen.clear()
    parallel.over_batch(relu, x, out=np.empty_like(x))  # outside fit/predict: the calling thread
    with threadpool_limits(1):
        gn.config.set_num_threads(None)  # follows BLAS, limited to one thread
        with parallel.training_threads():
            parallel.over_batch(relu, x, out=np.empty_like(x))
    assert seen == {threading.current_thread().name}


def test_small_batches_stay_on_the_calling_thread():
    seen = set()

    def copy(x, out):
        seen.add(threading.current_thread().name)
        out[...] = x

    gn.config.set_num_threads(2)
    with parallel.training_threads():
        parallel.over_batch(copy, np.ones((4, 10), np.float32), out=np.empty((4, 10), np.float32))
    assert seen == {threading.current_thread().name}


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="positive int or None"):
        gn.config.set_num_threads(0)
    with pytest.raises(ValueError, match="batch axis"):
        parallel.over_batch(np.add, np.ones((3, 2)), np.ones(2), out=np.empty((3, 2)))


def mlp():
    return [layers.Dense(256, activation="relu", input_shape=(784,)), layers.Dense(64, activation="relu"),
            layers.Dense(4, activation="softmax")]


def test_mlp_products_split_over_threads_give_the_bits_of_one(monkeypatch):
    # Dense alone does not take glassnet's own threads (pays_off), so mark it as if it did:
    # this checks that Dense's forward, dW and dx products, split by rows or columns, keep their bits.
    monkeypatch.setattr(layers.Dense, "splits_batch_work", True, raising=False)
    rng = np.random.default_rng(1)
    x, y = rng.random((256, 784), dtype=np.float32), rng.integers(0, 4, 256)
    seen = set()
    real = np.matmul

    def spy(*args, **kwargs):
        seen.add(threading.current_thread().name)
        return real(*args, **kwargs)

    with threadpool_limits(1):
        one = train(mlp(), x, y, None)
        monkeypatch.setattr(parallel.np, "matmul", spy)
        two = train(mlp(), x, y, 2)
    assert len(seen) == 2  # the products really ran on two threads
    for a, b in zip(one[0], two[0]):
        assert a.tobytes() == b.tobytes()
    assert one[1].tobytes() == two[1].tobytes()


@pytest.mark.parametrize("shape_a, shape_b", [((300, 200), (200, 64)), ((64, 200), (200, 300)),
                                              ((10, 20000), (20000, 32))])
def test_matmul_gives_the_bits_of_one_product(shape_a, shape_b):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(shape_a, dtype=np.float32), rng.standard_normal(shape_b, dtype=np.float32)
    with threadpool_limits(1):
        whole = a @ b
        gn.config.set_num_threads(2)
        with parallel.training_threads():
            split = parallel.matmul(a, b)
            into = parallel.matmul(a.T.copy().T, b, out=np.empty_like(whole))  # a strided a, and out=
    assert split.tobytes() == whole.tobytes() and into.tobytes() == whole.tobytes()


class BlasThreadsSeen(gn.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.seen = (parallel.blas_threads(), parallel.num_threads())


@pytest.mark.parametrize("own", [True, False])
def test_fit_holds_blas_to_one_thread_only_while_it_runs(own):
    x = np.zeros((8, 16, 16, 2), np.float32)
    y = np.zeros(8, int)
    model = gn.Sequential(cnn_2d(), seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    seen = BlasThreadsSeen()
    gn.config.set_own_threads(own)
    try:
        with threadpool_limits(2, user_api="blas"):
            model.fit(x, y, epochs=1, verbose=0, callbacks=[seen])
            after = parallel.blas_threads()
    finally:
        gn.config.set_own_threads(True)
    # On: BLAS on one thread, glassnet on the two BLAS had when fit began; off: BLAS untouched.
    assert seen.seen == ((1, 2) if own else (2, 2))
    assert after == 2


def test_dense_only_models_leave_blas_alone():
    model = gn.Sequential(mlp(), seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    seen = BlasThreadsSeen()
    with threadpool_limits(2, user_api="blas"):
        model.fit(np.zeros((8, 784), np.float32), np.zeros(8, int), epochs=1, verbose=0, callbacks=[seen])
    assert seen.seen[0] == 2


def test_first_verbose_fit_names_the_blas_setting_and_its_switch(capsys, monkeypatch):
    monkeypatch.setattr(parallel, "_announced", False)
    model = gn.Sequential(cnn_2d(), seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with threadpool_limits(2, user_api="blas"):
        model.fit(np.zeros((8, 16, 16, 2), np.float32), np.zeros(8, int), epochs=1, verbose=2)
        model.fit(np.zeros((8, 16, 16, 2), np.float32), np.zeros(8, int), epochs=1, verbose=2)
    out = capsys.readouterr().out
    assert out.count("BLAS held to 1 thread") == 1 and "set_own_threads(False)" in out


@pytest.mark.parametrize("conv, kwargs, shape", [
    (layers.Conv2D, {}, (9, 24, 24, 32)),
    (layers.Conv2D, {"strides": 2, "padding": "same"}, (9, 44, 44, 32)),
    (layers.Conv2D, {"dilation_rate": 2, "use_bias": False}, (9, 26, 26, 32)),
    (layers.Conv1D, {"padding": "causal"}, (9, 500, 32)),
], ids=["2d", "2d-strided-same", "2d-dilated-no-bias", "1d-causal"])
def test_convolution_hands_each_thread_its_samples_once_per_pass(conv, kwargs, shape, monkeypatch):
    """im2col and its product in one hand-over; backward's K col2im products and additions in
    one more (beside dW's), not one per kernel offset; the bits those of one thread. An odd batch
    (9) cuts the samples unevenly."""
    rng = np.random.default_rng(4)
    layer = conv(32, 3, **kwargs)
    layer.build(shape)
    x = rng.standard_normal(shape, dtype=np.float32)
    with threadpool_limits(1):  # one thread: outside fit, and BLAS on one
        z = layer.forward_logits(x, training=True)
        grad = rng.standard_normal(z.shape, dtype=np.float32)
        dx, dW = layer.backward_logits(grad), layer.grads["kernel"].copy()

    hand_overs, seen = [], set()
    real_run = parallel._run

    def spy_run(part, threads):
        hand_overs.append(threads)

        def recorded(i):
            seen.add(threading.current_thread().name)
            return part(i)
        return real_run(recorded, threads)

    monkeypatch.setattr(parallel, "_run", spy_run)
    gn.config.set_num_threads(2)
    with parallel.training_threads():
        z2 = layer.forward_logits(x, training=True)
        forward_hand_overs = len(hand_overs)
        dx2 = layer.backward_logits(grad)
    assert forward_hand_overs == 1 and len(hand_overs) - forward_hand_overs == 2  # dW's product, col2im
    assert len(seen) == 2
    assert z2.tobytes() == z.tobytes() and dx2.tobytes() == dx.tobytes()
    assert layer.grads["kernel"].tobytes() == dW.tobytes()


def test_relu_forward_computes_output_and_mask_in_one_hand_over(monkeypatch):
    x = np.random.default_rng(5).standard_normal((64, 4096), dtype=np.float32)  # 1 MiB: worth splitting
    hand_overs = []
    real_run = parallel._run
    monkeypatch.setattr(parallel, "_run", lambda part, threads: (hand_overs.append(threads), real_run(part, threads)))
    relu = gn.activations.ReLU()
    gn.config.set_num_threads(2)
    with parallel.training_threads():
        y = relu.forward(x)
        dx = relu.backward(np.ones_like(x))
    assert hand_overs == [2, 2]  # forward (y and its mask) once, backward once
    assert y.tobytes() == np.maximum(x, 0).tobytes() and dx.tobytes() == (x > 0).astype(np.float32).tobytes()


def lstm_text():
    return [layers.Embedding(50, 8, mask_zero=True, input_shape=(80,)), layers.LSTM(16, return_sequences=True),
            layers.GRU(8, go_backwards=True), layers.Dense(4, activation="softmax")]


def test_recurrent_chunk_products_on_a_second_thread_give_the_bits_of_one(monkeypatch):
    # 80 steps of 32 samples: three chunks of steps (recurrent.step_chunks), so the input projection
    # of the next chunk and the gradient products of the chunk just done run beside the time loop.
    rng = np.random.default_rng(4)
    x = rng.integers(1, 50, (64, 80))
    x[::3, 60:] = 0  # padded tails: the mask's path too
    y = rng.integers(0, 4, 64)
    seen = set()
    real = parallel.in_background

    def spy(fn, *args):
        def recorded(*args):
            seen.add(threading.current_thread().name)
            return fn(*args)
        return real(recorded, *args)

    with threadpool_limits(1):
        one = train(lstm_text(), x, y, None)
        monkeypatch.setattr(parallel, "in_background", spy)
        two = train(lstm_text(), x, y, 2)
    assert any(name.startswith("glassnet") for name in seen)  # chunk products ran on glassnet's thread
    for a, b in zip(one[0], two[0]):
        assert a.tobytes() == b.tobytes()
    assert one[1].tobytes() == two[1].tobytes()


def test_in_background_runs_at_once_outside_fit_and_on_glassnets_thread_inside(monkeypatch):
    monkeypatch.setattr(parallel, "_pool", None)  # a fresh pool: one worker, idle
    started = threading.Event()

    def thread_name():
        started.set()
        return threading.current_thread().name

    assert parallel.in_background(thread_name).result() == threading.current_thread().name
    started.clear()
    with threadpool_limits(1):
        gn.config.set_num_threads(2)
        with parallel.training_threads():
            task = parallel.in_background(thread_name)
            assert started.wait(10)  # begun there, so result() waits for it rather than taking it back
            assert task.result().startswith("glassnet")
    parallel._pool.shutdown()


def test_a_task_no_thread_has_started_is_run_by_the_caller(monkeypatch):
    # On a busy machine glassnet's thread may wait for a core: the caller then does the work
    # itself rather than wait idle for it, with the same result.
    monkeypatch.setattr(parallel, "_pool", None)
    release = threading.Event()
    with threadpool_limits(1):
        gn.config.set_num_threads(2)
        with parallel.training_threads():
            busy = parallel.in_background(release.wait, 10)  # holds the pool's one worker
            queued = parallel.in_background(lambda: threading.current_thread().name)
            try:
                assert queued.result() == threading.current_thread().name
            finally:
                release.set()
            assert busy.result() is True
    parallel._pool.shutdown()
