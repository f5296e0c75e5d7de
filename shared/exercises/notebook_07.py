"""The exercises of notebook 07 and its questionnaire."""

from __future__ import annotations

from pathlib import Path

from .. import concepts, config, results
from . import speed
from .answers import Refusal, finite_number, short
from .core import (
    Exercise,
    choice,
    make_exercise,
    model_answer,
    number,
    numbered,
    percent,
    solution_code,
)

#: The accuracy a fast re-run (one epoch on 4,096 images) should reach: it only shows it trained.
SEED_RERUN_FAST = (0.5, 1.0)


def _same_numbers(run) -> tuple:
    """What two identical runs share: the history without the seconds, test accuracy and loss."""
    history = [{k: v for k, v in row.items() if k != "seconds"} for row in run["history"]]
    return history, run["test_accuracy"], run["test_loss"]


def exercises(runs=None, bench=None) -> tuple[Exercise, ...]:
    """The checks compare answers with ``runs`` (the results files) and ``bench``."""

    def by_name() -> dict[str, dict]:
        if not runs:
            raise ValueError("no runs to compare with: for_notebook(..., runs=runs)")
        return {run["notebook"]: run for run in runs}

    def check_spread(answer) -> str | None:
        correct = [round(run["test_accuracy"] * run["split"]["test_size"]) for run in runs or []]
        if not correct:
            raise ValueError("no runs to compare with: for_notebook(..., runs=runs)")
        return number(max(correct) - min(correct), why="count the correct images of each")(answer)

    def check_twins(answer) -> str | None:
        names = list(by_name())
        twins = [
            (a, b)
            for i, a in enumerate(names)
            for b in names[i + 1 :]
            if _same_numbers(by_name()[a]) == _same_numbers(by_name()[b])
        ]
        given = sorted(tuple(sorted(pair)) for pair in answer)
        wrong = [pair for pair in given if pair not in twins]
        if wrong:
            return f"{wrong[0][0]} and {wrong[0][1]} do not report the same numbers"
        missing = [pair for pair in twins if pair not in given]
        if missing:
            return (
                f"{len(missing)} pair{'s' if len(missing) > 1 else ''} missing, e.g. {missing[0]}"
            )
        return None

    def check_rerun(answer) -> str | None:
        if not isinstance(answer, (str, Path)):
            raise Refusal(f"expected the path of the re-run's results file, got {short(answer)}")
        path = Path(answer).resolve()
        if not path.is_file():
            return f"there is no file {path}: did the re-run finish and write its results?"
        committed = [config.project_root() / "results", results.COMMITTED_RESULTS]
        if any(path.is_relative_to(folder.resolve()) for folder in committed):
            return (
                "that file is in results/ (or the copy shipped with the package), the committed "
                "full-run results: a re-run must write elsewhere (set FORCE_CNN_RESULTS_DIR)"
            )
        rerun = results.read_results(path)
        if rerun.get("notebook") != "03_pytorch_sequential":
            return (
                f"that is a run of {rerun.get('notebook')!r}: the exercise re-runs "
                "03_pytorch_sequential, to compare with its committed run"
            )
        if rerun["recipe"]["seed"] == config.SEED:
            return (
                f"this run used the course's seed {config.SEED}: change the recipe's seed, which "
                "every random generator of the notebook reads"
            )
        committed = by_name()["03_pytorch_sequential"]
        low, high = SEED_RERUN_FAST if rerun["mode"] == "fast" else results.seed_spread(committed)
        accuracy = rerun["test_accuracy"]
        if not low <= accuracy <= high:
            mode = rerun["mode"]
            span = f"{percent(low)}-{percent(high)}"
            return f"test accuracy {percent(accuracy)} is outside {span} ({mode} mode)"
        return None

    def check_ratios(answer) -> str | None:
        if bench is None:
            return "there is no bench file: run make bench first to write results/bench.json"
        if not isinstance(answer, dict) or not answer:
            return "expected a dict: notebook name -> table's s/epoch divided by the bench's"
        expected = speed.full_run_to_bench_ratios(by_name().values(), bench)
        for name, ratio in answer.items():
            if name not in expected:
                return f"{name!r} is not a backend notebook in both the table and the bench"
            want = expected[name]
            ratio = finite_number(ratio, f"the ratio for {name}")  # NumPy numbers too
            if abs(ratio - want) > 0.01 * want:
                return f"for {name} the ratio is {want:.2f}, not {ratio:.2f}"
        if len(answer) < len(expected):
            return f"{len(expected) - len(answer)} backend(s) missing"
        return None

    return numbered(
        make_exercise(
            "Noise or difference?",
            check_rerun,
            "Every random choice of a backend notebook (initial weights, batch order, dropout, "
            "shifts) follows recipe.seed, and FORCE_CNN_SEED sets it. From a clone of the "
            "course, 'python -m tools.course rerun 03 1' runs notebook 03 in full mode with "
            "seed 1, writes its results to build/seed-1/ and leaves the notebook as it is. On "
            "Colab, where the other notebooks are not next to this one, open 03 and add "
            "os.environ['FORCE_CNN_SEED'] = '1' and os.environ['FORCE_CNN_RESULTS_DIR'] = "
            "'seed-1' to its first code cell after the setup cell, then run it all.",
            solution_code("""
                import subprocess
                import sys

                rerun = [sys.executable, "-m", "tools.course", "rerun", "03", "1"]
                if config.is_fast_mode():  # the course's own tests: a fast re-run will do
                    rerun.append("--fast")
                subprocess.run(rerun, cwd=config.project_root(), check=True)
                answer = config.project_root() / "build" / "seed-1" / "03_pytorch_sequential.json"
                committed = next(r for r in runs if r["notebook"] == "03_pytorch_sequential")
                moved = results.read_results(answer)["test_accuracy"] - committed["test_accuracy"]
                print(f"seed 1 moved the test accuracy by {100 * moved:+.2f} points")
            """),
            "a run with another seed, written outside results/. The course's own seed-1 run "
            "is shipped beside its record (shared/course-results/seed-1/): compare how far "
            "yours and that one moved with the spread of the six in the table. Where the two "
            "are about as large, the differences between frameworks are run-to-run noise.",
        ),
        make_exercise(
            "The spread in images",
            check_spread,
            "An accuracy is the share of correct images: multiply by the 8,000 test images to "
            "count them, for the best and the worst backend.",
            solution_code("""
                correct = [round(run["test_accuracy"] * run["split"]["test_size"]) for run in runs]
                answer = max(correct) - min(correct)
                print(f"{answer} test images between the best and the worst backend")
            """),
            "one image is 0.0125 points, so the table's differences are a handful of digits.",
        ),
        make_exercise(
            "Identical twins",
            check_twins,
            "Compare each pair of runs' history (without the seconds), test accuracy and test "
            "loss; itertools.combinations(runs, 2) gives every pair once.",
            solution_code("""
                from itertools import combinations


                def numbers(run):
                    history = [{k: v for k, v in row.items() if k != "seconds"}
                               for row in run["history"]]
                    return history, run["test_accuracy"], run["test_loss"]


                answer = [(a["notebook"], b["notebook"]) for a, b in combinations(runs, 2)
                          if numbers(a) == numbers(b)]
                print(answer)
            """),
            "the two Keras notebooks, and the two PyTorch notebooks, agree to the last digit: "
            "each pair builds the same layers in the same order from the same seed, so the "
            "initial weights, the batches and every operation are the same. Only the way of "
            "writing the model differs, and it costs nothing.",
        ),
        make_exercise(
            "Table against bench",
            check_ratios,
            "Divide each backend's seconds_per_epoch (the table) by its "
            "seconds_per_60k_epoch in bench['rows'] (the same notebook's code, timed by make "
            "bench).",
            solution_code("""
                bench_seconds = {row["backend"]: row["seconds_per_60k_epoch"]
                                 for row in bench["rows"]}
                answer = {run["notebook"]: run["seconds_per_epoch"] / bench_seconds[run["notebook"]]
                          for run in runs}
                for name, ratio in answer.items():
                    print(f"{name:<24} {ratio:.2f}x")
            """),
            lambda: speed.why_the_ratios(runs, bench),
        ),
    )


_COMMITTED = object()


def questionnaire(bench=_COMMITTED, levers=_COMMITTED) -> list[Exercise]:
    """The questions; 10 and 13 read ``bench`` and ``levers`` (default: the committed files)."""
    bench = speed.committed("bench") if bench is _COMMITTED else bench
    levers = speed.committed("levers") if levers is _COMMITTED else levers
    epoch_tflop = concepts.flops_per_epoch() / 1e12
    items = [
        (
            "Notebooks 01 and 02 report the same losses and accuracies to the last digit. Why? a) "
            "they build the same layers in the same order from the same seed, b) chance, c) 02 "
            "reads 01's results",
            choice(
                "a",
                {
                    "a": "same layers in the same order, same seed: same weights, same arithmetic",
                    "b": "chance: with 8,000 images two runs often agree",
                    "c": "notebook 02 reads notebook 01's results",
                },
            ),
            "Would chance give the same loss to every printed digit, five epochs in a row?",
            model_answer(
                "a: the Sequential and the Functional API build the same graph of layers."
            ),
            "the API is only a way of writing the model.",
            "a",
        ),
        (
            "Besides the framework's API, what can make two runs of the same network and recipe "
            "end differently?",
            None,
            "List what draws random numbers or rounds differently between frameworks.",
            model_answer("""The initial weights (Glorot uniform in Keras and raw TensorFlow, a
                Kaiming-style uniform in PyTorch), the order of the shuffled batches, the
                dropout masks, and small numerical details such as where Adam adds its ε or
                in what order a kernel sums."""),
            "",
            None,
        ),
        (
            "How many percentage points of test accuracy is one of the 8,000 test images?",
            number(0.0125, tolerance=1e-6, unit=" points"),
            "100 / 8,000.",
            model_answer("0.0125 percentage points: a difference of 0.05 points is four images."),
            "0.0125 points.",
            0.0125,
        ),
        (
            "How does Keras initialise the weights of Conv2D and Dense: a) Glorot uniform, b) "
            "Kaiming-style uniform, c) zeros?",
            choice("a", {"a": "Glorot uniform", "b": "Kaiming-style uniform", "c": "zeros"}),
            "The discussion names both.",
            model_answer("a: Glorot uniform weights and zero biases, as raw TensorFlow does here."),
            "Glorot uniform.",
            "a",
        ),
        (
            "What does make bench time? a) a bare training step without the notebook's loop, b) "
            "the notebook's own cells up to its training loop, on 10,240 images, c) the epochs of "
            "the last full run",
            choice(
                "b",
                {
                    "a": "a bare training step, without the notebook's loop",
                    "b": "the notebook's own cells up to its training loop, on fewer images",
                    "c": "the epochs of the last full run",
                },
            ),
            "The bench runs the notebook's cells up to the one tagged 'train'.",
            model_answer(
                "b: 10,240 images for 4 epochs, the fastest epoch after the first counting."
            ),
            "the notebook's own code.",
            "b",
        ),
        (
            "Why does make bench keep each backend's fastest epoch instead of the average?",
            None,
            "What else runs on a shared machine during a measurement?",
            model_answer("""A slow epoch mostly measures the other programs on the machine; the
                fastest is the best estimate of what the code itself can do, as timeit
                reasons. The first epoch is left out because it pays for tracing and memory
                allocation."""),
            "",
            None,
        ),
        (
            "How many TFLOP does one training epoch of 60,000 images cost?",
            number(round(epoch_tflop, 2), tolerance=0.05, unit=" TFLOP"),
            "72 MFLOP per training image, 60,000 images.",
            model_answer(f"{epoch_tflop:.2f} TFLOP = 60,000 × 72 MFLOP."),
            f"{epoch_tflop:.2f} TFLOP.",
            round(epoch_tflop, 2),
        ),
        (
            "A backend trains a thousand images per second. How many GFLOP/s is that?",
            number(72, tolerance=0.5, unit=" GFLOP/s"),
            "The table multiplies images per second by the cost of a training image.",
            model_answer("72 GFLOP/s: 1,000 × 72 MFLOP."),
            "72 GFLOP/s.",
            72,
        ),
        (
            "On the course's CPU, where does a training step spend most of its time: a) the second"
            " convolution, b) the dense layers, c) the optimizer?",
            choice(
                "a",
                {"a": "the second convolution", "b": "the dense layers", "c": "the optimizer"},
            ),
            "Which layer does 88% of the arithmetic?",
            model_answer("a: the second convolution and its gradients; all six hand it to oneDNN."),
            "the second convolution.",
            "a",
        ),
        speed.limit_line_question(bench),
        (
            "Why is a ranking of the frameworks by the table's seconds per epoch unreliable?",
            None,
            "How much did one notebook's identical epochs vary?",
            model_answer("""The table's epoch times come from whole runs on a machine shared with
                other work, so a ranking by that column says more about when each notebook ran
                than about the framework. Even the bench cannot rank them: notebooks 01 and 02,
                which compute exactly the same thing, bench about as far apart as the two
                farthest frameworks."""),
            "",
            None,
        ),
        (
            "What must be the same in all six runs for the comparison to mean something, and where"
            " does this notebook check it?",
            None,
            "See the 'Same experiment?' section.",
            model_answer("""The split (the same indices), the recipe, the mode (full) and the model
                (1,199,882 parameters). results.experiment_mismatches compares every run with
                the course's recipe and with the first run and names any that differs."""),
            "",
            None,
        ),
        speed.fastest_lever_question(levers, bench),
        (
            "How many parameters does each of the six networks have?",
            number(1_199_882),
            "Every backend notebook asserts it.",
            model_answer("1,199,882: 1,199,648 weights and 234 biases."),
            "1,199,882.",
            1_199_882,
        ),
    ]
    return [Exercise(f"quiz[{n}]", *item) for n, item in enumerate(items, 1)]
