"""``python -m tools.levers``: the measured effect of each speed lever the notebooks teach.

Each lever is an A/B pair: the course model's training step with the lever off and with it on,
on random data of MNIST's shape. The two run in alternating rounds and each keeps its fastest
round, because on a shared machine the speed drifts from minute to minute and alternating
exposes both sides to the same drift. ``make bench`` measures the notebooks themselves; this
explains where their speed comes from. Every model here is built by a notebook's own model cell
(``tools.notebooks``). The steps run where the notebooks train: on a CUDA GPU when there is
one (every clock read after the GPU has finished), else on the CPU; the record names the
machine (``shared.machine``).

    python -m tools.levers [--steps N] [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from shared import config, machine

from . import kernels, measurements, notebooks
from .tables import markdown_table

BATCH = 128


def torch_device() -> str:
    """Where the PyTorch notebooks train here: ``"cuda"`` with a CUDA GPU, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def ab_seconds(
    off: Callable[[], object],
    on: Callable[[], object],
    steps: int,
    rounds: int,
    synchronize: Callable[[], object] = lambda: None,
) -> tuple[float, float]:
    """Seconds per call of ``off`` and of ``on``: each called ``steps`` times per round, rounds
    alternating, the fastest round counting. Both get one untimed warm-up call first.
    ``synchronize()`` waits for a GPU's queued work before each reading of the clock."""
    if steps < 1 or rounds < 1:
        raise ValueError(f"steps and rounds must be at least 1, got {steps} and {rounds}")
    best = {"off": float("inf"), "on": float("inf")}
    for step in (off, on):
        step()
    for _ in range(rounds):
        for name, step in (("off", off), ("on", on)):
            synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                step()
            synchronize()
            best[name] = min(best[name], (time.perf_counter() - start) / steps)
    return best["off"], best["on"]


def torch_ab_seconds(off, on, steps: int, rounds: int) -> tuple[float, float]:
    """``ab_seconds`` for PyTorch steps, synchronised with the GPU when they run on one."""
    wait = kernels.torch_synchronizer(torch_device())
    return ab_seconds(off, on, steps, rounds, synchronize=lambda: wait(None))


def torch_training_step(
    memory_format_name: str = "channels_last",
    compiled: bool = False,
    batch_size: int = BATCH,
    next_batch: Callable[[], tuple] | None = None,
):
    """One PyTorch training step of the course model as a function: on a fixed random batch,
    or on whatever ``next_batch()`` returns."""
    import torch
    import torch.nn.functional as F

    memory_format, device = getattr(torch, memory_format_name), torch_device()
    torch.manual_seed(config.SEED)
    model = notebooks.torch_builder()().to(device, memory_format=memory_format)
    forward = torch.compile(model) if compiled else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    fixed = torch.randn(batch_size, 1, 28, 28), torch.randint(0, 10, (batch_size,))

    def step():
        x, y = next_batch() if next_batch else fixed
        x = x.to(device).contiguous(memory_format=memory_format)
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(forward(x), y.to(device)).backward()
        optimizer.step()

    return step


def torch_in_memory_batches(steps: int, rounds: int) -> tuple[float, float]:
    """PyTorch training step fed by the tutorials' per-image PIL -> ``ToTensor`` ->
    ``Normalize`` DataLoader, then by random slices of one normalised in-memory tensor."""
    import numpy as np
    import torch

    from shared import data

    from .bench import tutorial_loader

    rng = np.random.default_rng(config.SEED)
    digits = rng.integers(0, 256, (8 * BATCH, 28, 28), dtype=np.uint8)
    labels = torch.from_numpy(rng.integers(0, 10, len(digits)))

    def endless(loader):
        while True:
            yield from loader

    loaded = endless(tutorial_loader(digits, labels.numpy(), BATCH))
    images = torch.from_numpy(data.normalize(digits, channels_last=False))

    def sliced():
        index = torch.randint(len(digits), (BATCH,))
        return images[index], labels[index]

    off = torch_training_step(next_batch=lambda: next(loaded))
    return torch_ab_seconds(off, torch_training_step(next_batch=sliced), steps, rounds)


def torch_batch_size(steps: int, rounds: int) -> tuple[float, float]:
    """PyTorch training step on batches of 256, then of 128 (the recipe's), both given as
    seconds per 128 images so that they compare per image."""
    off, on = torch_ab_seconds(
        torch_training_step(batch_size=2 * BATCH), torch_training_step(), steps, rounds
    )
    return off / 2, on


def torch_channels_last(steps: int, rounds: int) -> tuple[float, float]:
    """PyTorch training step in the default NCHW layout, then in ``channels_last``."""
    off, on = torch_training_step("contiguous_format"), torch_training_step("channels_last")
    return torch_ab_seconds(off, on, steps, rounds)


def torch_compile(steps: int, rounds: int) -> tuple[float, float]:
    """PyTorch training step (``channels_last``) run eagerly, then through ``torch.compile``.
    The compilation itself happens in the untimed warm-up call."""
    on = torch_training_step(compiled=True)
    return torch_ab_seconds(torch_training_step(), on, steps, rounds)


def second_convolution(steps: int, rounds: int) -> float:
    """Seconds per batch of the layer that holds most of the arithmetic, the 3x3 convolution
    from 32 to 64 channels, alone: forward and backward (weights and input), channels_last."""
    import torch
    from torch import nn

    device, layout = torch_device(), torch.channels_last
    conv = nn.Conv2d(32, 64, 3).to(device, memory_format=layout)
    x = torch.randn(BATCH, 32, 26, 26, device=device).contiguous(memory_format=layout)
    x.requires_grad_(True)
    gradient = torch.randn(BATCH, 64, 24, 24, device=device).contiguous(memory_format=layout)

    def step():
        conv.zero_grad(set_to_none=True)
        x.grad = None
        conv(x).backward(gradient)

    return min(torch_ab_seconds(step, step, steps, rounds))


def tensorflow_function(steps: int, rounds: int) -> tuple[float, float]:
    """Raw TensorFlow training step (notebook 05's model) run eagerly, op by op, then traced by
    ``tf.function``."""
    import tensorflow as tf

    model = notebooks.tensorflow_builder()()
    optimizer = tf.keras.optimizers.Adam(1e-3)
    x = tf.random.normal([BATCH, 28, 28, 1])
    y = tf.random.uniform([BATCH], maxval=10, dtype=tf.int32)

    def step():
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            )
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    traced = tf.function(step)
    return ab_seconds(lambda: step().numpy(), lambda: traced().numpy(), steps, rounds)


def keras_xla(steps: int, rounds: int) -> tuple[float, float]:
    """Keras ``train_on_batch`` compiled without XLA (the default on CPU), then with
    ``jit_compile=True``."""
    import keras
    import numpy as np

    x = np.random.default_rng(0).normal(size=(BATCH, 28, 28, 1)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 10, BATCH)

    build_model = notebooks.keras_builder()

    def training_step(jit_compile):
        model = build_model()
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit_compile,
        )
        return lambda: model.train_on_batch(x, y)

    return ab_seconds(training_step(False), training_step(True), steps, rounds)


LEVERS = {
    "PyTorch: per-image ToTensor DataLoader -> in-memory slices (03, 04)": (
        torch_in_memory_batches
    ),
    "PyTorch: batch 256 -> 128, time per image (all notebooks use 128)": torch_batch_size,
    "PyTorch: NCHW -> channels_last (notebooks 03, 04, 06)": torch_channels_last,
    "PyTorch: eager -> torch.compile (notebooks 03, 04)": torch_compile,
    "TensorFlow: eager -> tf.function (notebook 05)": tensorflow_function,
    "Keras: no XLA -> jit_compile=True (notebooks 01, 02)": keras_xla,
}


def table(rows: list[dict]) -> str:
    header = ["Lever", "Off: s per 60k epoch", "On", "Speed-up"]
    cells = [
        [
            r["lever"],
            f"{r['off_seconds_per_epoch']:.0f} s",
            f"{r['on_seconds_per_epoch']:.0f} s",
            f"{r['speedup']:.2f}×",
        ]
        for r in rows
    ]
    return markdown_table(header, cells)


def caption(record: dict) -> str:
    """How the levers were timed, where, and the floor set by the second convolution."""
    return (
        f"Measured on {machine.where(record)}: batches of {record['batch_size']}, lever off "
        f"and on in {record['rounds']} alternating rounds of {record['steps']} steps, the "
        "fastest round of each counting. The second convolution alone, forward and backward, took "
        f"{record['second_convolution_seconds_per_epoch']:.0f} s per 60k epoch in the same run."
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per side")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        parser.error("--steps and --rounds must be at least 1")
    print(
        f"batch {BATCH}, fastest of {args.rounds} alternating rounds of {args.steps} steps",
        flush=True,
    )
    rows = []
    for name, measure in LEVERS.items():
        off, on = measure(args.steps, args.rounds)
        steps_per_epoch = 60000 / BATCH
        rows.append(
            {
                "lever": name,
                "off_seconds_per_epoch": off * steps_per_epoch,
                "on_seconds_per_epoch": on * steps_per_epoch,
                "speedup": off / on,
            }
        )
        print(f"{name}: {off / on:.2f}×", flush=True)
    print("\n" + table(rows))
    conv_seconds = second_convolution(args.steps, args.rounds) * 60000 / BATCH
    print(f"\nthe second convolution alone, forward and backward: {conv_seconds:.0f} s per epoch")
    device = config.device_description(torch_device())
    record = {
        "device": device,
        "machine": machine.describe(device),
        "batch_size": BATCH,
        "steps": args.steps,
        "rounds": args.rounds,
        "rows": rows,
        "second_convolution_seconds_per_epoch": conv_seconds,
    }
    root = config.project_root()
    measurements.write(root, "levers", record)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
