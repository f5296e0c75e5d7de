"""Notebook 07's speed questions, answered from the measurement files.

Every speed figure moves with the machine, so nothing here is typed in: the answers of
exercise 4 and of questions 10 and 13 are computed from the files the course committed (or the
ones notebook 07 passes), and hold on whatever machine measured them last.
"""

from __future__ import annotations

from .. import concepts, machine, measurements, results
from .core import choice, model_answer


def full_run_to_bench_ratios(runs, bench) -> dict[str, float]:
    """Each backend's full-run seconds per epoch divided by its bench seconds per 60k epoch."""
    bench_seconds = {row["backend"]: row["seconds_per_60k_epoch"] for row in bench["rows"]}
    return {
        run["notebook"]: run["seconds_per_epoch"] / bench_seconds[run["notebook"]]
        for run in runs
        if run["notebook"] in bench_seconds
    }


def why_the_ratios(runs, bench) -> str:
    """What the committed ratios show, and why, whichever side of 1 they fall on."""
    if not runs or bench is None:
        return "the ratios, once both the full runs and the bench are there."
    ratios = full_run_to_bench_ratios(runs, bench)
    low, high = min(ratios.values()), max(ratios.values())
    side = (
        "every full run was faster per epoch than its bench figure"
        if high < 1
        else "every full run was slower per epoch than its bench figure"
        if low > 1
        else "some full runs were faster per epoch than their bench figure, some slower"
    )
    return (
        f"the ratios run from {low:.2f} to {high:.2f}: {side}. Both time the notebook's own "
        "cells, loop and validation included, but not the same epochs. The bench's figure "
        f"scales a short epoch of {bench['images']:,} images to 60,000, so it counts the "
        f"2,000-image validation pass {60000 / bench['images']:.1f} times over (which pushes a "
        "ratio below 1); the table averages every epoch of a full run, the first one with its "
        "tracing and allocation included, on a machine whose speed moves in phases (which "
        "pushes it above 1)."
    )


#: The levers question 13 offers: letter -> (name, how its row in levers.json names it).
LEVER_CHOICES = {
    "a": ("XLA (jit_compile)", "jit_compile"),
    "b": ("torch.compile", "torch.compile"),
    "c": ("tf.function", "tf.function"),
    "d": ("bfloat16 autocast", None),  # a row of bench.json: notebook 03 with and without it
}


def committed(name: str):
    """Measurement ``name`` of the course's own record, or None before it was measured."""
    return measurements.read(name, results.COMMITTED_RESULTS)


def lever_speedups(levers, bench) -> dict[str, float]:
    """Letter of LEVER_CHOICES -> the speed-up the files give it (the measured ones only)."""
    speedups = {}
    for letter, (_, key) in LEVER_CHOICES.items():
        rows = [row for row in (levers or {}).get("rows", []) if key and key in row["lever"]]
        if rows:
            speedups[letter] = rows[0]["speedup"]
    seconds = {
        row["backend"]: row["seconds_per_60k_epoch"] for row in (bench or {}).get("rows", [])
    }
    fp32 = "03_pytorch_sequential"
    # "+ bf16 autocast", or "+ fp16 autocast" on a GPU without bfloat16
    autocast = [name for name in seconds if name.startswith(f"{fp32} + ")]
    if fp32 in seconds and autocast:
        speedups["d"] = seconds[fp32] / seconds[autocast[0]]
    return speedups


def fastest_lever_question(levers, bench) -> tuple:
    """Question 13, its answer taken from levers.json and bench.json."""
    options = {letter: name for letter, (name, _) in LEVER_CHOICES.items()}
    speedups = lever_speedups(levers, bench)
    question = (
        "Which of these speed levers gave the largest speed-up on the machine of record, "
        "according to results of make levers and make bench: a) XLA (jit_compile), b) "
        "torch.compile, c) tf.function, d) bfloat16 autocast?"
    )
    hint = "The levers table's speed-up column, and the bench's two rows of notebook 03."
    if not speedups:
        answer = model_answer("Not measured yet: make levers and make bench measure it.")
        return question, None, hint, answer, "", None
    best = max(speedups, key=speedups.get)
    measured = ", ".join(f"{options[k]} {v:.2f}×" for k, v in sorted(speedups.items()))
    where = machine.where(levers or bench)
    answer = model_answer(
        f"{best}: on {where}, {measured}. Every one of these figures moves with the "
        "processor: XLA and torch.compile trade a compilation for fused kernels, tf.function "
        "saves Python's dispatch of every operation, and bfloat16 pays only where the hardware "
        "computes it natively."
    )
    why = {k: f"'{k}' ({options[k]}) gave {v:.2f}×, not the most" for k, v in speedups.items()}
    return question, choice(best, options, why), hint, answer, f"{options[best]}.", best


def limit_line_question(bench) -> tuple:
    """Question 10, its model answer taken from bench.json."""
    question = (
        "What does the dashed line in the speed chart stand for, and why can no backend reach it?"
    )
    if bench is None or "limit_gflops" not in bench:
        measured = "make bench has not measured a limit yet, so the chart draws no line"
    else:
        seconds = concepts.flops_per_epoch() / (bench["limit_gflops"] * 1e9)
        measured = (
            f"on {machine.where(bench)}: the {bench['limit_kernel']}, "
            f"{bench['limit_gflops']:.0f} GFLOP/s, an epoch in {seconds:.0f} s"
        )
    answer = model_answer(
        f"""The time an epoch's {concepts.flops_per_epoch() / 1e12:.1f} TFLOP would take at
        the rate of the fastest tuned kernel make bench timed in the same run ({measured}).
        A training step does that kernel's work and slower layers besides (the small first
        convolution, ReLU, pooling, dropout, the dense layers, the optimizer), so it stays
        below; the chart draws the line only when the bench and the full runs come from the
        same machine."""
    )
    return (
        question,
        None,
        "It comes from results/bench.json: limit_kernel and limit_gflops.",
        (answer),
        "",
        None,
    )
