"""The exercise rule, over every check of every notebook: odd answers (NaN, infinities, huge
numbers, wrong types, empty or nested containers, huge arrays) never raise and are never
"Correct", and each refusal is one short sentence."""

import math

import numpy as np
import pytest

from shared import concepts, exercises

from .test_exercises import context

ODD_ANSWERS = [
    0,
    -1,
    -1e9,
    1,
    0.99,
    3e-3,
    math.nan,
    math.inf,
    -math.inf,
    10**400,
    -(10**400),
    True,
    "",
    "abc",
    "z)",
    [],
    (),
    {},
    [None],
    [math.nan, math.nan],
    [[1, 2], [3]],
    [[[math.inf]]],
    {"parameters": math.nan, "weights": []},
    {"parameters": 10**400, "weights": [("w", (math.inf,))]},
    {"val_accuracy": [math.nan]},
    [{"val_accuracy": 0.99}],
    [{"kind": "conv", "filters": 64, "kernel": 4, "stride": 2, "strides": 2}],
    np.full((3, 3), np.nan),
    np.zeros((2000, 10)),
    np.zeros(3_000_000),
    np.array(10.0**300) * 10,
    object(),
]


def every_check():
    for name in exercises.notebooks():
        for exercise in exercises.for_notebook(name, **context(name)):
            yield f"{name}:{exercise.name}", exercise
    for name in ("00_cnn_concepts", "07_compare_backends"):
        quiz = exercises.questionnaire(name)
        for n in range(1, len(quiz) + 1):
            yield f"{name}:quiz[{n}]", quiz[n]


CHECKS = dict(every_check())


@pytest.mark.parametrize("key", list(CHECKS))
def test_odd_answers_are_never_correct_and_never_raise(key):
    exercise = CHECKS[key]
    for answer in ODD_ANSWERS:
        ok, message = exercise.verdict(answer)
        assert ok is not True, (key, answer, message)
        assert "\n" not in message and len(message) < 600, (key, message)
        if exercise.checker is not None:
            assert message.startswith("Not yet: "), (key, message)


@pytest.mark.parametrize("key", list(CHECKS))
def test_the_notebooks_untouched_answer_is_not_correct(key, capsys):
    CHECKS[key].check(None)
    assert CHECKS[key].verdict(...)[0] is None
    assert "Correct" not in capsys.readouterr().out


def test_a_number_in_another_form_is_accepted():
    quiz = exercises.questionnaire("00_cnn_concepts")
    for answer in (26, 26.0, np.int64(26), np.float32(26), np.array(26), np.array([26])):
        assert quiz[2].verdict(answer)[0] is True, answer
    assert quiz[4].verdict(" B) ")[0] is True


def test_a_shape_in_another_form_is_accepted():
    q1 = exercises.for_notebook("04_pytorch_functional")[0]
    shapes = [(32, 26, 26), (64, 24, 24), (64, 12, 12), (9216,), (128,), (10,)]
    for form in (shapes, tuple(shapes), [list(s) for s in shapes], [np.array(s) for s in shapes]):
        assert q1.verdict(form)[0] is True, form


def test_the_layer_dicts_refuse_unknown_keys():
    q3 = exercises.for_notebook("00_cnn_concepts")[2]
    layers = [dict(layer) for layer in concepts.MODEL if layer["kind"] != "maxpool"]
    layers[1] = {"kind": "conv", "filters": 64, "kernel": 4, "stride": 2, "activation": "relu"}
    assert q3.verdict(layers)[0] is True
    layers[1]["strides"] = 2
    ok, message = q3.verdict(layers)
    assert ok is False and "'strides'" in message, message


NOTEBOOK_RUN = [dict(epoch=1, val_accuracy=0.91)]


@pytest.mark.parametrize(("name", "index"), [("01_keras_sequential", 3), ("06_fastai", 2)])
def test_training_checks_refuse_the_notebooks_own_run(name, index, monkeypatch):
    monkeypatch.setenv("FORCE_CNN_FAST", "1")
    check = exercises.for_notebook(name, history=NOTEBOOK_RUN)[index]
    summary = exercises.summary_from_layers(concepts.MODEL)
    summary["layers"].insert(0, ("RandomTranslation", (28, 28, 1)))
    wrap = (lambda h: (summary, h)) if name.startswith("01") else (lambda h: h)
    for own in (NOTEBOOK_RUN, [dict(NOTEBOOK_RUN[0])], {"val_accuracy": [0.91]}, 0.99):
        ok, message = check.verdict(wrap(own))
        assert ok is False, (own, message)
    ok, message = check.verdict(wrap({"val_accuracy": [0.93]}))
    assert ok is True, message


def test_the_logit_checks_of_08_are_two_sided():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(50, 10))
    unordered = reference + rng.normal(size=(50, 10))
    ports = {"PyTorch": reference, "Keras, dense rows not reordered": unordered}
    _, q2, q3, _ = exercises.for_notebook("08_same_network", reference=reference, ports=ports)
    assert q3.verdict(reference)[0] is False  # the notebook's own array
    assert q3.verdict(reference.copy())[0] is True
    assert q3.verdict(reference + 1e-3)[0] is False
    assert q3.verdict(np.full_like(reference, np.nan))[0] is False
    assert q2.verdict(unordered.copy())[0] is False  # the port 08 already shows
    assert q2.verdict(reference + 1e-6)[0] is False
    assert q2.verdict(reference + rng.normal(size=(50, 10)))[0] is True


def test_features_must_give_the_models_logits():
    rng = np.random.default_rng(0)
    kernel, bias = rng.normal(size=(128, 10)), rng.normal(size=10)
    q4 = exercises.for_notebook("04_pytorch_functional", fc2=[kernel, bias])[3]
    features = np.maximum(rng.normal(size=(500, 128)), 0)
    assert q4.verdict((features, features @ kernel + bias))[0] is True
    assert q4.verdict((features, rng.normal(size=(500, 10))))[0] is False
    assert q4.verdict(((500, 128), None))[0] is False


def test_a_scrambled_port_is_not_a_shift_a_constant_or_the_unordered_port():
    rng = np.random.default_rng(1)
    reference = rng.normal(size=(50, 10))
    unordered = reference + rng.normal(size=(50, 10))
    ports = {"PyTorch": reference, "Keras, dense rows not reordered": unordered}
    q2 = exercises.for_notebook("08_same_network", reference=reference, ports=ports)[1]
    for typed in (np.zeros_like(reference), reference + 1, 3 * reference, unordered + 1e-3):
        ok, message = q2.verdict(typed)
        assert ok is False, message
    assert q2.verdict(reference + 2 * rng.normal(size=(50, 10)))[0] is True


def test_the_ratio_check_of_07_reads_numpy_numbers_and_refuses_nan():
    from shared.exercises import speed

    from .test_exercises import raw_runs

    q4 = CHECKS["07_compare_backends:q4"]
    bench = context("07_compare_backends")["bench"]
    right = speed.full_run_to_bench_ratios(raw_runs(), bench)
    assert q4.verdict(right)[0] is True
    assert q4.verdict({name: np.float32(ratio) for name, ratio in right.items()})[0] is True
    for odd in (math.nan, math.inf, 10**400, "1.2", None):
        ok, message = q4.verdict({name: odd for name in right})
        assert ok is False and message.startswith("Not yet: "), (odd, message)


@pytest.mark.parametrize(("name", "index"), [("01_keras_sequential", 3), ("06_fastai", 2)])
def test_a_new_run_trained_into_the_emptied_history_is_accepted(name, index, monkeypatch):
    monkeypatch.setenv("FORCE_CNN_FAST", "1")
    history = [dict(epoch=1, val_accuracy=0.91)]
    check = exercises.for_notebook(name, history=history)[index]
    summary = exercises.summary_from_layers(concepts.MODEL)
    summary["layers"].insert(0, ("RandomTranslation", (28, 28, 1)))
    wrap = (lambda h: (summary, h)) if name.startswith("01") else (lambda h: h)
    assert check.verdict(wrap(history))[0] is False  # untouched: the notebook's own run
    history.clear()  # as the exercise says: empty it, then train the new model into it
    history.append(dict(epoch=1, val_accuracy=0.93))
    ok, message = check.verdict(wrap(history))
    assert ok is True, message


def test_the_layer_dicts_refuse_absurd_sizes():
    q3 = exercises.for_notebook("00_cnn_concepts")[2]
    for key, size in (("filters", 10**30), ("kernel", 0), ("units", -3), ("stride", 2.5)):
        layers = [dict(layer) for layer in concepts.MODEL if layer["kind"] != "maxpool"]
        target = next(layer for layer in layers if key in layer or layer["kind"] == "conv")
        if key == "units":
            target = next(layer for layer in layers if layer["kind"] == "dense")
        target[key] = size
        ok, message = q3.verdict(layers)
        assert ok is False and f"'{key}'" in message and len(message) < 300, message


def test_the_clipped_gradients_come_one_per_variable():
    from shared.exercises.notebook_05 import PARAMETERS, VARIABLE_SHAPES

    q1 = exercises.for_notebook("05_tensorflow_raw")[0]
    rng = np.random.default_rng(0)
    gradients = [rng.normal(size=shape) for shape in VARIABLE_SHAPES]
    norm = np.sqrt(sum(np.sum(g**2) for g in gradients))
    assert q1.verdict((norm, [g / norm for g in gradients]))[0] is True
    flat = np.full(PARAMETERS, 1 / np.sqrt(PARAMETERS))  # unit norm, typed in one line
    ok, message = q1.verdict((3.0, [flat]))
    assert ok is False and "one clipped gradient per variable" in message, message
