"""shared.results: the results file of a full run (schema, reader, writer), the course's two
folders, and what notebook 07 compares."""

import json

import pytest

from shared import catalogue, config, machine, results


def test_results_round_trip(tmp_path, make_results):
    path = results.write_results(tmp_path / "sub" / "03_pytorch_sequential.json", make_results())
    loaded = results.read_results(path)
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
        results.write_results(path, make_results(**changes))
    assert list(tmp_path.iterdir()) == []
    path.write_text(json.dumps(make_results(**changes), default=float))  # written by hand
    with pytest.raises(ValueError, match=message):
        results.read_results(path)


def test_a_results_file_is_named_after_its_notebook(tmp_path, make_results):
    """A run saved under another notebook's name would show one backend twice in 07."""
    copy = tmp_path / "04_pytorch_functional.json"
    copy.write_text(json.dumps(make_results(), default=float))
    with pytest.raises(ValueError, match="written by notebook '03_pytorch_sequential', but named"):
        results.read_results(copy)
    with pytest.raises(ValueError, match="but named 04_pytorch_functional.json"):
        results.write_results(copy, make_results())


def test_precision_is_part_of_the_experiment(tmp_path, make_results):
    write_course_results(
        tmp_path, make_results, **{"03_pytorch_sequential": {"precision": "bfloat16"}}
    )
    problems = results.experiment_mismatches(
        results.load_all_results(tmp_path), reference=make_results()
    )
    assert problems == ["03_pytorch_sequential: precision differs: 'bfloat16' (expected 'float32')"]


def test_only_the_catalogues_files_are_read(tmp_path, make_results):
    write_course_results(tmp_path, make_results)
    (tmp_path / "03_pytorch_sequential (copy).json").write_text("{")
    assert len(results.load_all_results(tmp_path)) == len(catalogue.backend_names())


def test_read_results_errors(tmp_path, make_results):
    with pytest.raises(FileNotFoundError, match="make run"):
        results.read_results(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        results.read_results(tmp_path / "bad.json")
    partial = make_results()
    del partial["history"]
    (tmp_path / "partial.json").write_text(json.dumps(partial, default=float))
    with pytest.raises(ValueError, match=r"missing keys \['history'\]"):
        results.read_results(tmp_path / "partial.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ValueError, match="JSON object"):
        results.read_results(tmp_path / "list.json")


def test_unstorable_values_are_refused(tmp_path, make_results):
    with pytest.raises(TypeError, match="cannot store"):
        path = tmp_path / "03_pytorch_sequential.json"
        results.write_results(path, make_results(recipe={"epochs": 1, "x": object()}))
    assert list(tmp_path.iterdir()) == []


def write_course_results(folder, make_results, **changes_by_notebook):
    for name in catalogue.backend_names():
        record = make_results(notebook=name, **changes_by_notebook.get(name, {}))
        results.write_results(folder / f"{name}.json", record)


def test_load_all_results_in_course_order(tmp_path, make_results):
    write_course_results(tmp_path, make_results)
    runs = results.load_all_results(tmp_path)
    assert [r["notebook"] for r in runs] == list(catalogue.backend_names())
    assert results.experiment_mismatches(runs) == []


def test_load_all_results_names_every_bad_file(tmp_path, make_results):
    write_course_results(tmp_path, make_results)
    (tmp_path / "02_keras_functional.json").unlink()
    (tmp_path / "05_tensorflow_raw.json").write_text("{")
    with pytest.raises(RuntimeError) as err:
        results.load_all_results(tmp_path)
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
    problems = results.experiment_mismatches(results.load_all_results(tmp_path))
    assert problems == [
        "04_pytorch_functional: recipe differs: max_shift=0 (expected None)",
        "06_fastai: mode differs: 'fast' (expected 'full')",
    ]
    with pytest.raises(ValueError, match="no results"):
        results.experiment_mismatches([])


def test_committed_results_live_inside_the_package():
    assert results.COMMITTED_RESULTS.parent.name == "shared"
    assert results.has_all_results(results.COMMITTED_RESULTS)


def test_own_results_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert results.own_results_dir() == tmp_path / "results"  # no course folder: like Colab
    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path / "mine"))
    assert results.own_results_dir() == tmp_path / "mine"


def test_07_shows_your_six_runs_saved_under_the_environment_folder(
    tmp_path, monkeypatch, make_results
):
    """Issue: 07 ignored FORCE_CNN_RESULTS_DIR, so runs saved there never appeared."""
    write_course_results(tmp_path / "mine", make_results, **{"06_fastai": {"backend": "mine"}})
    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path / "mine"))
    comparison = results.load_comparison()
    assert comparison.folder == tmp_path / "mine" and comparison.own_runs == []
    assert comparison.runs[-1]["backend"] == "mine"
    assert comparison.source == "Your own full runs, read from mine/."


def test_07_shows_the_courses_runs_with_yours_beside_them(tmp_path, monkeypatch, make_results):
    mine = tmp_path / "mine"
    results.write_results(mine / "03_pytorch_sequential.json", make_results())
    monkeypatch.setenv(config.RESULTS_ENV, str(mine))
    comparison = results.load_comparison()
    assert comparison.folder == results.COMMITTED_RESULTS
    assert len(comparison.runs) == len(catalogue.backend_names())
    assert [r["backend"] for r in comparison.own_runs] == ["PyTorch (nn.Sequential) (this runtime)"]
    assert "(shared/course-results)" in comparison.source and "mine/ does not" in comparison.source
    assert "mine/ does not hold all six of yours, so your 1 are shown" in comparison.source
    empty = results.load_comparison(tmp_path / "nothing")
    assert empty.own_runs == [] and empty.source.endswith("does not hold all six of yours.")


def test_a_damaged_run_of_yours_is_named_not_skipped(tmp_path, make_results):
    (tmp_path / "03_pytorch_sequential.json").write_text("{")
    with pytest.raises(ValueError, match="03_pytorch_sequential.json is not valid JSON"):
        results.load_comparison(tmp_path)


def test_the_latest_full_run_is_this_machines_own_else_the_record(tmp_path, monkeypatch):
    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path))
    committed = results.read_results(results.COMMITTED_RESULTS / "03_pytorch_sequential.json")
    assert results.latest_full_run("03_pytorch_sequential") == committed  # no own run
    own = dict(committed, test_accuracy=0.5, machine=machine.describe(committed["device"]))
    (tmp_path / "03_pytorch_sequential.json").write_text(results.dumps(own))
    assert results.latest_full_run("03_pytorch_sequential")["test_accuracy"] == 0.5
    for other in (dict(own, mode="fast"), dict(own, machine=dict(own["machine"], cpu="Other"))):
        (tmp_path / "03_pytorch_sequential.json").write_text(results.dumps(other))
        assert results.latest_full_run("03_pytorch_sequential") == committed
