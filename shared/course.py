"""Run the whole course and keep the README's generated tables in step with ``results/``.

python -m shared.course run [NAME ...]   execute notebooks in full mode, in reading order
python -m shared.course readme           rewrite the README's syllabus, results and bench tables
python -m shared.course check-readme     exit 1 when any of those tables is stale
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from . import config, report

TIMINGS = Path("results") / "run-times.json"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"

#: notebook -> what it teaches, for the README's syllabus
SYLLABUS = {
    "00_cnn_concepts": "Convolution, stride, padding, pooling, the layer table, bias and variance",
    "01_keras_sequential": "The network as a Keras `Sequential` stack; `compile` and `fit`",
    "02_keras_functional": "The same with the Keras Functional API: layers called on tensors",
    "03_pytorch_sequential": "PyTorch with `nn.Sequential`; a hand-written training loop",
    "04_pytorch_functional": "PyTorch with `nn.Module` and `torch.nn.functional`",
    "05_tensorflow_raw": "TensorFlow without Keras: variables, `GradientTape`, `tf.function`, Adam",
    "06_fastai": "fastai's `Learner`, callbacks and interpretation around the PyTorch model",
    "07_compare_backends": "All six side by side: accuracy, learning curves, speed",
}


def notebooks(root: Path, names=()) -> list[Path]:
    """The course's notebooks in reading order, optionally only those whose name starts with
    one of ``names`` (e.g. ``03`` or ``03_pytorch_sequential``)."""
    found = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if names:
        found = [nb for nb in found if any(nb.name.startswith(n) for n in names)]
        if not found:
            raise SystemExit(f"No notebook in notebooks/ starts with any of {list(names)}.")
    return found


def execute(path: Path, timeout: int = 3600) -> float:
    """Execute ``path`` top to bottom in full mode and replace it only when every cell ran.

    Returns the wall time. Raises RuntimeError naming the notebook and the failing cell; the
    notebook on disk is then left exactly as it was.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        index = next(
            (
                i
                for i, cell in enumerate(nb.cells)
                if any(o.get("output_type") == "error" for o in cell.get("outputs", []))
            ),
            None,
        )
        where = f"cell {index + 1}" if index is not None else "a cell"
        source = nb.cells[index].source.splitlines()[:3] if index is not None else []
        raise RuntimeError(
            f"{path.name} failed in {where}:\n    "
            + "\n    ".join(source)
            + f"\n{str(err).strip().splitlines()[-1]}\nThe notebook file was left unchanged."
        ) from None
    elapsed = time.perf_counter() - start
    report.write_text_atomic(path, nbformat.writes(nb) + "\n")
    return elapsed


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def run(root: Path, names=()) -> int:
    os.environ[config.FAST_ENV] = "0"
    paths = notebooks(root, names)
    timings_file = root / TIMINGS
    previous = read_timings(root)["seconds"]
    timings = dict(previous)
    course_start = time.perf_counter()
    for number, path in enumerate(paths, 1):
        left = [p.name for p in paths[number - 1 :]]
        known = [previous[n] for n in left if n in previous]
        estimate = f", about {_clock(sum(known))} left" if len(known) == len(left) else ""
        elapsed = time.perf_counter() - course_start
        print(
            f"[{number}/{len(paths)}] {path.name}  (elapsed {_clock(elapsed)}{estimate})",
            flush=True,
        )
        try:
            seconds = execute(path)
        except RuntimeError as err:
            print(f"\nStopped: {err}", file=sys.stderr)
            return 1
        timings[path.name] = round(seconds, 1)
        print(f"      done in {_clock(seconds)}", flush=True)
        record = {"device": config.device_description("cpu"), "seconds": timings}
        report.write_text_atomic(timings_file, json.dumps(record, indent=2) + "\n")
    print("\nWall time per notebook:")
    for path in paths:
        print(f"  {path.name:<36} {_clock(timings[path.name])}")
    print(f"  {'total':<36} {_clock(time.perf_counter() - course_start)}")
    write_readme_tables(root)
    return 0


def read_timings(root: Path) -> dict:
    path = root / TIMINGS
    if not path.is_file():
        return {"device": "", "seconds": {}}
    return json.loads(path.read_text())


# ----------------------------------------------------------------------------- README tables


def _markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- {name}:start (generated by `make readme`; do not edit) -->",
        f"<!-- {name}:end -->",
    )


def results_table(results_dir: Path) -> str:
    """A Markdown table of every ``results/NN_*.json`` written by a backend notebook."""
    rows = []
    for path in sorted(results_dir.glob("[0-9][0-9]_*.json")):
        r = report.read_results(path)
        best_val = max(row["val_accuracy"] for row in r["history"])
        rows.append(
            f"| {r['backend']} | {100 * r['test_accuracy']:.2f}% | {100 * best_val:.2f}% "
            f"| {len(r['history'])} | {r['seconds_per_epoch']:.0f} s "
            f"| {r['images_per_second']:,.0f} | {r['device']} |"
        )
    if not rows:
        return "_No results yet: run `make run`._"
    header = (
        "| Backend | Test accuracy (8,000 images) | Best validation accuracy | Epochs "
        "| Time per epoch | Training images/s | Hardware |\n"
        "|---|---:|---:|---:|---:|---:|---|"
    )
    return header + "\n" + "\n".join(rows)


def syllabus_table(root: Path) -> str:
    """The notebooks in reading order with what they teach, a Colab badge and the measured
    time of the last full run (``results/run-times.json``, written by ``make run``)."""
    timings = read_timings(root)
    rows = []
    for path in notebooks(root):
        seconds = timings["seconds"].get(path.name)
        url = (
            f"https://colab.research.google.com/github/{config.GITHUB_SLUG}/blob/"
            f"{config.GITHUB_BRANCH}/notebooks/{path.name}"
        )
        rows.append(
            f"| [{path.stem}](notebooks/{path.name}) | {SYLLABUS.get(path.stem, '')} "
            f"| [![Open In Colab]({COLAB_BADGE})]({url}) "
            f"| {_clock(seconds) if seconds is not None else 'not measured'} |"
        )
    device = timings["device"] or "not measured yet"
    header = (
        f"| Notebook | What it teaches | Colab | Full run on {device} (min:s) |\n|---|---|---|---:|"
    )
    return header + "\n" + "\n".join(rows)


def _measurement(root: Path, name: str) -> dict | None:
    """``results/<name>.json`` as written by ``make <name>``, or None before the first run."""
    path = root / "results" / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def bench_table(root: Path) -> str:
    """The last ``make bench`` measurement (``results/bench.json``) as a Markdown table."""
    from . import bench

    record = _measurement(root, "bench")
    if record is None:
        return "_Not measured yet: run `make bench`._"
    return (
        f"{bench.table(record['rows'])}\n\n"
        f"Measured on {record['device']}: {record['epochs']} epochs of {record['images']:,} "
        "images each, the fastest after the first counts; validation accuracy after the last. "
        f"Peak: {record['peak_assumptions']}. A 2048 × 2048 fp32 matrix multiply reached "
        f"{record['matmul_gflops']:.0f} GFLOP/s in the same run."
    )


def levers_table(root: Path) -> str:
    """The last ``make levers`` measurement (``results/levers.json``) as a Markdown table."""
    from . import levers

    record = _measurement(root, "levers")
    if record is None:
        return "_Not measured yet: run `make levers`._"
    return (
        f"{levers.table(record['rows'])}\n\n"
        f"Measured on {record['device']}: batches of {record['batch_size']}, lever off and on in "
        f"{record['rounds']} alternating rounds of {record['steps']} steps, the fastest round "
        "of each counting. The second convolution alone, forward and backward, took "
        f"{record['second_convolution_seconds_per_epoch']:.0f} s per 60k epoch in the same run."
    )


TABLES = {
    "syllabus": syllabus_table,
    "results-table": lambda root: results_table(root / "results"),
    "bench-table": bench_table,
    "levers-table": levers_table,
}


def _replace_block(text: str, name: str, body: str) -> str:
    start, end = _markers(name)
    if start not in text or end not in text:
        raise ValueError(f"README.md lacks the markers {start!r} and {end!r}.")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def render_readme(root: Path) -> str:
    text = (root / "README.md").read_text()
    for name, make in TABLES.items():
        text = _replace_block(text, name, make(root))
    return text


def write_readme_tables(root: Path) -> None:
    readme = root / "README.md"
    rendered = render_readme(root)
    if rendered != readme.read_text():
        report.write_text_atomic(readme, rendered)


def readme_is_current(root: Path) -> bool:
    return render_readme(root) == (root / "README.md").read_text()


def main(argv: list[str]) -> int:
    root = config.project_root()
    command, names = (argv[0], argv[1:]) if argv else ("", [])
    if command == "run":
        return run(root, names)
    if command == "readme":
        write_readme_tables(root)
        return 0
    if command == "check-readme":
        if readme_is_current(root):
            return 0
        print("README.md's generated tables are stale: run `make readme`.", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
