"""Notebook 07's speed exercise and questions hold on whatever machine measured last: their
answers come from the committed files, the answer computed from those files is "Correct", and
the untouched state or a typed number is not."""

import json

import pytest

from shared import catalogue, exercises
from shared.exercises import speed
from tools import measurements

from .conftest import ROOT


def committed(name):
    return json.loads((measurements.folder(ROOT) / f"{name}.json").read_text())


def committed_runs():
    return [committed(name) for name in catalogue.backend_names()]


def exercise_4():
    return exercises.for_notebook(
        "07_compare_backends", runs=committed_runs(), bench=committed("bench")
    )[3]


def test_exercise_4_answer_from_the_files_is_correct():
    runs, bench = committed_runs(), committed("bench")
    seconds = {row["backend"]: row["seconds_per_60k_epoch"] for row in bench["rows"]}
    answer = {run["notebook"]: run["seconds_per_epoch"] / seconds[run["notebook"]] for run in runs}
    ok, message = exercise_4().verdict(answer)
    assert ok is True and message.startswith("Correct: the ratios run from"), message
    low, high = min(answer.values()), max(answer.values())
    assert f"{low:.2f} to {high:.2f}" in message
    side = "faster" if high < 1 else "slower" if low > 1 else "some slower"
    assert side in message, "the explanation names the side of 1 the committed ratios fall on"


def test_exercise_4_solution_code_computes_the_answer():
    names = {"runs": committed_runs(), "bench": committed("bench")}
    exec(exercise_4().code, names)
    assert exercise_4().verdict(names["answer"])[0] is True


@pytest.mark.parametrize("typed", [None, {"03_pytorch_sequential": 1.3}, 1.0, {"03_x": 0.7}])
def test_exercise_4_untouched_or_typed_is_not_correct(typed):
    ok, message = exercise_4().verdict(typed)
    assert ok is not True and message.startswith(("Not yet", "Not answered")), message


def test_the_fastest_lever_comes_from_the_files():
    speedups = speed.lever_speedups(committed("levers"), committed("bench"))
    assert set(speedups) == set(speed.LEVER_CHOICES), "every lever of question 13 is measured"
    best = max(speedups, key=speedups.get)
    quiz = exercises.questionnaire("07_compare_backends")
    question = quiz[13]
    assert question.expected == best
    assert question.verdict(best)[1].startswith("Correct")
    for wrong in set(speed.LEVER_CHOICES) - {best}:
        assert question.verdict(wrong)[1].startswith("Not yet")
    assert question.verdict(None)[1].startswith("Not answered")
    assert f"{speedups[best]:.2f}×" in question.solution_text


def test_the_fastest_lever_follows_a_remeasurement():
    levers = {
        "device": "GPU",
        "rows": [
            {"lever": "Keras: no XLA -> jit_compile=True (01, 02)", "speedup": 3.0},
            {"lever": "TensorFlow: eager -> tf.function (05)", "speedup": 2.0},
        ],
    }
    quiz = exercises.questionnaire("07_compare_backends", levers=levers, bench=None)
    assert quiz[13].expected == "a" and quiz[13].verdict("c")[0] is False
    unmeasured = exercises.questionnaire("07_compare_backends", levers=None, bench=None)
    assert unmeasured[13].checker is None and "Not measured yet" in unmeasured[13].solution_text


def test_the_limit_line_answer_names_the_measured_limit():
    bench = committed("bench")
    answer = exercises.questionnaire("07_compare_backends", bench=bench)[10].solution_text
    assert "fastest tuned kernel" in answer
    if "limit_gflops" in bench:  # written by the current bench (after `make bench`)
        assert bench["limit_kernel"] in answer and f"{bench['limit_gflops']:.0f} GFLOP/s" in answer
    else:
        assert "has not measured a limit yet" in answer
