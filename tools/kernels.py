"""Tuned kernels, timed in the same run as the backends: the bench's limit.

A "% of the limit" means something only if no backend can beat the limit. A single matrix
multiply is not enough: on one CPU raw TensorFlow trained the whole network faster than the
torch fp32 matrix multiply the bench used as its reference, because another library's kernels
ran faster there. So the limit is the *best* of several tuned kernels, each measured in both
frameworks in the same run on the same device: a large fp32 matrix multiply, and the network's
second convolution (32 to 64 channels, 3x3, most of the arithmetic) forward and backward
alone. A training step does that convolution and more, slower layers, so its rate stays below.

Each framework's kernels run in a process of their own (``python -m tools.kernels torch``), so
that the bench's process holds neither framework's threads nor GPU memory while the notebooks
run. On a CUDA GPU the clock is read only after the GPU has finished (``synchronize``).

    python -m tools.kernels torch|tensorflow [--windows N] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from shared import concepts

FRAMEWORKS = ("torch", "tensorflow")
MATMUL_SIZE = 2048
BATCH = 128
RESULT_MARKER = "KERNELS="


def second_convolution_flops(batch: int = BATCH) -> float:
    """Forward and backward FLOP of the second convolution on ``batch`` images."""
    conv2 = next(row for row in concepts.layer_rows() if row["layer"].startswith("Conv 3×3×64"))
    return conv2["flops"] * concepts.TRAINING_FACTOR * batch


def best_rate(
    step: Callable[[], object],
    flops_per_call: float,
    windows: int = 3,
    seconds: float = 1.0,
    synchronize: Callable[[object], object] = lambda result: None,
) -> float:
    """FLOP/s of the best of ``windows`` windows of about ``seconds`` each, calling ``step``
    again and again; ``synchronize(last result)`` waits for a GPU before the clock is read."""
    if windows < 1 or seconds <= 0:
        raise ValueError(
            f"windows must be at least 1 and seconds above 0, got {windows}, {seconds}"
        )
    synchronize(step())  # warm-up: kernel choice, allocation, tracing
    best = 0.0
    for _ in range(windows):
        start, count = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            result = step()
            count += 1
        synchronize(result)
        best = max(best, flops_per_call * count / (time.perf_counter() - start))
    return best


def torch_synchronizer(device: str) -> Callable[[object], None]:
    """Wait for the GPU's queued work on CUDA; nothing to wait for on the CPU."""
    import torch

    return (lambda result: torch.cuda.synchronize()) if device == "cuda" else (lambda result: None)


def torch_kernels(windows: int, seconds: float, size: int = MATMUL_SIZE) -> dict[str, float]:
    """FLOP/s of the torch fp32 matrix multiply and second convolution on the default device."""
    import torch
    from torch import nn

    device = "cuda" if torch.cuda.is_available() else "cpu"
    synchronize = torch_synchronizer(device)
    a, b = (torch.randn(size, size, device=device) for _ in range(2))
    rates = {
        "torch fp32 matrix multiply": best_rate(
            lambda: a @ b, 2 * size**3, windows, seconds, synchronize
        )
    }
    layout = torch.channels_last
    conv = nn.Conv2d(32, 64, 3).to(device, memory_format=layout)
    x = torch.randn(BATCH, 32, 26, 26, device=device).contiguous(memory_format=layout)
    x.requires_grad_(True)
    gradient = torch.randn(BATCH, 64, 24, 24, device=device).contiguous(memory_format=layout)

    def convolution_step():
        conv.zero_grad(set_to_none=True)
        x.grad = None
        conv(x).backward(gradient)

    rates["torch second convolution, forward and backward"] = best_rate(
        convolution_step, second_convolution_flops(), windows, seconds, synchronize
    )
    return rates


def tensorflow_kernels(windows: int, seconds: float, size: int = MATMUL_SIZE) -> dict[str, float]:
    """FLOP/s of the TensorFlow fp32 matrix multiply and second convolution (NHWC, traced by
    ``tf.function`` as in notebook 05) on the default device."""
    import tensorflow as tf

    for card in tf.config.list_physical_devices("GPU"):  # take GPU memory as needed, not all
        tf.config.experimental.set_memory_growth(card, True)
    synchronize = lambda result: result.numpy()  # noqa: E731 - the value waits for the device
    a, b = (tf.random.normal([size, size]) for _ in range(2))
    rates = {
        "TensorFlow fp32 matrix multiply": best_rate(
            lambda: tf.linalg.matmul(a, b), 2 * size**3, windows, seconds, synchronize
        )
    }
    x = tf.random.normal([BATCH, 26, 26, 32])
    kernel = tf.Variable(tf.random.normal([3, 3, 32, 64]))
    gradient = tf.random.normal([BATCH, 24, 24, 64])

    @tf.function
    def convolution_step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, kernel, strides=1, padding="VALID")
        x_gradient, kernel_gradient = tape.gradient(y, [x, kernel], output_gradients=gradient)
        return tf.reduce_sum(x_gradient[0, 0, 0]) + tf.reduce_sum(kernel_gradient[0, 0, 0])

    rates["TensorFlow second convolution, forward and backward"] = best_rate(
        convolution_step, second_convolution_flops(), windows, seconds, synchronize
    )
    return rates


MEASURE = {"torch": torch_kernels, "tensorflow": tensorflow_kernels}


def measure(framework: str, windows: int = 3, seconds: float = 1.0, timeout: int = 600) -> dict:
    """The kernels' FLOP/s of ``framework``, measured in a process of its own."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    command = [sys.executable, "-m", "tools.kernels", framework]
    command += ["--windows", str(windows), "--seconds", str(seconds)]
    root = Path(__file__).resolve().parents[1]  # where ``tools`` can be imported from
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=root)
    if done.returncode != 0 or RESULT_MARKER not in done.stdout:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"timing the {framework} kernels failed: {said}")
    return json.loads(done.stdout.split(RESULT_MARKER, 1)[1])


def limit(rates: dict[str, float]) -> tuple[str, float]:
    """The fastest kernel and its FLOP/s: the rate no training step of this network can beat."""
    if not rates:
        raise ValueError("no kernel was timed, so there is no limit")
    name = max(rates, key=rates.get)
    return name, rates[name]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=FRAMEWORKS)
    parser.add_argument("--windows", type=int, default=3, help="timing windows per kernel")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each window")
    args = parser.parse_args(argv)
    if args.windows < 1 or args.seconds <= 0:
        parser.error("--windows must be at least 1 and --seconds above 0")
    print(RESULT_MARKER + json.dumps(MEASURE[args.framework](args.windows, args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
