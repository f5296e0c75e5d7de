import pytest

from tools import profile


def test_shares_keep_the_largest_items_per_step():
    items = profile.shares({"conv": 6.0, "relu": 1.0, "adam": 3.0}, steps=2, top=2)
    assert [item["name"] for item in items] == ["conv", "adam"]
    assert items[0]["ms_per_step"] == 3000 and items[0]["share"] == pytest.approx(0.6)


@pytest.mark.parametrize(
    "name, op",
    [
        ("gradient_tape/Conv2DBackpropInput:Conv2DBackpropInput", "Conv2DBackpropInput"),
        ("Conv2D_1:Conv2D", "Conv2D"),
        ("ExecutorState::Process", None),
        ("ParallelFor", None),
    ],
)
def test_only_operations_count_in_a_tensorflow_trace(name, op):
    match = profile.OP_EVENT.match(name)
    assert (match.group(1) if match else None) == op


def test_bad_arguments_stop_before_any_work(tmp_path, monkeypatch, capsys):
    def no_work(*args):
        raise AssertionError("profiling started despite bad arguments")

    monkeypatch.setattr(profile, "torch_profile", no_work)
    for argv in (["--steps", "0"], ["--output", str(tmp_path / "profile.txt")]):
        with pytest.raises(SystemExit):
            profile.main(argv)
    assert "--output must name a .json file" in capsys.readouterr().err
