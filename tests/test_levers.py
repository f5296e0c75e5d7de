import json

import pytest

from shared import config
from tools import levers, measurements


def record_device():
    return config.device_description(levers.torch_device())


def test_ab_seconds_alternates_and_keeps_the_fastest_round():
    calls = []
    off, on = levers.ab_seconds(lambda: calls.append("off"), lambda: calls.append("on"), 2, 2)
    assert calls == ["off", "on", "off", "off", "on", "on", "off", "off", "on", "on"]
    assert 0 <= off < 1 and 0 <= on < 1
    with pytest.raises(ValueError, match="at least 1"):
        levers.ab_seconds(print, print, 0, 1)


def test_ab_seconds_waits_for_the_device_around_every_timed_round():
    calls = []
    levers.ab_seconds(
        lambda: calls.append("off"),
        lambda: calls.append("on"),
        1,
        1,
        synchronize=lambda: calls.append("sync"),
    )
    assert calls == ["off", "on", "sync", "off", "sync", "sync", "on", "sync"]


@pytest.mark.parametrize(
    "lever",
    [levers.torch_channels_last, levers.torch_in_memory_batches, levers.torch_batch_size],
)
def test_torch_levers_time_both_sides(lever):
    off, on = lever(steps=1, rounds=1)
    assert off > 0 and on > 0


def test_second_convolution_is_timed():
    assert 0 < levers.second_convolution(steps=1, rounds=1) < 10


def test_main_writes_a_row_per_lever(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(levers, "LEVERS", {"lever A": lambda steps, rounds: (0.2, 0.1)})
    monkeypatch.setattr(levers, "second_convolution", lambda steps, rounds: 0.064)
    assert levers.main(["--steps", "1", "--rounds", "1"]) == 0
    assert "| lever A | 94 s | 47 s | 2.00× |" in capsys.readouterr().out
    record = json.loads((measurements.folder(tmp_path) / "levers.json").read_text())
    assert record["rows"][0]["speedup"] == 2.0 and record["steps"] == 1
    assert record["second_convolution_seconds_per_epoch"] == 30
    assert record["machine"]["cores"] >= 1 and record["device"] == record_device()
    with pytest.raises(SystemExit):
        levers.main(["--steps", "0"])
