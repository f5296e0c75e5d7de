"""Why 99.3% and not the original post's 98.8%: an ablation, in PyTorch.

The original post trained the course's network with Adam at a constant learning rate of 0.001,
batches of 256, pixels scaled to [0, 1] and no augmentation. The course changes five things.
This tool trains notebook 03's ``nn.Sequential`` model with notebook 03's loop, first with the
post's recipe, then with the course's changes added one at a time, each row keeping the changes
above it, so the last row is the course's recipe. Every row trains for the same number of epochs
on the same split. The first and the last row are trained once per seed of ``--seeds`` (three by
default), the rows between them with the first seed only: the seeded rows measure how far a run
moves when only its random numbers change, the yardstick for every step between them.

Recipes are compared on the 2,000 validation images (the mean over seeds of each run's best
validation accuracy), never on the test images, as notebook 00 teaches; the test accuracy of
every run is recorded once, for the final report.

    python -m tools.ablation            # the full ablation: 6 rows, 10 runs of 5 epochs
    python -m tools.ablation --epochs 1 --train-images 4096 --output build/ablation.json

The full ablation takes about as long as ten full runs of notebook 03 (about twenty minutes on
two otherwise idle CPU cores, much longer on a busy machine). It writes ``ablation.json`` of the
course's record (``shared/course-results/``), which notebook 07 shows as a table, with the
machine it ran on. Only the full ablation may write that file: a shortened run (fewer epochs or
images, other seeds) must name its own ``--output``, and every argument is checked before any
data is loaded.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from shared import config, data, files, machine

from . import measurements, notebooks


@dataclasses.dataclass(frozen=True)
class Settings:
    """One row's training recipe: what differs between the post and the course."""

    normalize: bool  # pixels standardised with 0.1307 / 0.3081, or only divided by 255
    batch_size: int
    schedule: bool  # warm-up and cosine decay, or a constant rate
    learning_rate: float  # the constant rate, or the schedule's peak
    max_shift: int  # training images shifted by up to this many pixels every epoch


POST = Settings(normalize=False, batch_size=256, schedule=False, learning_rate=1e-3, max_shift=0)

#: The rows: a label and the change it adds to the row above (the first row is the post's).
STEPS = (
    ("the post's recipe: Adam 0.001, batch 256, pixels in [0, 1], no shift", {}),
    ("+ pixels normalised with 0.1307 / 0.3081", {"normalize": True}),
    ("+ batches of 128", {"batch_size": 128}),
    ("+ warm-up and cosine decay, at the post's peak 0.001", {"schedule": True}),
    ("+ a three times higher peak, 0.003", {"learning_rate": 0.003}),
    ("+ training images shifted by up to 2 pixels (the course)", {"max_shift": 2}),
)


def rows(steps=STEPS) -> list[tuple[str, Settings]]:
    """Each step's label with its cumulative settings."""
    settings, out = POST, []
    for label, change in steps:
        settings = dataclasses.replace(settings, **change)
        out.append((label, settings))
    return out


def device() -> torch.device:
    """A CUDA GPU when there is one, else the CPU (as in notebook 03)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_images(images: np.ndarray, settings: Settings) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28), channels_last as in notebook 03."""
    recipe = config.FULL_RECIPE
    if not settings.normalize:
        recipe = dataclasses.replace(recipe, pixel_mean=0.0, pixel_std=1.0)
    x = torch.from_numpy(data.normalize(images, recipe, channels_last=False))
    return x.to(device()).contiguous(memory_format=torch.channels_last)


@torch.inference_mode()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    model.eval()
    correct = sum(
        (model(x[i : i + batch_size]).argmax(dim=1) == y[i : i + batch_size]).sum().item()
        for i in range(0, len(y), batch_size)
    )
    return correct / len(y)


def train(
    settings: Settings,
    splits: data.Splits,
    epochs: int,
    train_images: int | None = None,
    eval_images: int | None = None,
    seed: int = config.FULL_RECIPE.seed,
) -> dict:
    """Train one row and measure it. ``train_images``/``eval_images`` shorten it (for tests)."""
    recipe = config.FULL_RECIPE
    torch.manual_seed(seed)
    shift_rng = np.random.default_rng(seed)
    order_generator = torch.Generator().manual_seed(seed)
    digits = splits.train_x[:train_images]
    labels = torch.from_numpy(splits.train_y[:train_images]).long().to(device())
    val_x = to_images(splits.val_x[:eval_images], settings)
    val_y = torch.from_numpy(splits.val_y[:eval_images]).long().to(device())
    test_x = to_images(splits.test_x[:eval_images], settings)
    test_y = torch.from_numpy(splits.test_y[:eval_images]).long().to(device())

    model = notebooks.torch_builder("03_pytorch_sequential")()
    model = model.to(device(), memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=settings.learning_rate,
        betas=(recipe.adam_beta1, recipe.adam_beta2),
        eps=recipe.adam_epsilon,
    )
    total_steps = epochs * config.steps_per_epoch(len(labels), settings.batch_size)
    course = dataclasses.replace(recipe, peak_learning_rate=settings.learning_rate)
    scale = (
        (lambda step: config.learning_rate(step, total_steps, course) / settings.learning_rate)
        if settings.schedule
        else (lambda step: 1.0)
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, scale)

    start = time.perf_counter()
    history = []
    for epoch in range(1, epochs + 1):
        train_x = to_images(data.random_shift(digits, settings.max_shift, shift_rng), settings)
        model.train()
        order = torch.randperm(len(labels), generator=order_generator)
        for first in range(0, len(labels), settings.batch_size):
            index = order[first : first + settings.batch_size].to(device())
            loss = F.cross_entropy(model(train_x[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        history.append({"epoch": epoch, "val_accuracy": accuracy(model, val_x, val_y)})
    test_accuracy = accuracy(model, test_x, test_y)
    return {
        "test_accuracy": test_accuracy,
        "test_standard_error": math.sqrt(test_accuracy * (1 - test_accuracy) / len(test_y)),
        "best_val_accuracy": max(row["val_accuracy"] for row in history),
        "history": history,
        "seconds": time.perf_counter() - start,
    }


SEEDS = (config.FULL_RECIPE.seed, 1, 2)  # the first is the course's seed


def summarise(label: str, settings: Settings, runs: list[dict]) -> dict:
    """One row of the record: its runs and their mean and range over seeds."""
    val = [run["best_val_accuracy"] for run in runs]
    test = [run["test_accuracy"] for run in runs]
    mean_test = sum(test) / len(test)
    test_images = runs[0]["test_images"]
    return {
        "recipe": label,
        "settings": dataclasses.asdict(settings),
        "seeds": [run["seed"] for run in runs],
        "val_accuracy_mean": sum(val) / len(val),
        "val_accuracy_range": max(val) - min(val),
        "test_accuracy": mean_test,
        "test_standard_error": math.sqrt(mean_test * (1 - mean_test) / test_images),
        "best_val_accuracy": max(val),
        "runs": runs,
    }


def run(
    epochs: int = 5,
    train_images: int | None = None,
    eval_images: int | None = None,
    seeds: tuple[int, ...] = SEEDS,
    steps=STEPS,
) -> dict:
    """Every row of the ablation, printed as it finishes; the record ``main`` writes. The
    first and last rows train once per seed, the others with ``seeds[0]``."""
    splits = data.load_splits()
    device_name = config.device_description(device().type)
    record = {
        "device": device_name,
        "machine": machine.describe(device_name),
        "backend": "PyTorch, notebook 03's model and loop",
        "notebook": "03_pytorch_sequential",  # whose full run the last row repeats
        "torch": torch.__version__,
        "epochs": epochs,
        "train_images": len(splits.train_y[:train_images]),
        "test_images": len(splits.test_y[:eval_images]),
        "seeds": list(seeds),
        "selection": "mean over seeds of each run's best validation accuracy",
        "rows": [],
    }
    all_rows = rows(steps)
    for position, (label, settings) in enumerate(all_rows):
        row_seeds = seeds if position in (0, len(all_rows) - 1) else seeds[:1]
        runs = []
        for seed in row_seeds:
            result = train(settings, splits, epochs, train_images, eval_images, seed)
            runs.append({"seed": seed, "test_images": len(splits.test_y[:eval_images]), **result})
        row = summarise(label, settings, runs)
        record["rows"].append(row)
        print(
            f"{label:<60} validation {100 * row['val_accuracy_mean']:.2f}% "
            f"(range {100 * row['val_accuracy_range']:.2f}, {len(runs)} seed(s))  "
            f"({sum(r['seconds'] for r in runs) / 60:.1f} min)",
            flush=True,
        )
    return record


FULL_EPOCHS = 5
COMMITTED = measurements.COMMITTED / "ablation.json"  # the course's record


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be seeds separated by commas, e.g. 42,1,2; got {text!r}"
        ) from None
    if any(seed < 0 for seed in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(
            f"must be different non-negative integers, e.g. 42,1,2; got {text!r}"
        )
    return seeds


def output_path(args: argparse.Namespace, root: Path) -> Path:
    """Where this run may write, checked before any data is loaded or any row trains.

    Only the full ablation (every image, the default epochs and seed) writes the committed
    ``ablation.json``; a shortened run must name its own ``--output``, so that a quick
    try never replaces the measurement notebook 07 shows. Raises ValueError saying why not."""
    full = (
        args.epochs == FULL_EPOCHS
        and args.train_images is None
        and args.eval_images is None
        and args.seeds == SEEDS
    )
    committed = (root / COMMITTED).resolve()
    output = (args.output or root / COMMITTED).expanduser().resolve()
    if output == committed and not full:
        raise ValueError(
            f"a shortened ablation (--epochs, --train-images, --eval-images or --seeds changed) "
            f"must not replace {COMMITTED}: give --output, e.g. --output build/ablation.json"
        )
    if output.suffix != ".json" or output.is_dir():
        raise ValueError(f"--output must name a .json file, got {output}")
    folder = next(parent for parent in output.parents if parent.exists())
    if not os.access(folder, os.W_OK):
        raise ValueError(f"--output {output}: {folder} is not writable; choose another folder")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.ablation", description=__doc__)
    parser.add_argument("--train-images", type=_positive, default=None, help="default: all")
    parser.add_argument(
        "--eval-images", type=_positive, default=None, help="validation and test images"
    )
    parser.add_argument("--epochs", type=_positive, default=FULL_EPOCHS)
    parser.add_argument(
        "--seeds",
        type=_seeds,
        default=SEEDS,
        help="seeds of the first and last rows, the first also for the others (default: "
        + ",".join(map(str, SEEDS))
        + ")",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help=f"default (the full ablation only): {COMMITTED}"
    )
    args = parser.parse_args(argv)
    try:
        output = output_path(args, config.project_root())
    except ValueError as err:
        parser.error(str(err))
    output.parent.mkdir(parents=True, exist_ok=True)
    record = run(args.epochs, args.train_images, args.eval_images, args.seeds)
    if output == (config.project_root() / COMMITTED).resolve():
        measurements.write(config.project_root(), "ablation", record)  # checked whole
    else:
        files.write_text_atomic(output, json.dumps(record, indent=2) + "\n")
        print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
