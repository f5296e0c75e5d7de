import dataclasses
import json
import os
import stat

import numpy as np
import pytest

from shared import catalogue, report


def test_per_class_accuracy_table():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 1, 0])
    table = report.per_class_accuracy(y_true, y_pred)
    assert list(table.columns) == ["images", "correct", "errors", "accuracy %"]
    assert table.loc[0, "accuracy %"] == 50.0 and table.loc[1, "accuracy %"] == 100.0
    assert table.loc[2, "errors"] == 1
    assert np.isnan(table.loc[9, "accuracy %"])  # no images of 9: no accuracy, not 0%


def test_confusion_counts():
    counts = report.confusion_counts([0, 1, 1, 9], [0, 1, 2, 9])
    assert counts.sum() == 4 and counts[1, 2] == 1 and counts[9, 9] == 1


@pytest.mark.parametrize(
    "y_true, y_pred, message",
    [
        ([[0, 1]], [0, 1], "1-D"),
        ([0.0, 1.0], [0, 1], "integer"),
        ([0, 10], [0, 1], r"\[0, 9\]"),
        ([0, 1], [0], "equal length"),
        ([], [], "non-empty"),
    ],
)
def test_bad_labels(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        report.confusion_counts(y_true, y_pred)


@pytest.mark.parametrize(
    "train, dev, bayes, verdict",
    [
        (0.01, 0.15, 0.0, "high variance"),
        (0.15, 0.16, 0.0, "high bias (underfitting)"),
        (0.15, 0.30, 0.0, "high bias and high variance"),
        (0.15, 0.30, 0.14, "high variance"),
        (0.005, 0.009, 0.0, "good fit"),
    ],
)
def test_diagnose_worked_cases(train, dev, bayes, verdict):
    result = report.diagnose(train, dev, bayes)
    assert result.verdict.startswith(verdict)
    assert result.avoidable_bias == pytest.approx(train - bayes)
    assert result.variance == pytest.approx(dev - train)
    assert "verdict" in str(result)


@pytest.mark.parametrize("args", [(1.5, 0.1), (0.1, -0.1), (0.1, 0.2, float("nan")), ("x", 0.1)])
def test_diagnose_rejects_non_fractions(args):
    with pytest.raises(ValueError, match="fraction between 0 and 1"):
        report.diagnose(*args)


def test_diagnose_rejects_train_below_bayes():
    with pytest.raises(ValueError, match="Bayes"):
        report.diagnose(0.01, 0.02, 0.05)


def test_results_round_trip(tmp_path, make_results):
    path = report.write_results(tmp_path / "sub" / "03_pytorch_sequential.json", make_results())
    loaded = report.read_results(path)
    assert loaded["parameters"] == 1199882 and loaded["test_loss"] == pytest.approx(0.05)
    assert loaded["precision"] == "float32"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def history_row(**changes):
    row = dict(
        epoch=1, train_loss=0.2, train_accuracy=0.9, val_loss=0.1, val_accuracy=0.97, seconds=4.0
    )
    return {**row, **changes}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"parameters": "many"}, "'parameters' should be int"),
        ({"parameters": True}, "'parameters' should be int"),
        ({"schema": 99}, "schema 99"),
        ({"history": []}, "'history' is empty"),
        ({"history": [{"epoch": 1}]}, "every history row"),
        ({"test_accuracy": 99.1}, "fraction"),
        ({"test_accuracy": float("nan")}, "test_accuracy is nan"),
        ({"history": [history_row(val_accuracy=1.7)]}, "row 1: val_accuracy is 1.7"),
        ({"history": [history_row(seconds=float("nan"))]}, "row 1: seconds is nan"),
        ({"history": [history_row(train_loss="0.2")]}, "train_loss is '0.2'"),
        ({"history": [history_row(epoch=2)]}, "row 1: epoch is 2, expected 1"),
        ({"history": [history_row(), history_row(epoch=2)]}, "2 epochs but the recipe 1"),
        ({"images_per_second": -5.0}, "images_per_second is -5.0, expected a positive"),
        ({"seconds_per_epoch": float("inf")}, "seconds_per_epoch is inf"),
        ({"test_loss": -0.1}, "test_loss is -0.1"),
        ({"precision": "fp8"}, "precision is 'fp8', expected one of"),
        ({"mode": "quick"}, "mode is 'quick'"),
        ({"backend": " "}, "backend is ' ', expected a name"),
        ({"versions": {"torch": 2}}, "versions is"),
        ({"per_class_accuracy": {"0": 0.5}}, "per_class_accuracy"),
        ({"per_class_accuracy": {str(d): 1.5 for d in range(10)}}, "per_class_accuracy"),
        ({"split": {"val_size": 2000}}, r"split\['train_size'\] is None"),
        ({"parameters": 0}, "parameters is 0"),
    ],
)
def test_malformed_results_are_rejected(tmp_path, changes, message, make_results):
    path = tmp_path / "03_pytorch_sequential.json"
    with pytest.raises(ValueError, match=message):
        report.write_results(path, make_results(**changes))
    assert list(tmp_path.iterdir()) == []
    path.write_text(json.dumps(make_results(**changes), default=float))  # written by hand
    with pytest.raises(ValueError, match=message):
        report.read_results(path)


def test_a_results_file_is_named_after_its_notebook(tmp_path, make_results):
    """A run saved under another notebook's name would show one backend twice in 07."""
    copy = tmp_path / "04_pytorch_functional.json"
    copy.write_text(json.dumps(make_results(), default=float))
    with pytest.raises(ValueError, match="written by notebook '03_pytorch_sequential', but named"):
        report.read_results(copy)
    with pytest.raises(ValueError, match="but named 04_pytorch_functional.json"):
        report.write_results(copy, make_results())


def test_precision_is_part_of_the_experiment(tmp_path, make_results):
    write_course_results(
        tmp_path, make_results, **{"03_pytorch_sequential": {"precision": "bfloat16"}}
    )
    problems = report.experiment_mismatches(
        report.load_all_results(tmp_path), reference=make_results()
    )
    assert problems == ["03_pytorch_sequential: precision differs: 'bfloat16' (expected 'float32')"]


def test_only_the_catalogues_files_are_read(tmp_path, make_results):
    write_course_results(tmp_path, make_results)
    (tmp_path / "03_pytorch_sequential (copy).json").write_text("{")
    assert len(report.load_all_results(tmp_path)) == len(catalogue.backend_names())


@pytest.mark.parametrize("mode", [0o644, 0o664, 0o600])
def test_atomic_writes_keep_the_files_permissions(tmp_path, mode):
    path = tmp_path / "README.md"
    path.write_text("old")
    path.chmod(mode)
    report.write_text_atomic(path, "new ×")
    assert path.read_text(encoding="utf-8") == "new ×"
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_atomic_writes_give_a_new_file_the_umasks_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = report.write_atomic(tmp_path / "new.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_unwritable_results_folder_is_caught_before_training(tmp_path, monkeypatch):
    from shared import config

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path / "results"))
    assert report.check_results_writable() == tmp_path / "results"
    monkeypatch.setattr(report.tempfile, "TemporaryFile", refuse)
    with pytest.raises(RuntimeError) as err:
        report.check_results_writable()
    assert str(err.value) == (
        f"Cannot save results in {tmp_path / 'results'} (Permission denied): make it writable "
        f"or set {config.RESULTS_ENV} to a folder you can write to, before training starts."
    )
    (tmp_path / "file").write_text("")
    with pytest.raises(RuntimeError, match="Cannot save results in .*file/results"):
        report.check_results_writable(tmp_path / "file" / "results")
    monkeypatch.setattr(report.tempfile, "mkstemp", refuse)
    with pytest.raises(RuntimeError, match=f"writable, or set {config.RESULTS_ENV}"):
        report.write_results(tmp_path / "03_pytorch_sequential.json", _valid())


def _valid():
    from .conftest import _sample_results

    return _sample_results()


def test_read_results_errors(tmp_path, make_results):
    with pytest.raises(FileNotFoundError, match="make run"):
        report.read_results(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        report.read_results(tmp_path / "bad.json")
    partial = make_results()
    del partial["history"]
    (tmp_path / "partial.json").write_text(json.dumps(partial, default=float))
    with pytest.raises(ValueError, match=r"missing keys \['history'\]"):
        report.read_results(tmp_path / "partial.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ValueError, match="JSON object"):
        report.read_results(tmp_path / "list.json")


def test_unstorable_values_are_refused(tmp_path, make_results):
    with pytest.raises(TypeError, match="cannot store"):
        path = tmp_path / "03_pytorch_sequential.json"
        report.write_results(path, make_results(recipe={"epochs": 1, "x": object()}))
    assert list(tmp_path.iterdir()) == []


def write_course_results(folder, make_results, **changes_by_notebook):
    for name in catalogue.backend_names():
        results = make_results(notebook=name, **changes_by_notebook.get(name, {}))
        report.write_results(folder / f"{name}.json", results)


def test_load_all_results_in_course_order(tmp_path, make_results):
    write_course_results(tmp_path, make_results)
    runs = report.load_all_results(tmp_path)
    assert [r["notebook"] for r in runs] == list(catalogue.backend_names())
    assert report.experiment_mismatches(runs) == []


def test_load_all_results_names_every_bad_file(tmp_path, make_results):
    write_course_results(tmp_path, make_results)
    (tmp_path / "02_keras_functional.json").unlink()
    (tmp_path / "05_tensorflow_raw.json").write_text("{")
    with pytest.raises(RuntimeError) as err:
        report.load_all_results(tmp_path)
    message = str(err.value)
    assert "2 of 6" in message and "02_keras_functional.json" in message
    assert "05_tensorflow_raw.json is not valid JSON" in message and "make run" in message


def test_experiment_mismatches_name_the_run_and_the_setting(tmp_path, make_results):
    write_course_results(
        tmp_path,
        make_results,
        **{
            "04_pytorch_functional": {"recipe": {"epochs": 1, "max_shift": 0}},
            "06_fastai": {"mode": "fast"},
        },
    )
    problems = report.experiment_mismatches(report.load_all_results(tmp_path))
    assert problems == [
        "04_pytorch_functional: recipe differs: max_shift=0 (expected None)",
        "06_fastai: mode differs: 'fast' (expected 'full')",
    ]
    with pytest.raises(ValueError, match="no results"):
        report.experiment_mismatches([])


def test_softmax_and_confident_mistakes():
    logits = np.array([[5.0, 0.0], [0.0, 9.0], [0.0, 1.0], [2.0, 0.0]])
    assert np.allclose(report.softmax(logits).sum(axis=1), 1)
    assert report.most_confident_mistakes(logits, [0, 0, 0, 1]).tolist() == [1, 3, 2]
    with pytest.raises(ValueError, match="logits"):
        report.softmax(np.zeros(3))
    with pytest.raises(ValueError, match="3 labels"):
        report.most_confident_mistakes(logits, [0, 0, 0])


def test_epoch_line(make_results):
    row = make_results()["history"][0]
    assert report.epoch_line(row, 5) == (
        "epoch 1/5  train loss 0.2000 acc 90.00%  |  val loss 0.1000 acc 97.00%  |  40.0 s"
    )
    with pytest.raises(ValueError, match="missing"):
        report.epoch_line({"epoch": 1}, 5)


class FakeSplits:
    train_y = np.zeros(60000)

    def split_info(self):
        return {"train_size": 60000, "val_size": 2000, "test_size": 8000}


def test_collect_and_save_results(tmp_path, monkeypatch):
    from shared import config

    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path))
    history = [
        dict(
            epoch=1,
            train_loss=0.3,
            train_accuracy=0.9,
            val_loss=0.1,
            val_accuracy=0.97,
            seconds=30.0,
        )
    ]
    results = report.collect_results(
        notebook="03_pytorch_sequential",
        backend="PyTorch",
        versions={"torch": "2"},
        device="CPU",
        precision="float32",
        recipe=dataclasses.replace(config.FULL_RECIPE, epochs=1),
        splits=FakeSplits(),
        parameters=1199882,
        history=history,
        test_loss=0.05,
        test_accuracy=0.9,
        y_true=list(range(10)),
        y_pred=[0, 1, 2, 0, 4, 5, 6, 7, 8, 9],
        mode="full",
    )
    assert results["images_per_second"] == 2000.0 and results["seconds_per_epoch"] == 30.0
    assert results["per_class_accuracy"]["3"] == 0.0 and results["per_class_accuracy"]["0"] == 1.0
    path = report.save_results(results)
    assert path == tmp_path / "03_pytorch_sequential.json"
    assert report.read_results(path)["split"]["train_size"] == 60000


def test_good_fit_says_which_gap_is_larger():
    assert "variance" in report.diagnose(0.002, 0.009).advice
    assert "bias" in report.diagnose(0.009, 0.01).advice
