"""shared.report: what a backend notebook reports about its own run (the early check that its
results can be saved, the record it collects and saves, the speed measured for it)."""

import copy
import dataclasses
import errno
import json

import numpy as np
import pytest

from shared import catalogue, config, files, measurements, report, results


def test_unwritable_results_folder_is_caught_before_training(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path / "results"))
    assert report.check_results_writable() == tmp_path / "results"
    monkeypatch.setattr(files.tempfile, "TemporaryFile", refuse)
    with pytest.raises(RuntimeError) as err:
        report.check_results_writable()
    assert str(err.value) == (
        f"Cannot save results in {tmp_path / 'results'} (permission denied): make it writable "
        f"or set {config.RESULTS_ENV} to a folder you can write to, before training starts."
    )
    (tmp_path / "file").write_text("")
    with pytest.raises(RuntimeError, match="Cannot save results in .*file/results"):
        report.check_results_writable(tmp_path / "file" / "results")
    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(RuntimeError, match=f"writable, or set {config.RESULTS_ENV} to another"):
        report.save_results(_valid())


def _valid():
    from .conftest import _sample_results

    return _sample_results()


class FakeSplits:
    train_y = np.zeros(60000)

    def split_info(self):
        return {"train_size": 60000, "val_size": 2000, "test_size": 8000}


def test_collect_and_save_results(tmp_path, monkeypatch):
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
    record = report.collect_results(
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
    assert record["images_per_second"] == 2000.0 and record["seconds_per_epoch"] == 30.0
    assert record["per_class_accuracy"]["3"] == 0.0 and record["per_class_accuracy"]["0"] == 1.0
    path = report.save_results(record)
    assert path == tmp_path / "03_pytorch_sequential.json"
    assert results.read_results(path)["split"]["train_size"] == 60000


def test_a_full_disk_is_caught_before_training(tmp_path, monkeypatch):
    """Issue: the check passed on a full disk, and the failure came only after training."""
    usage = type("Usage", (), {"free": report.RESULTS_FILE_BYTES - 1})
    monkeypatch.setattr(files.shutil, "disk_usage", lambda folder: usage)
    with pytest.raises(RuntimeError) as err:
        report.check_results_writable(tmp_path)
    assert str(err.value) == (
        f"Cannot save results in {tmp_path} (the disk is full): free some space on its disk or "
        f"set {config.RESULTS_ENV} to a folder you can write to, before training starts."
    )


def test_a_full_disk_while_saving_is_one_sentence(tmp_path, monkeypatch):
    def no_space(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path))
    monkeypatch.setattr(files.os, "replace", no_space)
    with pytest.raises(RuntimeError) as err:
        report.save_results(_valid())
    assert str(err.value) == (
        f"Cannot write {tmp_path / '03_pytorch_sequential.json'} (the disk is full): free some "
        f"space on the disk of {tmp_path}, or set {config.RESULTS_ENV} to another folder."
    )


# ----------------------------------------------------------------------------- measured speed


def shipped(name):
    return json.loads(measurements.path_of(name).read_text())


def write_measured(folder, bench=None, levers=None):
    folder.mkdir(exist_ok=True)
    for name, record in (("bench", bench), ("levers", levers)):
        record = shipped(name) if record is None else record
        (folder / f"{name}.json").write_text(json.dumps(record))
    return folder


@pytest.mark.parametrize("notebook", catalogue.backend_names())
def test_each_notebook_sees_its_own_bench_rows_and_its_frameworks_levers(notebook):
    lines = report.speed_lines(notebook)  # the files the package ships, as on Colab
    bench = shipped("bench")
    device = bench["device"]
    assert lines[0] == f"make bench, on {device}:"
    rows = [line for line in lines if line.startswith("  ")]
    assert any(line.startswith(f"  {notebook}: ") for line in rows)
    others = [nb for nb in catalogue.backend_names() if nb != notebook]
    assert not any(line.startswith(f"  {other}") for other in others for line in rows)
    levers = [row["lever"] for row in shipped("levers")["rows"]]
    shown = [lever for lever in levers if any(line.startswith(f"  {lever}:") for line in rows)]
    title = catalogue.find(notebook).title
    if title.startswith("Keras") or title.startswith("TensorFlow"):
        assert not any(lever.startswith("PyTorch") for lever in shown), shown
    if title.startswith("PyTorch"):
        assert all(lever.startswith("PyTorch") for lever in shown), shown


def test_a_lever_is_shown_where_it_names_the_notebook_or_its_framework():
    assert report.lever_notebooks({"lever": "TensorFlow: eager -> tf.function (notebook 05)"}) == (
        "05_tensorflow_raw",
    )
    pytorch = report.lever_notebooks({"lever": "PyTorch: batch 256 -> 128 (all notebooks use 128)"})
    assert pytorch == ("03_pytorch_sequential", "04_pytorch_functional")
    listed = {"lever": "x (03)", "notebooks": ["06_fastai"]}
    assert report.lever_notebooks(listed) == ("06_fastai",)


def test_a_bench_of_one_backend_is_a_sentence_not_a_crash(tmp_path):
    """Issue: a bench of one backend made notebook 07 crash with a KeyError."""
    bench = shipped("bench")
    bench["rows"] = [row for row in bench["rows"] if row["backend"] == "03_pytorch_sequential"]
    folder = write_measured(tmp_path, bench=bench)
    lines = report.speed_lines("03_pytorch_sequential", folder)
    assert lines[0].startswith(f"{folder / 'bench.json'} cannot be used: no row for ")
    assert lines[0].endswith(
        "(a bench of part of the course). Run `make bench` to measure it again."
    )
    assert lines[1].startswith("make levers, on ")


def test_nothing_measured_yet_is_said(tmp_path):
    lines = report.speed_lines("05_tensorflow_raw", tmp_path)
    assert lines == [
        "`make bench` has not been run for this course yet.",
        "`make levers` has not been run for this course yet.",
    ]
    levers = copy.deepcopy(shipped("levers"))
    levers["rows"] = [row for row in levers["rows"] if row["lever"].startswith("PyTorch")]
    folder = write_measured(tmp_path, levers=levers)
    assert report.speed_lines("05_tensorflow_raw", folder)[-1].endswith(
        ": nothing for 05_tensorflow_raw."
    )


def test_measured_speed_prints_the_lines(capsys):
    report.measured_speed("01")
    assert capsys.readouterr().out == "\n".join(report.speed_lines("01")) + "\n"


def test_the_bf16_full_run_is_shown_beside_the_float32_one_in_its_notebook_only(
    tmp_path, monkeypatch
):
    plain = results.read_results(results.COMMITTED_RESULTS / "03_pytorch_sequential.json")
    autocast = dict(plain, precision="bfloat16", test_accuracy=0.9876)
    autocast["history"] = [dict(row, seconds=10.0) for row in plain["history"]]
    autocast["seconds_per_epoch"] = 10.0
    path = tmp_path / "bf16" / "03_pytorch_sequential.json"
    path.parent.mkdir()
    path.write_text(results.dumps(autocast))
    monkeypatch.setattr(results, "BF16_RUN", path)
    lines = report.speed_lines("03_pytorch_sequential")
    assert lines[-2].startswith("make bf16-run, a full run with bfloat16 autocast, on ")
    float32 = f"float32: {100 * plain['test_accuracy']:.2f}%"
    assert lines[-1].startswith(f"  test accuracy 98.76% ({float32}), 10 s per epoch")
    assert not any("bf16-run" in line for line in report.speed_lines("04_pytorch_functional"))
    elsewhere = dict(autocast, machine=dict(plain["machine"], cpu="Another CPU"))
    path.write_text(results.dumps(elsewhere))
    assert (
        report.speed_lines("03_pytorch_sequential")[-1] == "  test accuracy 98.76%, 10 s per epoch"
    )
    monkeypatch.setattr(results, "BF16_RUN", tmp_path / "absent.json")
    assert not any("bf16-run" in line for line in report.speed_lines("03_pytorch_sequential"))
