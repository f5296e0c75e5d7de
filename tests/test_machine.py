"""The machine of record: every measurement file names its machine, and the committed ones
name the same machine."""

import json

from shared import catalogue, machine
from tools import measurements

from .conftest import ROOT

ZEN5_FLAGS = "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_bf16 avx512_vnni\n"
XEON_FLAGS = "flags\t\t: avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n"


def test_cpu_features_from_the_flags():
    assert machine.cpu_features(ZEN5_FLAGS) == {
        "AVX2": True,
        "AVX-512": True,
        "AVX512-BF16": True,
        "AMX": False,
    }
    assert machine.cpu_features(XEON_FLAGS)["AMX"] is True
    assert set(machine.cpu_features("processor : 0\n").values()) == {None}  # no flags: unknown


def test_gpu_from_nvidia_smi(tmp_path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'Tesla T4, 7.5'\n")
    fake.chmod(0o755)
    assert machine.gpu([str(fake)]) == {"name": "Tesla T4", "compute_capability": "7.5"}
    assert machine.gpu([str(tmp_path / "absent")]) in (None, machine.gpu())


def test_describe_records_what_decides_speed(monkeypatch):
    monkeypatch.setattr(
        machine, "gpu", lambda: {"name": "NVIDIA H200", "compute_capability": "9.0"}
    )
    on_cpu, on_gpu = machine.describe("cpu"), machine.describe("GPU: NVIDIA H200")
    assert on_cpu["gpu"] is None and on_gpu["gpu"]["name"] == "NVIDIA H200"
    assert on_cpu["cores"] >= 1 and set(on_cpu["cpu_features"]) == set(machine.SPEED_FEATURES)
    assert "numpy" in on_cpu["libraries"]
    assert "GPU NVIDIA H200 (compute capability 9.0)" in machine.summary(on_gpu)
    assert machine.identity(on_cpu) != machine.identity(on_gpu)


def test_summary_says_what_the_processor_has_and_lacks():
    record = {"cpu": "AMD EPYC", "cores": 2, "cpu_features": machine.cpu_features(ZEN5_FLAGS)}
    assert machine.summary(record) == "AMD EPYC, 2 cores (AVX2, AVX-512, AVX512-BF16; no AMX)"
    record["cpu_features"] = machine.cpu_features("")
    assert machine.summary(record) == "AMD EPYC, 2 cores (instruction-set features unknown)"
    assert machine.where({"device": "CPU: x"}) == "CPU: x (machine not recorded)"


def test_same_machine_names_the_odd_file_out():
    here = {"cpu": "AMD EPYC", "cores": 2, "cpu_features": machine.cpu_features(ZEN5_FLAGS)}
    here["gpu"] = None
    there = {**here, "cpu": "Intel Xeon", "cpu_features": machine.cpu_features(XEON_FLAGS)}
    records = {"a.json": {"machine": here}, "b.json": {"machine": dict(here, libraries={})}}
    assert machine.same_machine(records) == []
    records["c.json"] = {"machine": there}
    records["d.json"] = {"device": "CPU"}
    problems = machine.same_machine(records)
    assert len(problems) == 2
    assert problems[0].startswith("c.json was measured on Intel Xeon") and "a.json" in problems[0]
    assert problems[1].startswith("d.json records no machine")


def committed_measurements() -> dict[str, dict]:
    """Every committed file that holds a time: the backends' full runs, the run times, the
    bench, levers, profile and ablation measurements, and the seed-1 and bfloat16 re-runs of
    notebook 03."""
    names = [*catalogue.backend_names(), "run-times", "bench", "levers", "profile", "ablation"]
    paths = [measurements.folder(ROOT) / f"{name}.json" for name in names]
    paths.append(measurements.folder(ROOT) / "seed-1" / "03_pytorch_sequential.json")
    paths.append(measurements.folder(ROOT) / "bf16" / "03_pytorch_sequential.json")
    return {
        str(path.relative_to(measurements.folder(ROOT))): json.loads(path.read_text())
        for path in paths
        if path.is_file()
    }


def test_every_measurement_is_committed():
    """Every backend's full run, the run times, bench, levers, profile and the seed-1 run (the
    ablation joins them when `make ablation` has run on the same machine)."""
    assert len(committed_measurements()) >= len(catalogue.backend_names()) + 5


def test_committed_measurements_come_from_one_machine():
    """Every committed measurement names its machine, and all name the same one: they are
    measured in one go on one machine by `make measure`."""
    found = committed_measurements()
    unrecorded = sorted(name for name, record in found.items() if "machine" not in record)
    assert not unrecorded, f"no machine record (measure again with make measure): {unrecorded}"
    problems = machine.same_machine(found)
    assert not problems, "\n".join(problems)


def test_native_bfloat16_reads_the_gpu_and_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(machine, "gpu", lambda: {"name": "Tesla T4", "compute_capability": "7.5"})
    monkeypatch.setattr(machine, "cpu_features", lambda: {"AVX512-BF16": False, "AMX": None})
    assert machine.native_bfloat16() is None
    monkeypatch.setattr(machine, "cpu_features", lambda: {"AVX512-BF16": True, "AMX": False})
    assert machine.native_bfloat16() == "CPU with AVX512-BF16"
    monkeypatch.setattr(machine, "gpu", lambda: {"name": "A100", "compute_capability": "8.0"})
    assert machine.native_bfloat16() == "GPU A100"
