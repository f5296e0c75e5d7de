"""requirements.txt (pip) and environment.yml (conda) must name the same packages and ranges."""

import re

import yaml

from .conftest import ROOT

CONDA_NAMES = {"pytorch": "torch"}


def compatible_release_bounds(version: str) -> str:
    """'~=2.21.0' allows >=2.21.0,<2.22; '~=3.15' allows >=3.15,<4."""
    parts = version.split(".")
    upper = parts[:-1]
    upper[-1] = str(int(upper[-1]) + 1)
    return f">={version},<{'.'.join(upper)}"


def pip_requirements() -> dict:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)~=([\d.]+)", line).groups()
            pins[name.lower()] = compatible_release_bounds(version)
    return pins


def conda_requirements() -> dict:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for item in env["dependencies"]:
        if isinstance(item, dict):
            for spec in item["pip"]:
                if "~=" in spec:
                    name, version = spec.split("~=")
                    pins[name.lower()] = compatible_release_bounds(version)
            continue
        name, _, bounds = item.partition(" ")
        if name not in ("python", "pip"):
            pins[CONDA_NAMES.get(name, name).lower()] = bounds.replace(" ", "")
    return pins


def test_every_requirement_is_pinned_compatibly():
    assert len(pip_requirements()) >= 15


def test_requirements_and_environment_agree():
    pip, conda = pip_requirements(), conda_requirements()
    assert sorted(pip) == sorted(conda), "the two files list different packages"
    drifted = {name: (pip[name], conda[name]) for name in pip if pip[name] != conda[name]}
    assert not drifted, f"version ranges differ (pip, conda): {drifted}"


def test_environment_installs_the_helper_package():
    assert "-e ." in (ROOT / "environment.yml").read_text()
