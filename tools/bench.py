"""``make bench``: training speed of every backend, measured on its notebook's own code.

For each backend notebook the bench runs the notebook's cells from the top up to and including
its training cell (the one tagged ``train``), in a fresh kernel, with the recipe cut down to
``config.BENCH_EPOCHS`` epochs on ``--images`` training images. The first epoch is warm-up
(graph tracing, allocator, caches); of the timed ones the fastest counts, as ``timeit`` does,
because on a shared machine the other ones measure the neighbours too. The neighbours' load
comes in phases that last minutes, so the whole sequence runs ``--rounds`` times and each
backend keeps its fastest round. An epoch's time includes the 2,000-image validation pass, as
the notebooks' own seconds per epoch do. A plain PyTorch baseline, written the way most
tutorials write it, runs in the same session for a side-by-side ratio, and a large matrix
multiply shows what the cores deliver to a well-tuned kernel during the run.

The matrix multiply is the only reference the bench reports against. A nominal fp32 peak from
the clock that /proc/cpuinfo reports (cores x GHz x SIMD lanes x 2 FLOP per FMA x FMA units) came
out *below* the measured matrix multiply on the course's machine (157 against 174 GFLOP/s): the
cores run above the reported clock under load, and the boost clock is not reliably visible
inside a virtual machine. A "% of peak" against such a number is inflated, so there is none.

    python -m tools.bench [--images N] [--rounds N] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from shared import catalogue, concepts, config

from . import measurements, notebooks
from .tables import markdown_table

BASELINE = "Baseline: PyTorch, ToTensor DataLoader, NCHW, batch 256"
RESULT_MARKER = "BENCH_HISTORY="


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


def fastest(epoch_seconds: list[float]) -> float:
    """The fastest epoch after the first (warm-up) one."""
    if len(epoch_seconds) < 2:
        raise ValueError(f"need a warm-up epoch and a timed one, got {len(epoch_seconds)} epochs")
    return min(epoch_seconds[1:])


def measure_matmul(size: int = 2048, windows: int = 5, seconds: float = 1.0) -> float:
    """FLOP/s of the best of a few one-second windows of fp32 ``size x size`` matrix
    multiplies: the most this machine gives a well-tuned kernel right now."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    a @ b  # warm-up
    best = 0.0
    for _ in range(windows):
        start, count = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            a @ b
            count += 1
        if device == "cuda":
            torch.cuda.synchronize()
        best = max(best, 2 * size**3 * count / (time.perf_counter() - start))
    return best


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
    ``tutorial_loader``, NCHW, batch 256, default threads, on the CPU."""
    import torch
    from torch import nn

    from shared import data

    splits = data.load_splits(train_limit=images)
    loader = tutorial_loader(splits.train_x, splits.train_y, batch_size)
    torch.manual_seed(config.SEED)
    model = notebooks.torch_builder()()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    epoch_seconds = []
    for _ in range(config.BENCH_EPOCHS):
        start = time.perf_counter()
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)
    return {"seconds": fastest(epoch_seconds), "images": images}


def row(name: str, measured: dict, matmul: float, baseline_seconds: float | None) -> dict:
    images_per_second = measured["images"] / measured["seconds"]
    flops = images_per_second * concepts.flops_per_image(training=True)
    return {
        "backend": name,
        "images_per_second": images_per_second,
        "seconds_per_60k_epoch": 60000 / images_per_second,
        "gflops": flops / 1e9,
        "percent_of_matmul": 100 * flops / matmul,
        "speedup_vs_baseline": (
            baseline_seconds / measured["seconds"] if baseline_seconds else None
        ),
        "val_accuracy": measured.get("val_accuracy"),
    }


def table(rows: list[dict]) -> str:
    def cells(r):
        ratio = f"{r['speedup_vs_baseline']:.2f}×" if r["speedup_vs_baseline"] else "1.00×"
        accuracy = f"{100 * r['val_accuracy']:.2f}%" if r["val_accuracy"] else "–"
        return [
            r["backend"],
            f"{r['images_per_second']:,.0f}",
            f"{r['seconds_per_60k_epoch']:.0f}",
            f"{r['gflops']:.1f}",
            f"{r['percent_of_matmul']:.0f}%",
            ratio,
            accuracy,
        ]

    header = ["Backend", "Images/s", "s per 60k epoch", "GFLOP/s", "% of matmul"]
    header += ["vs baseline", "Validation accuracy"]
    return markdown_table(header, [cells(r) for r in rows])


def caption(record: dict) -> str:
    """What the bench table measured, where, and against which reference."""
    return (
        f"Measured on {record['device']}: {record['epochs']} epochs of {record['images']:,} "
        "images each, the fastest after the first counts; validation accuracy after the last. "
        f"A 2048 × 2048 fp32 matrix multiply reached {record['matmul_gflops']:.0f} GFLOP/s in "
        "the same run: the % of matmul column compares each backend with that practical limit "
        "(not with the hardware's theoretical peak, which this bench does not claim to know)."
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10240, help="training images per epoch")
    parser.add_argument(
        "--rounds", type=int, default=2, help="times to measure each backend, minutes apart"
    )
    parser.add_argument(
        "notebooks", nargs="*", help="backend notebook names or numbers (default: all backends)"
    )
    args = parser.parse_args(argv)
    if args.images < 1024:
        parser.error("--images must be at least 1024 so that an epoch is long enough to time")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    root = config.project_root()
    try:
        paths = backend_paths(root, args.notebooks)
    except ValueError as err:
        parser.error(str(err))
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
            runs.append((f"{path.stem} + bf16 autocast", path, True))
    best: dict[str, dict] = {}
    matmul = 0.0
    for number in range(1, args.rounds + 1):
        matmul = max(matmul, measure_matmul())
        print(f"round {number}: fp32 matrix multiply {matmul / 1e9:.0f} GFLOP/s", flush=True)
        for name, path, mixed_precision in runs:
            if mixed_precision and number > 1:
                continue  # emulated bfloat16 is slow and far from the others; once is enough
            if path is None:
                measured = measure_baseline(args.images)
            else:
                measured = measure_notebook(path, args.images, mixed_precision=mixed_precision)
            print(f"  {name}: {measured['seconds']:.1f} s", flush=True)
            if name not in best or measured["seconds"] < best[name]["seconds"]:
                best[name] = measured
    baseline_seconds = best[BASELINE]["seconds"]
    rows = [
        row(name, best[name], matmul, None if path is None else baseline_seconds)
        for name, path, _ in runs
    ]
    print("\n" + table(rows))
    record = {
        "device": notebooks.device_in_use(),
        "matmul_gflops": matmul / 1e9,
        "images": args.images,
        "epochs": config.BENCH_EPOCHS,
        "rounds": args.rounds,
        "rows": rows,
    }
    measurements.write(root, "bench", record)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
