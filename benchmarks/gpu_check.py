"""The device check of issue 17: glassnet on a GPU (CuPy) against glassnet on the CPU, and PyTorch.

1. Every layer family: forward and backward of one layer on the device against the CPU (the
   output, the input's gradient and every parameter's gradient, float32; a float32 tolerance on
   a GPU, bit for bit on the fake device).
2. The Fashion-MNIST CNN of examples/05_fashion_mnist_cnn.py, one epoch of fit on the CPU and on
   the device (after a few warm-up batches there: CuPy compiles its kernels on first use), and
   the speedup; the same model in PyTorch on CUDA when torch.cuda is available. Targets: the
   device epoch >= 20x faster than the CPU's, and within 2x of PyTorch CUDA's.

The images are Fashion-MNIST when its files are found (glassnet.datasets.fashion_mnist), else
random pixels of the same shape (the output says which; the timing does not depend on them).

Run:  python benchmarks/gpu_check.py                      (on a CUDA machine with CuPy; a few minutes)
      python benchmarks/gpu_check.py --fake-device --samples 256 --no-torch
          (anywhere: the strict stand-in for a GPU, glassnet/backend.py; the test suite runs this)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import glassnet as gn
from glassnet import backend
from glassnet.models import placement

L = gn.layers
BATCH = 128


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake-device", action="store_true", help="the strict fake device instead of a GPU")
    parser.add_argument("--samples", type=int, default=60_000, help="training images in the epoch (default 60000)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even where CUDA is available")
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU epoch (the layers are still compared)")
    return parser.parse_args(argv)


# -- 1. the layers, one at a time -----------------------------------------------------------------
def layer_cases():
    """(name, layer factory, per-sample input shape, integer inputs?) for each family."""
    return [
        ("Dense", lambda: L.Dense(16, activation="relu"), (12,), False),
        ("Conv2D", lambda: L.Conv2D(8, 3, padding="same", activation="relu"), (10, 10, 3), False),
        ("Conv1D", lambda: L.Conv1D(8, 3, activation="tanh"), (20, 4), False),
        ("MaxPooling2D", lambda: L.MaxPooling2D(), (8, 8, 3), False),
        ("AveragePooling2D", lambda: L.AveragePooling2D(), (8, 8, 3), False),
        ("GlobalAveragePooling2D", lambda: L.GlobalAveragePooling2D(), (6, 6, 3), False),
        ("BatchNormalization", lambda: L.BatchNormalization(), (6, 6, 4), False),
        ("LayerNormalization", lambda: L.LayerNormalization(), (10,), False),
        ("Dropout", lambda: L.Dropout(0.4), (12,), False),
        ("Embedding", lambda: L.Embedding(30, 8), (7,), True),
        ("SimpleRNN", lambda: L.SimpleRNN(8, return_sequences=True), (6, 5), False),
        ("LSTM", lambda: L.LSTM(8), (6, 5), False),
        ("GRU", lambda: L.GRU(8), (6, 5), False),
        ("Flatten", lambda: L.Flatten(), (4, 4, 2), False),
    ]


def run_layer(model, x, grad_out):
    """Forward (training) and backward of the one-layer model; the arrays on the host."""
    layer = model.layers[0]
    layer.rng = np.random.default_rng(7)  # one dropout mask on both devices
    placement.place(model)
    x_d, g_d = placement.batch(x, grad_out)
    y = layer.forward(x_d, training=True)
    dx = layer.backward(g_d)
    return [backend.to_host(a) for a in (y, dx, *layer.grads.values()) if a is not None]


def check_layers(device: str) -> bool:
    print(f"{'layer':24s} {'arrays':>6s} {'max |device - cpu| / max |cpu|':>32s}  verdict")
    all_ok = True
    for name, factory, shape, ints in layer_cases():
        rng = np.random.default_rng(0)
        x = rng.integers(0, 30, (16, *shape)) if ints else rng.normal(size=(16, *shape)).astype("float32")
        results = {}
        for where in ("cpu", device):
            backend.set_device(where)
            model = gn.Sequential([factory()], seed=0)
            model.build((None, *shape))
            y_shape = model.layers[0].output_shape[1:]
            grad_out = np.random.default_rng(1).normal(size=(16, *y_shape)).astype("float32")
            results[where] = run_layer(model, x, grad_out)
        backend.set_device("cpu")
        cpu, dev = results["cpu"], results[device]
        # each array's largest difference over its largest magnitude: float32 rounding is relative
        diff = max(float(np.max(np.abs(a - b)) / max(1e-30, float(np.max(np.abs(a))))) if a.size else 0.0
                   for a, b in zip(cpu, dev))
        # the fake device is NumPy: the same bits; a GPU sums in other orders, within float32 rounding
        ok = len(cpu) == len(dev) and (all(np.array_equal(a, b) for a, b in zip(cpu, dev)) if device == "fake"
                                       else diff < 1e-4)
        all_ok &= ok
        print(f"{name:24s} {len(cpu):6d} {diff:32.3g}  {'ok' if ok else 'MISMATCH'}")
    return all_ok


# -- 2. the Fashion-MNIST CNN, one epoch ------------------------------------------------------------
def images(samples: int):
    try:
        (x, y), _ = gn.datasets.fashion_mnist.load_data(download=False)
        source = "Fashion-MNIST"
    except (FileNotFoundError, OSError):
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60_000)
        source = "random pixels (Fashion-MNIST not found)"
    reps = -(-samples // len(x))
    x, y = np.concatenate([x] * reps)[:samples], np.concatenate([y] * reps)[:samples]
    return (x[..., None] / np.float32(255)).astype("float32"), y.astype(np.int64), source


def cnn():
    """examples/05_fashion_mnist_cnn.py's model, compiled as there."""
    model = gn.Sequential([
        L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), L.BatchNormalization(), L.MaxPooling2D(),
        L.Conv2D(64, 3, activation="relu"), L.BatchNormalization(), L.MaxPooling2D(),
        L.Flatten(), L.Dropout(0.3), L.Dense(128, activation="relu"), L.Dropout(0.3),
        L.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def glassnet_epoch(device: str, x, y, warmup: bool) -> tuple[float, float]:
    """Seconds for one epoch of ``fit`` on ``device``, and the epoch's loss."""
    backend.set_device(device)
    try:
        model = cnn()
        if warmup:  # a few batches first: CuPy compiles each kernel on first use
            model.fit(x[:4 * BATCH], y[:4 * BATCH], batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
            model = cnn()
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        seconds = time.perf_counter() - start  # fit ends with the loss as a Python float: the device is done
        # the packed weights stepped as one flat array on the device as on the CPU (not one by one)
        print(f"  {device}: the optimizer stepped {len(model.optimizer.flat_groups)} flat group(s) of parameters")
        return seconds, history.history["loss"][-1]
    finally:
        backend.set_device("cpu")


def torch_cuda_epoch(x, y) -> tuple[float, float] | None:
    """The same CNN and epoch in PyTorch on CUDA, or None where torch or CUDA is missing."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from contenders import torch_epoch

    nn = torch.nn
    torch.manual_seed(0)
    dev = torch.device("cuda")
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(1600, 128), nn.ReLU(),
                        nn.Dropout(0.3), nn.Linear(128, 10)).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).to(dev)
    yt = torch.from_numpy(y).to(dev)
    n = xt.shape[0]
    torch_epoch(net, opt, nn.CrossEntropyLoss(), xt, yt, min(n, 4 * BATCH), BATCH)  # warm-up: cuDNN picks kernels
    torch.cuda.synchronize()
    start = time.perf_counter()
    loss = torch_epoch(net, opt, nn.CrossEntropyLoss(), xt, yt, n, BATCH)  # .item() per batch waits for CUDA
    torch.cuda.synchronize()
    return time.perf_counter() - start, loss


def main(argv=None) -> int:
    args = parse(argv)
    device = "fake" if args.fake_device else "gpu"
    backend.set_device(device)  # fails here, naming what is missing, without CuPy or a GPU
    backend.set_device("cpu")
    print(f"glassnet device check: {device}; CPU {gn.utils.cpu_model()}, load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if device == "gpu":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        print(f"GPU {props['name'].decode()}, CuPy {cupy.__version__}")
    if device == "fake":  # np.asarray & co refuse its arrays too, as they refuse CuPy's
        with backend.refusing_implicit_copies():
            return run_checks(args, device)
    return run_checks(args, device)


def run_checks(args, device: str) -> int:
    layers_ok = check_layers(device)
    x, y, source = images(args.samples)
    print(f"\nCNN of examples/05, one epoch of {len(x)} images ({source}), batch {BATCH}")
    rows = []
    if not args.no_cpu:
        rows.append(("glassnet CPU", *glassnet_epoch("cpu", x, y, warmup=False)))
    rows.append((f"glassnet {device}", *glassnet_epoch(device, x, y, warmup=True)))
    torch_row = None if args.no_torch else torch_cuda_epoch(x, y)
    if torch_row is not None:
        rows.append(("PyTorch CUDA", *torch_row))
    for name, seconds, loss in rows:
        print(f"{name:16s} {seconds:9.2f} s   loss {loss:.4f}")
    dev_seconds = rows[-2 if torch_row is not None else -1][1]
    if not args.no_cpu:
        speedup = rows[0][1] / dev_seconds
        print(f"speedup of glassnet on {device} over the CPU: {speedup:.1f}x (target >= 20x)")
    if torch_row is not None:
        print(f"glassnet {device} / PyTorch CUDA: {dev_seconds / torch_row[0]:.2f}x (target <= 2x)")
    print("layers:", "all match the CPU" if layers_ok else "MISMATCH (see above)")
    return 0 if layers_ok else 1


if __name__ == "__main__":
    sys.exit(main())
