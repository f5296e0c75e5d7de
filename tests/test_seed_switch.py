"""FORCE_CNN_SEED: another seed for the recipe, and nothing else."""

import dataclasses

import pytest

from shared import config


def test_the_seed_switch_changes_only_the_seed(monkeypatch):
    monkeypatch.delenv(config.FAST_ENV, raising=False)
    monkeypatch.delenv(config.BENCH_ENV, raising=False)
    monkeypatch.setenv(config.SEED_ENV, "1")
    assert config.recipe() == dataclasses.replace(config.FULL_RECIPE, seed=1)
    monkeypatch.setenv(config.FAST_ENV, "1")
    assert config.recipe() == dataclasses.replace(config.FAST_RECIPE, seed=1)
    monkeypatch.delenv(config.SEED_ENV)
    assert config.recipe() == config.FAST_RECIPE


@pytest.mark.parametrize("value", ["-1", "one", "1.5", "1e3"])
def test_a_bad_seed_says_what_it_should_be(monkeypatch, value):
    monkeypatch.setenv(config.SEED_ENV, value)
    with pytest.raises(ValueError, match="FORCE_CNN_SEED=.* must be a non-negative integer"):
        config.recipe()


def test_a_full_run_clears_the_seed_switch():
    assert config.SEED_ENV in config.COURSE_SWITCHES
