"""The ablation tool, on a tiny synthetic data set: every row trains, and the file has the
fields notebook 07 reads."""

import json
import os

import numpy as np
import pytest

from shared import config, data, measurements
from tools import ablation


def _tiny_splits(count=64):
    rng = np.random.default_rng(0)

    def images(n):
        return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)

    labels = np.arange(count) % 10
    return data.Splits(
        train_x=images(count),
        train_y=labels,
        val_x=images(32),
        val_y=labels[:32],
        test_x=images(32),
        test_y=labels[:32],
        val_indices=np.arange(32),
        test_indices=np.arange(32, 64),
    )


def test_rows_start_at_the_post_and_end_at_the_course():
    rows = ablation.rows()
    first, last = rows[0][1], rows[-1][1]
    assert first == ablation.Settings(False, 256, False, 1e-3, 0)
    recipe = config.FULL_RECIPE
    assert last == ablation.Settings(
        True, recipe.batch_size, True, recipe.peak_learning_rate, recipe.max_shift
    )
    changed = [
        sum(a != b for a, b in zip(dataclass_values(x), dataclass_values(y), strict=True))
        for (_, x), (_, y) in zip(rows, rows[1:], strict=False)
    ]
    assert all(n >= 1 for n in changed), "every row adds a change"


def dataclass_values(settings):
    return list(vars(settings).values())


def test_main_writes_every_row(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data, "load_splits", lambda *args, **kwargs: _tiny_splits())
    output = tmp_path / "ablation.json"
    argv = ["--epochs", "1", "--train-images", "48", "--eval-images", "16", "--seeds", "3,4"]
    assert ablation.main([*argv, "--output", str(output)]) == 0
    record = json.loads(output.read_text())
    assert record["epochs"] == 1 and record["train_images"] == 48 and record["test_images"] == 16
    assert [row["recipe"] for row in record["rows"]] == [label for label, _ in ablation.STEPS]
    assert [row["seeds"] for row in record["rows"]] == [[3, 4]] + [[3]] * 4 + [[3, 4]]
    for row in record["rows"]:
        assert 0 <= row["test_accuracy"] <= 1 and row["test_standard_error"] >= 0
        assert 0 <= row["val_accuracy_mean"] <= row["best_val_accuracy"] <= 1
        for run in row["runs"]:
            assert run["seconds"] > 0 and len(run["history"]) == 1
    assert measurements.problems("ablation", record) == []
    assert record["machine"]["cores"] >= 1 and record["machine"]["libraries"]["torch"]
    assert "wrote" in capsys.readouterr().out


@pytest.fixture
def no_training(monkeypatch):
    """Fails a test if the ablation loads data or trains."""

    def no_work(*args, **kwargs):
        raise AssertionError("the ablation started work despite bad arguments")

    monkeypatch.setattr(data, "load_splits", no_work)
    monkeypatch.setattr(ablation, "train", no_work)


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--epochs", "0"], "must be at least 1"),
        (["--seeds", "-1"], "must be different non-negative integers"),
        (["--seeds", "1,1"], "must be different non-negative integers"),
        (["--seeds", "one"], "must be seeds separated by commas"),
        (["--train-images", "0"], "must be at least 1"),
        (["--epochs", "1"], "must not replace shared/course-results/ablation.json"),
        (["--train-images", "4096"], "give --output"),
        (["--seeds", "1"], "give --output"),
    ],
)
def test_bad_arguments_stop_before_loading_data(argv, says, no_training, capsys):
    with pytest.raises(SystemExit) as stopped:
        ablation.main(argv)
    assert stopped.value.code == 2 and says in capsys.readouterr().err


def test_output_is_checked_before_training(tmp_path, no_training, capsys):
    (tmp_path / "folder.json").mkdir()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    for output, says in [
        (tmp_path / "ablation.txt", "must name a .json file"),
        (tmp_path / "folder.json", "must name a .json file"),
        (locked / "new" / "ablation.json", "is not writable"),
    ]:
        if says == "is not writable" and os.access(locked, os.W_OK):
            continue  # running as root: every folder is writable
        with pytest.raises(SystemExit):
            ablation.main(["--epochs", "1", "--output", str(output)])
        assert says in capsys.readouterr().err


def test_a_short_run_names_the_committed_file_only_in_full(tmp_path):
    args = ablation.argparse.Namespace(
        epochs=ablation.FULL_EPOCHS,
        train_images=None,
        eval_images=None,
        seeds=ablation.SEEDS,
        output=None,
    )
    committed = tmp_path / ablation.COMMITTED
    assert ablation.output_path(args, tmp_path) == committed
    args.output = tmp_path / "shared" / ".." / ablation.COMMITTED
    args.epochs = 1
    with pytest.raises(ValueError, match="must not replace"):
        ablation.output_path(args, tmp_path)
