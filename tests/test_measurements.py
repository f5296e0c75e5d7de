"""shared.measurements: every measurement file is read whole, and a file that cannot be used
is one sentence naming it, what is wrong and the command that measures it again."""

import json

import pytest

from shared import catalogue, measurements, runtime

#: Measurements the course ships; the ablation is shown in 07 once `make ablation` has run.
SHIPPED = ["run-times", "bench", "levers", "profile"]


def ablation_record():
    """A complete ablation record as tools.ablation writes it, with made-up results."""
    from tools import ablation

    def one_run(seed):
        return {
            "seed": seed,
            "test_images": 8000,
            "test_accuracy": 0.99,
            "seconds": 1.0,
            "best_val_accuracy": 0.99,
            "history": [{"epoch": 1, "val_accuracy": 0.99}],
        }

    steps = ablation.rows()
    rows = [
        ablation.summarise(
            label,
            settings,
            [one_run(seed) for seed in (ablation.SEEDS if i in (0, len(steps) - 1) else [42])],
        )
        for i, (label, settings) in enumerate(steps)
    ]
    return {
        "device": "CPU: a test",
        "machine": {},
        "backend": "PyTorch",
        "notebook": "03_pytorch_sequential",
        "epochs": 5,
        "train_images": 60000,
        "test_images": 8000,
        "seeds": list(ablation.SEEDS),
        "rows": rows,
    }


def shipped(name):
    if name == "ablation" and not measurements.path_of(name).is_file():
        return ablation_record()
    return json.loads(measurements.path_of(name).read_text())


@pytest.mark.parametrize("name", list(measurements.SPECS))
def test_the_shipped_files_are_complete(name):
    if name not in SHIPPED and not measurements.path_of(name).is_file():
        assert measurements.read(name) is None
        assert measurements.problems(name, shipped(name)) == []  # what the tool writes is read
        return
    assert measurements.read(name) == shipped(name)


def damaged(tmp_path, name, record):
    (tmp_path / f"{name}.json").write_text(json.dumps(record))
    with pytest.raises(ValueError) as err:
        measurements.read(name, tmp_path)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / f'{name}.json'} cannot be used: ")
    assert message.endswith(f"Run `{measurements.COMMANDS[name]}` to measure it again.")
    return message


def test_an_ablation_missing_a_key_is_named(tmp_path):
    """Issue: an ablation.json missing a key crashed notebook 07."""
    record = shipped("ablation")
    del record["seeds"]
    del record["rows"][1]["test_standard_error"]
    message = damaged(tmp_path, "ablation", record)
    assert "'seeds' is missing" in message
    assert "'rows'[1]['test_standard_error'] is missing" in message


def test_a_bench_of_one_backend_is_named(tmp_path):
    record = shipped("bench")
    record["rows"] = [row for row in record["rows"] if row["backend"] == "05_tensorflow_raw"]
    message = damaged(tmp_path, "bench", record)
    missing = [nb for nb in catalogue.backend_names() if nb != "05_tensorflow_raw"]
    assert f"no row for {', '.join(missing)} (a bench of part of the course)" in message


@pytest.mark.parametrize(
    "name, change, expected",
    [
        ("levers", lambda r: r["rows"][0].update(speedup=-1), "'rows'[0]['speedup'] is -1"),
        ("levers", lambda r: r.update(rows=[]), "'rows' should be a non-empty list"),
        ("bench", lambda r: r.update(device=""), "'device' is '', expected a name"),
        ("bench", lambda r: r["rows"][1].update(val_accuracy=98.6), "expected a fraction"),
        ("run-times", lambda r: r["seconds"].update({"03_x.ipynb": 0}), "expected a positive"),
        ("run-times", lambda r: r["seconds"].update({"99_x.ipynb": 1.0}), "not a notebook"),
        ("run-times", lambda r: r.update(seconds=[]), "should be a JSON object"),
        ("ablation", lambda r: r.update(seeds=[42, -1]), "'seeds'[1] is -1, expected a seed >= 0"),
    ],
)
def test_every_value_is_checked(tmp_path, name, change, expected):
    record = shipped(name)
    change(record)
    assert expected in damaged(tmp_path, name, record)


def test_not_json_and_not_there(tmp_path):
    (tmp_path / "levers.json").write_text("{")
    with pytest.raises(ValueError, match="cannot be read as JSON"):
        measurements.read("levers", tmp_path)
    assert measurements.read("bench", tmp_path) is None
    with pytest.raises(ValueError, match="No measurement file 'speed'"):
        measurements.read("speed", tmp_path)


def test_write_checks_first_and_round_trips(tmp_path):
    record = shipped("ablation")
    path = measurements.write("ablation", record, tmp_path)
    assert measurements.read("ablation", tmp_path) == record and path.parent == tmp_path
    del record["rows"]
    with pytest.raises(ValueError, match="Not writing .*'rows' is missing"):
        measurements.write("ablation", record, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_the_setup_cell_reads_run_times_through_the_checked_reader(tmp_path, monkeypatch):
    record = shipped("run-times")
    seconds = record["seconds"]["03_pytorch_sequential.ipynb"]
    assert runtime.full_run_time("03_pytorch_sequential") == (
        f"{runtime.clock(seconds)} (min:s) on {record['device']}"
    )
    monkeypatch.setattr(measurements, "COMMITTED_RESULTS", tmp_path)
    assert runtime.full_run_time("03_pytorch_sequential") is None  # not measured
    del record["seconds"]["01_keras_sequential.ipynb"]
    (tmp_path / "run-times.json").write_text(json.dumps(record))
    assert runtime.full_run_time("01_keras_sequential") is None  # not in the file
    assert runtime.full_run_time("03_pytorch_sequential").startswith(runtime.clock(seconds))
    record["device"] = ""
    (tmp_path / "run-times.json").write_text(json.dumps(record))
    assert runtime.full_run_time("03_pytorch_sequential") is None  # damaged: not shown
