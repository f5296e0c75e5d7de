"""``make bench``: training speed of every backend, measured on its notebook's own code.

For each backend notebook the bench runs the notebook's cells from the top up to and including
its training cell (the one tagged ``train``), in a fresh kernel, with the recipe cut down to
``config.BENCH_EPOCHS`` epochs on ``--images`` training images. The first epoch is warm-up
(graph tracing, allocator, caches); of the timed ones the fastest counts, as ``timeit`` does,
because on a shared machine the other ones measure the neighbours too. The neighbours' load
comes in phases that last minutes, so the whole sequence runs ``--rounds`` times and each
backend keeps its fastest round. An epoch's time includes the 2,000-image validation pass, as
the notebooks' own seconds per epoch do. A plain PyTorch baseline, written the way most
tutorials write it, runs in the same session for a side-by-side ratio.

The reference is a limit that holds: the fastest of several tuned kernels (the fp32 matrix
multiply and the second convolution's forward and backward pass, each in torch and in
TensorFlow: ``tools.kernels``), timed in every round of the same run on the same device. A
training step does the second convolution and slower layers besides, so no backend's rate can
honestly exceed it; the tests fail if one does. An earlier bench compared with the torch matrix
multiply alone, and raw TensorFlow beat it on a CPU whose TensorFlow kernels were faster; a
nominal peak from the reported clock came out below the measured matrix multiply on another.

On a CUDA GPU the notebooks train on the GPU, the baseline too, and every clock is read after
the GPU has finished; the record names the GPU (``shared.machine``).

    python -m tools.bench [--images N] [--rounds N] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from shared import catalogue, concepts, config, machine

from . import kernels, measurements, notebooks
from .tables import markdown_table

BASELINE = "Baseline: PyTorch, ToTensor DataLoader, NCHW, batch 256"
RESULT_MARKER = "BENCH_HISTORY="
MIN_IMAGES, TRAINING_IMAGES = 1024, 60000
PART = Path("build") / "bench-part.json"


def truncated(path: Path):
    """The notebook's cells up to its ``train``-tagged cell, plus one that reports the history."""
    import nbformat
    from nbformat.v4 import new_code_cell

    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if "train" in cell.get("metadata", {}).get("tags", []):
            nb.cells = nb.cells[: index + 1]
            break
    else:
        raise ValueError(f"{path.name} has no cell tagged 'train': the bench cannot find its loop.")
    nb.cells.append(new_code_cell(f"import json; print({RESULT_MARKER!r} + json.dumps(history))"))
    return nb


def measure_notebook(path: Path, images: int, mixed_precision: bool = False) -> dict:
    """The fastest epoch after the warm-up one (``fastest``) on ``images`` images, running the
    notebook's own code up to its training cell, and the validation accuracy after the last."""
    from nbclient import NotebookClient

    nb = truncated(path)
    settings = {config.BENCH_ENV: str(images)}
    if mixed_precision:
        settings[config.MIXED_PRECISION_ENV] = "1"
    NotebookClient(
        nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    ).execute(env=notebooks.kernel_env(settings))  # only these switches, whatever was exported
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    history = json.loads(text.split(RESULT_MARKER, 1)[1])
    return {
        "seconds": fastest([epoch["seconds"] for epoch in history]),
        "images": images,
        "val_accuracy": history[-1]["val_accuracy"],
    }


def autocast_precision() -> str:
    """What the PyTorch notebooks' autocast computes in here: float16 (with loss scaling) on a
    CUDA GPU without bfloat16, such as Colab's T4; bfloat16 everywhere else."""
    import torch

    cuda_without_bf16 = torch.cuda.is_available() and not torch.cuda.is_bf16_supported()
    return "float16" if cuda_without_bf16 else "bfloat16"


def fastest(epoch_seconds: list[float]) -> float:
    """The fastest epoch after the first (warm-up) one."""
    if len(epoch_seconds) < 2:
        raise ValueError(f"need a warm-up epoch and a timed one, got {len(epoch_seconds)} epochs")
    return min(epoch_seconds[1:])


def measure_kernels(windows: int = 3, seconds: float = 1.0) -> dict[str, float]:
    """GFLOP/s of every tuned kernel of ``tools.kernels``, in both frameworks, right now."""
    rates = {}
    for framework in kernels.FRAMEWORKS:
        rates.update(kernels.measure(framework, windows, seconds))
    return {name: rate / 1e9 for name, rate in rates.items()}


def tutorial_loader(digits, labels, batch_size: int):
    """A shuffling DataLoader the way tutorials build one: every uint8 image goes through PIL,
    ``ToTensor`` and ``Normalize`` on its own (what ``torchvision.datasets.MNIST`` does)."""
    import torch
    from PIL import Image
    from torchvision import transforms

    recipe = config.FULL_RECIPE
    to_tensor = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((recipe.pixel_mean,), (recipe.pixel_std,))]
    )

    class PilDigits(torch.utils.data.Dataset):
        def __len__(self):
            return len(labels)

        def __getitem__(self, i):
            return to_tensor(Image.fromarray(digits[i])), int(labels[i])

    return torch.utils.data.DataLoader(PilDigits(), batch_size=batch_size, shuffle=True)


def measure_baseline(images: int, batch_size: int = 256) -> dict:
    """The course's model (built by notebook 03's own model cell) trained the tutorial way:
    ``tutorial_loader``, NCHW, batch 256, default threads, on the GPU when there is one."""
    import torch
    from torch import nn

    from shared import data

    from .kernels import torch_synchronizer

    device = "cuda" if torch.cuda.is_available() else "cpu"
    synchronize = torch_synchronizer(device)
    splits = data.load_splits(train_limit=images)
    loader = tutorial_loader(splits.train_x, splits.train_y, batch_size)
    torch.manual_seed(config.SEED)
    model = notebooks.torch_builder()().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    epoch_seconds = []
    for _ in range(config.BENCH_EPOCHS):
        start = time.perf_counter()
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x.to(device)), y.to(device))
            loss.backward()
            optimizer.step()
        synchronize(loss)
        epoch_seconds.append(time.perf_counter() - start)
    return {"seconds": fastest(epoch_seconds), "images": images}


def row(
    name: str,
    measured: dict,
    limit_gflops: float,
    baseline_seconds: float | None,
    mixed_precision: bool = False,
) -> dict:
    """One backend's row. Its % of the limit compares fp32 with fp32; an autocast row has none,
    because the limit's kernels compute in fp32."""
    images_per_second = measured["images"] / measured["seconds"]
    gflops = images_per_second * concepts.flops_per_image(training=True) / 1e9
    return {
        "backend": name,
        "precision": autocast_precision() if mixed_precision else "float32",
        "images_per_second": images_per_second,
        "seconds_per_60k_epoch": 60000 / images_per_second,
        "gflops": gflops,
        "percent_of_limit": None if mixed_precision else 100 * gflops / limit_gflops,
        "speedup_vs_baseline": (
            baseline_seconds / measured["seconds"] if baseline_seconds else None
        ),
        "val_accuracy": measured.get("val_accuracy"),
    }


def table(rows: list[dict]) -> str:
    def cells(r):
        ratio = f"{r['speedup_vs_baseline']:.2f}×" if r["speedup_vs_baseline"] else "1.00×"
        accuracy = f"{100 * r['val_accuracy']:.2f}%" if r["val_accuracy"] else "–"
        share = r.get("percent_of_limit")  # none in a bench.json written before the limit
        return [
            r["backend"],
            f"{r['images_per_second']:,.0f}",
            f"{r['seconds_per_60k_epoch']:.0f}",
            f"{r['gflops']:.1f}",
            "–" if share is None else f"{share:.0f}%",
            ratio,
            accuracy,
        ]

    header = ["Backend", "Images/s", "s per 60k epoch", "GFLOP/s", "% of limit"]
    header += ["vs baseline", "Validation accuracy"]
    return markdown_table(header, [cells(r) for r in rows])


def caption(record: dict) -> str:
    """What the bench table measured, where, and against which reference."""
    if "kernels" not in record:  # written by the bench before it timed its own limit
        return (
            f"Measured on {machine.where(record)} by an older bench: {record['epochs']} epochs "
            f"of {record['images']:,} images each, the fastest after the first counts, in the "
            f"faster of {record['rounds']} rounds. It timed no limit that holds, so no row is "
            "compared with one; `make bench` measures again."
        )
    rates = ", ".join(f"{name} {rate:.0f}" for name, rate in record["kernels"].items())
    return (
        f"Measured on {machine.where(record)}: {record['epochs']} epochs of "
        f"{record['images']:,} images each, the fastest after the first counts, in the faster "
        f"of {record['rounds']} rounds; validation accuracy after the last. An epoch includes "
        "the 2,000-image validation pass, so scaled to 60,000 training images it counts that "
        f"pass {60000 / record['images']:.1f} times. The limit is the fastest of the tuned "
        f"kernels timed in the same run (GFLOP/s: {rates}): the {record['limit_kernel']}. "
        "% of limit compares each fp32 backend's training rate with it; the bfloat16 row "
        "computes in another precision and has none."
    )


def backend_paths(root: Path, names=(), notebooks_listed=None) -> list[Path]:
    """The backend notebooks to bench, in reading order: all of them, or those named."""
    backends = catalogue.backends(notebooks_listed)
    if names:
        chosen = {catalogue.find(n, notebooks_listed).name for n in names}
        if not chosen <= {nb.name for nb in backends}:
            raise ValueError(f"only backend notebooks can be benched, not {sorted(chosen)}")
        backends = [nb for nb in backends if nb.name in chosen]
    return [root / "notebooks" / nb.file_name for nb in backends]


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[Path]]:
    """The arguments and the notebooks to bench, every one checked before any work starts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10240, help="training images per epoch")
    parser.add_argument(
        "--rounds", type=int, default=2, help="times to measure each backend, minutes apart"
    )
    parser.add_argument(
        "notebooks", nargs="*", help="backend notebook names or numbers (default: all backends)"
    )
    args = parser.parse_args(argv)
    if not MIN_IMAGES <= args.images <= TRAINING_IMAGES:
        parser.error(
            f"--images must be from {MIN_IMAGES:,} (an epoch long enough to time) to "
            f"{TRAINING_IMAGES:,} (MNIST's training images), got {args.images:,}"
        )
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        paths = backend_paths(config.project_root(), args.notebooks)
    except ValueError as err:
        parser.error(str(err))
    return args, paths


def measure_all(runs: list[tuple], images: int, rounds: int) -> tuple[dict, dict]:
    """Each run's fastest round, and each kernel's best GFLOP/s over the rounds."""
    best: dict[str, dict] = {}
    rates: dict[str, float] = {}
    for number in range(1, rounds + 1):
        for name, rate in measure_kernels().items():
            rates[name] = max(rates.get(name, 0.0), rate)
        print(f"round {number}: limit so far {max(rates.values()):.0f} GFLOP/s", flush=True)
        for name, path, mixed_precision in runs:
            if mixed_precision and number > 1:
                continue  # bfloat16 is another experiment, and slow where emulated: once is enough
            if path is None:
                measured = measure_baseline(images)
            else:
                measured = measure_notebook(path, images, mixed_precision=mixed_precision)
            print(f"  {name}: {measured['seconds']:.1f} s", flush=True)
            if name not in best or measured["seconds"] < best[name]["seconds"]:
                best[name] = measured
    return best, rates


def main(argv: list[str]) -> int:
    args, paths = parse(argv)
    print(f"training cost: {concepts.flops_per_image(training=True) / 1e6:.0f} MFLOP per image")
    print(
        f"{args.rounds} rounds; each run: {config.BENCH_EPOCHS} epochs on {args.images:,} images, "
        "the fastest epoch after the first counts, the fastest round too\n",
        flush=True,
    )
    runs = [(BASELINE, None, False)]
    for path in paths:
        runs.append((path.stem, path, False))
        if path.stem.startswith("03_"):
            short = {"bfloat16": "bf16", "float16": "fp16"}[autocast_precision()]
            runs.append((f"{path.stem} + {short} autocast", path, True))
    best, rates = measure_all(runs, args.images, args.rounds)
    limit_kernel, limit_gflops = kernels.limit(rates)
    baseline_seconds = best[BASELINE]["seconds"]
    rows = [
        row(name, best[name], limit_gflops, None if path is None else baseline_seconds, mixed)
        for name, path, mixed in runs
    ]
    print("\n" + table(rows))
    device = notebooks.device_in_use()
    record = {
        "device": device,
        "machine": machine.describe(device),
        "kernels": rates,
        "limit_kernel": limit_kernel,
        "limit_gflops": limit_gflops,
        "images": args.images,
        "epochs": config.BENCH_EPOCHS,
        "rounds": args.rounds,
        "rows": rows,
    }
    write(config.project_root(), record, complete=len(paths) == len(catalogue.backends()))
    return 0


def write(root: Path, record: dict, complete: bool) -> Path:
    """The committed ``bench.json`` for a bench of every backend; ``build/bench-part.json`` for
    a bench of some, so that a quick try never replaces the course's measurement."""
    if complete:
        return measurements.write(root, "bench", record)
    path = root / PART
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"\na bench of part of the course: wrote {PART}, the committed bench.json unchanged")
    return path


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
